"""The grid of a PyPSA CSV folder as gridopt tables: buses, lines, transformers and links.

Standard types (`pypsa_types`) set the reactances of typed lines and transformers; phase shifts that only
rotate bus angles are dropped, any other is refused; names shared by a line, a transformer or a link are
qualified by kind. The mapping of each attribute is listed in `pypsa_in`.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from .common import warn
from .pypsa_costs import CostReader
from .pypsa_types import line_values, transformer_values, type_table

DEFAULT_REGION = "pypsa"


class GridReader(CostReader):
    """A PyPSA folder reader that maps buses and branches."""

    def buses(self) -> tuple[pd.DataFrame, list[str]]:
        b = self.static["buses"]
        region = pd.Series(DEFAULT_REGION, index=b.index, dtype=object)
        for attr in ("region", "country"):
            if attr in b.columns:
                vals = self.col("buses", attr, "")
                region = vals.where(vals != "", DEFAULT_REGION)
                break
        x, y = self.col("buses", "x", 0.0), self.col("buses", "y", 0.0)
        placed = (x > 0) & ((x != 0) | (y != 0))
        out = pd.DataFrame({"name": b.index, "region": region.to_numpy(), "v_nom": self.col("buses", "v_nom", 1.0),
                            "x": x.where(placed, np.nan), "y": y.where(placed, np.nan)})
        regions = sorted(r for r in set(region) if r != "external")
        self.bus_carrier = self.col("buses", "carrier", "AC")
        return out.reset_index(drop=True), regions

    def lines(self, buses: pd.DataFrame) -> pd.DataFrame:
        ln = self.static["lines"]
        dc = self.col("lines", "bus0", "").map(self.bus_carrier).fillna("AC").eq("DC")
        x, r = self.col("lines", "x", 0.0), self.col("lines", "r", 0.0)
        length = self.col("lines", "length", 0.0)
        typed = self.col("lines", "type", "").ne("")
        if typed.any():  # a standard type sets x and r from the length; s_nom stays the line's own
            v = line_values(self.types("lines", typed), self.col("lines", "type", "")[typed], length[typed],
                            self.col("lines", "num_parallel", 1.0)[typed])
            x, r = x.where(~typed, v["x"].reindex(x.index)), r.where(~typed, v["r"].reindex(r.index))
        x = x.where(~dc, r)
        return pd.DataFrame({"name": ln.index, "bus0": self.col("lines", "bus0", ""),
                             "bus1": self.col("lines", "bus1", ""), "x": x, "s_nom": self.col("lines", "s_nom", 0.0),
                             "s_max_pu": self.col("lines", "s_max_pu", 1.0), "carrier": self.line_carriers(),
                             "length_km": length.where(length > 0, np.nan), **self.expansion("lines")}
                            ).reset_index(drop=True)

    def line_carriers(self) -> pd.Series:
        """A line's carrier as PyPSA's optimisation reads it: its own, else its bus0's (AC by default)."""
        own = self.col("lines", "carrier", "")
        return own.where(own != "", self.col("lines", "bus0", "").map(self.bus_carrier).fillna("AC").replace("", "AC"))

    def transformers(self) -> pd.DataFrame:
        t = self.static["transformers"]
        c = lambda a, d: self.col("transformers", a, d)
        x, s_nom, tap, shift = c("x", 0.0), c("s_nom", 0.0), c("tap_ratio", 1.0), c("phase_shift", 0.0)
        typed = c("type", "").ne("")
        if typed.any():  # a standard type sets x, s_nom, the tap ratio and the phase shift
            v = transformer_values(self.types("transformers", typed), c("type", "")[typed],
                                   c("tap_position", 0.0)[typed], c("num_parallel", 1.0)[typed]).reindex(t.index)
            x, s_nom = x.where(~typed, v["x"]), s_nom.where(~typed, v["s_nom"])
            tap, shift = tap.where(~typed, v["tap_ratio"]), shift.where(~typed, v["phase_shift"])
        exp = self.expansion("transformers")
        for name in t.index[exp["s_nom_extendable"] & (s_nom == 0)]:  # PyPSA's x_pu = x / s_nom is infinite
            self.refuse("transformers", name, "s_nom",
                        "0 on an extendable transformer: its reactance x / s_nom is taken at the existing "
                        "s_nom, which must be > 0")
        return pd.DataFrame({"name": t.index, "bus0": c("bus0", ""), "bus1": c("bus1", ""), "x": x,
                             "s_nom": s_nom, "s_max_pu": c("s_max_pu", 1.0), "tap_ratio": tap,
                             "phase_shift": shift, **exp}).reset_index(drop=True)

    def types(self, comp: str, typed: pd.Series) -> pd.DataFrame:
        """The standard types `comp` uses (see pypsa_types); unknown types are refused."""
        table = type_table(comp, self.folder)
        names = self.col(comp, "type", "")[typed]
        for name, kind in names[~names.isin(table.index)].items():
            self.refuse(comp, name, "type", f"{kind!r}: not a type of the folder's {comp[:-1]}_types.csv "
                                            "nor of the installed pypsa package's standard types")
        return table

    def check_phase_shifts(self, lines: pd.DataFrame, transformers: pd.DataFrame) -> None:
        """Phase shifts that only rotate bus angles are dropped; any other is refused.

        PyPSA adds each transformer's phase shift to Kirchhoff's voltage law around every cycle. When
        there are bus angles phi with shift = phi(bus0) - phi(bus1) on every AC branch (0 on lines), every
        cycle's shifts sum to zero and the flows are those of the network without shifts (the usual case:
        transformers of one vector group between two voltage levels).
        """
        shift = transformers.pop("phase_shift").to_numpy(dtype=float)
        if not np.any(shift != 0):
            return
        edges: dict[str, list[tuple[str, float, str]]] = {}
        branches = [(r.bus0, r.bus1, 0.0, f"line {r.name}") for r in lines.itertuples()] \
            + [(b0, b1, s, f"transformer {n}") for b0, b1, s, n in
               zip(transformers["bus0"], transformers["bus1"], shift, transformers["name"])]
        for b0, b1, s, what in branches:
            edges.setdefault(b0, []).append((b1, -s, what))
            edges.setdefault(b1, []).append((b0, s, what))
        phi: dict[str, float] = {}
        for root in edges:
            if root in phi:
                continue
            phi[root], stack = 0.0, [root]
            while stack:
                bus = stack.pop()
                for other, step, what in edges[bus]:
                    if other not in phi:
                        phi[other] = phi[bus] + step
                        stack.append(other)
                    elif not math.isclose(phi[other], phi[bus] + step, abs_tol=1e-9):
                        shifted = transformers["name"].to_numpy()[shift != 0]
                        row = what.split(" ", 1)[1] if what.startswith("transformer") else shifted[0]
                        self.refuse("transformers", row, "phase_shift",
                                    f"phase shifts drive flows around a cycle (closed by {what}): not supported")
                        return

    def links(self) -> pd.DataFrame:
        lk = self.static["links"]
        c = lambda a, d: self.col("links", a, d)
        for col in lk.columns:
            if re.fullmatch(r"bus[2-9]\d*", col):
                for name, v in c(col, "").items():
                    if v:
                        self.refuse("links", name, col, f"{v!r}: multi-port links are not supported")
        p_nom, pmin, pmax = c("p_nom", 0.0), c("p_min_pu", 0.0), c("p_max_pu", 1.0)
        eff, mc = c("efficiency", 1.0), c("marginal_cost", 0.0)
        for name in lk.index:
            if pmin[name] > 0:
                self.refuse("links", name, "p_min_pu", f"{pmin[name]:g}: a minimum forward flow is not supported "
                                                       "(p_min_pu must be <= 0)")
            if pmax[name] < 0:
                self.refuse("links", name, "p_max_pu", f"{pmax[name]:g}: p_max_pu must be >= 0")
            if not 0 < eff[name] <= 1:
                self.refuse("links", name, "efficiency", f"{eff[name]:g}: gridopt links need 0 < efficiency <= 1")
            if pmin[name] < 0 and mc[name] != 0:
                self.refuse("links", name, "marginal_cost",
                            f"{mc[name]:g} on a two-way link (p_min_pu < 0): PyPSA earns it back on reverse flow, "
                            "gridopt charges both directions")
            if pmin[name] < 0 and eff[name] < 1:
                warn(f"link {name}: lossy two-way link (efficiency {eff[name]:g}, p_min_pu {pmin[name]:g}) imported "
                     "with efficiency_reverse = efficiency; PyPSA's single variable would create energy on reverse "
                     "flow (delivering p / efficiency), so objectives differ")
        ser = self.dyn["links"].get("p_max_pu")
        top = pmax.copy()
        if ser is not None and ser.shape[1]:
            for name in ser.columns[(ser < 0).any().to_numpy()]:
                self.refuse("links", name, "p_max_pu", f"{ser[name].min():g} in links-p_max_pu.csv: must be >= 0")
            top[ser.columns] = np.maximum(top[ser.columns], ser.max().to_numpy())
        scale = np.maximum(1.0, np.maximum(top, -pmin))  # gridopt's pu stay within [-1, 1]: p_nom takes the rest
        self.link_scale = scale
        # hourly forward availability (link_p_max_pu), on the scaled rating
        self.link_pmax = None if ser is None or not ser.shape[1] else \
            (ser / scale[ser.columns].to_numpy()).set_axis(self.index, axis=0)
        carrier = c("carrier", "DC").replace("", "DC")
        length = c("length", 0.0)
        return pd.DataFrame({"name": lk.index, "bus0": c("bus0", ""), "bus1": c("bus1", ""), "p_nom": p_nom * scale,
                             "p_max_pu": pmax / scale, "p_min_pu": pmin / scale, "efficiency": eff,
                             "efficiency_reverse": eff, "marginal_cost": mc, "carrier": carrier,
                             "length_km": length.where(length > 0, np.nan), **self.expansion("links", scale)}
                            ).reset_index(drop=True)


def qualify_branch_names(tables: dict[str, pd.DataFrame]) -> None:
    """Names shared by a line, a transformer or a link become `line:NAME`, `transformer:NAME`, `link:NAME`.

    PyPSA names each component apart; gridopt's branch names are one namespace (flows, interfaces).
    """
    kinds = {"lines": "line", "transformers": "transformer", "links": "link"}
    seen = pd.concat([tables[c]["name"] for c in kinds]).astype(str)
    shared = set(seen[seen.duplicated(keep=False)])
    if not shared:
        return
    for comp, kind in kinds.items():
        df = tables[comp]
        df["name"] = [f"{kind}:{n}" if n in shared else n for n in df["name"].astype(str)]
    warn(f"branch names shared between lines, transformers and links qualified by kind: {', '.join(sorted(shared))}")
