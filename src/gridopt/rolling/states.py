"""The state a window leaves, and the water on its way down a cascade (volumes count it where windows meet)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..formulation.context import State
from ..network import Network
from ..results import Result
from ..units import HM3_PER_M3S_HOUR

if TYPE_CHECKING:
    from .windows import Window


def pivot(res: Result, table: str, index: str, col: str) -> pd.DataFrame:
    """`col` of a result table as hour x element (empty where the table is)."""
    df = res.tables[table]
    if not len(df):
        return pd.DataFrame()
    return df.pivot(index="hour", columns=index, values=col)


def water_path(net: Network, result: Result) -> pd.DataFrame:
    """Each reservoir's water at the end of every hour of an hourly `result` (hm3, hour x reservoir): its
    volume plus what is on its way in from upstream (released in the last `delay_hours`; before the first
    hour, only what the result released). A path to guide rolling windows: `dispatch_rolling(volumes=)`."""
    hy = result.tables["hydro"]
    vol = hy.pivot(index="hour", columns="reservoir", values="volume_hm3")
    out = hy.pivot(index="hour", columns="reservoir", values="release_m3s") \
        + hy.pivot(index="hour", columns="reservoir", values="spill_m3s")
    return vol.add(in_transit(net, out), fill_value=0.0)[vol.columns]


def transit(net: Network, outflow: pd.DataFrame | None) -> dict[str, float]:
    """Water on its way to each reservoir (hm3) after the last row of `outflow` (upstream outflow, m3/s, rows
    in time order)."""
    if outflow is None or not len(outflow):
        return {}
    return in_transit(net, outflow).iloc[-1].to_dict()


def in_transit(net: Network, outflow: pd.DataFrame) -> pd.DataFrame:
    """Water on its way to each reservoir (hm3) after every row of `outflow` (upstream outflow, m3/s, rows in
    time order): each upstream reservoir's last `delay_hours` rows (fewer at the start)."""
    res = net.active("reservoirs")
    out = pd.DataFrame(index=outflow.index)
    for u, (d, delay) in res[["downstream", "delay_hours"]].iterrows():
        n = int(np.rint(delay))
        if d in res.index and n > 0 and u in outflow.columns:
            part = outflow[u].rolling(n, min_periods=1).sum() * HM3_PER_M3S_HOUR
            out[d] = out[d] + part if d in out else part
    return out


def per_storage(node_inventory: pd.Series, gs: pd.DataFrame) -> dict[str, float]:
    """A gas node's inventory (Mm3) shared out to its storages in proportion to working-gas capacity."""
    cap = gs["working_gas_mm3"]
    share = cap / cap.groupby(gs["node"]).transform("sum")
    return {s: float(node_inventory.get(gs.at[s, "node"], 0.0) * share[s]) for s in gs.index}


def state_after(net: Network, r: Result, w: Window, gs: pd.DataFrame) -> State:
    """The state at the end of the window's kept hours, for the next window (`gs`: the gas storages)."""
    last = w.start + pd.Timedelta(hours=w.keep - 1)
    t = r.tables
    st = State()
    hy = t["hydro"]
    if len(hy):
        at = hy[hy["hour"] == last].set_index("reservoir")
        st.volume_hm3 = at["volume_hm3"].to_dict()
        kept = hy[hy["hour"] <= last]
        out = (kept["release_m3s"] + kept["spill_m3s"]).groupby([kept["hour"], kept["reservoir"]]).sum().unstack()
        max_delay = int(net.active("reservoirs")["delay_hours"].max() or 0)
        st.outflow_m3s = out.iloc[-max_delay:] if max_delay else None
    if len(t["storage"]):
        st.soc_mwh = t["storage"][t["storage"]["hour"] == last].set_index("unit")["soc_mwh"].to_dict()
    g = t["generation"]
    gl = g[g["hour"] == last].set_index("unit")
    st.p_mw = gl["p_mw"].to_dict()
    st.committed_mw = gl["committed_mw"].dropna().to_dict()
    if len(gs) and len(t["gas"]):
        st.gas_inventory_mm3 = per_storage(t["gas"][t["gas"]["hour"] == last].set_index("node")["inventory_mm3"], gs)
    return st
