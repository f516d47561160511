"""What every formulation family shares: the network slice, the builder, registered terms, and the
solution read back through the builder's blocks."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..lp import OBJ_SCALE, Block, LinearProgram
from ..network import EXTERNAL, Network
from ..schema import IMPORTED_EMISSIONS

if TYPE_CHECKING:
    from .balance import Loads
    from .capacity import Expansion
    from .gas import GasSystem
    from .generators import Generators
    from .hydro import Hydro
    from .reserves import Reserves
    from .storage import Storage
    from .stores import Stores
    from .transmission import Branches, Interfaces, Links

RENEWABLE_CARRIERS = frozenset({"pv", "solar", "wind", "onwind", "offwind", "hydro", "ror", "run_of_river"})


@dataclass
class State:
    """The system's state before the first hour, carried between windows of a rolling horizon.

    Every field is optional and keyed by element name; what is missing falls back to the case's own initial
    values. ``outflow_m3s`` holds each reservoir's release + spill in the hours before the start (rows in
    time order, the last row the hour just before), so water in transit arrives on time.
    """

    volume_hm3: dict[str, float] = field(default_factory=dict)
    outflow_m3s: pd.DataFrame | None = None
    soc_mwh: dict[str, float] = field(default_factory=dict)
    committed_mw: dict[str, float] = field(default_factory=dict)
    p_mw: dict[str, float] = field(default_factory=dict)
    gas_inventory_mm3: dict[str, float] = field(default_factory=dict)


@dataclass
class Targets:
    """End-of-horizon targets: reservoir volumes (elastic, as the case's end target), lower bounds on
    storage state of charge and gas inventory (hard), or terminal values of water and stored energy
    (a credit in the objective for what is left at the end)."""

    volume_hm3: dict[str, float] = field(default_factory=dict)
    soc_min_mwh: dict[str, float] = field(default_factory=dict)
    gas_inventory_min_mm3: dict[str, float] = field(default_factory=dict)
    # terminal values: water and stored energy left at the end are worth this much (water on its way down
    # then, what the reservoir it flows into gives); beside volume targets, they credit what is kept above them
    water_value_cny_per_hm3: dict[str, float] = field(default_factory=dict)
    soc_value_cny_per_mwh: dict[str, float] = field(default_factory=dict)
    # the case's own end target (its target series at the last hour) belongs to the whole horizon; a window
    # that is not the last one is guided by the values or volumes above instead
    case_end_target: bool = True
    # water in transit towards each reservoir expected at the end (hm3): when given, the end targets count
    # the upstream releases of the last delay hours (which arrive after the end) and add these amounts
    transit_hm3: dict[str, float] | None = None
    # the hour (position in the horizon) at which volume, charge and gas targets apply; default the last. A
    # window with look-ahead aims at its neighbour's start at the end of its kept hours, not at its own end
    hour: int | None = None
    # carbon caps (t) on the emissions up to and including that hour, besides the horizon's own caps: a
    # window whose look-ahead runs past its neighbour's start keeps its share in its kept hours
    carbon_caps_t: dict[str, float] = field(default_factory=dict)

    def at(self, T: int) -> int:
        return T - 1 if self.hour is None else min(int(self.hour), T - 1)


@dataclass
class DispatchOptions:
    """Options of one dispatch (units in names; CNY, tonnes, hours)."""

    start: pd.Timestamp
    hours: int
    carbon_price: float = 0.0  # CNY/t
    # region or 'system' -> t over the horizon (default: the case's carbon_caps)
    carbon_caps: dict[str, float] = field(default_factory=dict)
    intensity_caps: dict[str, float] = field(default_factory=dict)  # region or 'system' -> t/MWh
    # "none": price and caps cover in-region emissions; "attributed": imported ones too (formulation.emissions)
    imported_emissions: str = "none"
    kvl: str = "cycles"  # 'cycles' or 'angles'
    reserves: bool = True
    gas: bool = True  # the gas network, when the case has one
    hooks: tuple[Callable[[Context], None], ...] = ()
    state: State | None = None
    targets: Targets | None = None

    @classmethod
    def create(cls, net: Network, start=None, hours: int | None = None, carbon_price: float | None = None,
               carbon_caps: dict[str, float] | None = None, intensity_caps: dict[str, float] | None = None,
               kvl: str = "cycles", reserves: bool = True, gas: bool = True, hooks=(), state: State | None = None,
               targets: Targets | None = None, imported_emissions: str | None = None) -> DispatchOptions:
        snaps = net.snapshots
        t0 = snaps[0] if start is None else pd.Timestamp(start)
        if t0 < snaps[0] or t0 > snaps[-1]:
            raise UsageError(f"start {t0} is outside the case's series ({snaps[0]} .. {snaps[-1]})")
        pos = snaps.get_indexer([t0])[0]
        if pos < 0:
            raise UsageError(f"start {t0} is not an hour of the case's series")
        # no hours: the case's default horizon from the start, cut at the end of the series
        n = min(net.default_hours, len(snaps) - pos) if hours is None else int(hours)
        if n <= 0:
            raise UsageError(f"hours must be positive, got {n}")
        if pos + n > len(snaps):
            raise UsageError(f"{n} hours from {t0} run past the end of the series ({snaps[-1]}); "
                             f"at most {len(snaps) - pos}")
        if net.periods is not None and (pos != 0 or n != len(snaps)):
            raise UsageError(f"representative periods are one year: run all {len(snaps)} snapshots from the first "
                             f"(no --start or --hours)")
        if net.periods is not None and (state is not None or targets is not None):
            raise UsageError("representative periods link their stores over the year: no carried state or targets")
        if kvl not in ("cycles", "angles"):
            raise UsageError(f"kvl must be 'cycles' or 'angles', got {kvl!r}")
        cp = float(net.config["carbon_price"] if carbon_price is None else carbon_price)
        if not math.isfinite(cp) or cp < 0:
            raise UsageError(f"the carbon price must be a finite number >= 0 (CNY/t), got {carbon_price}")
        imported = net.config.get("imported_emissions", "none") if imported_emissions is None else imported_emissions
        if imported not in IMPORTED_EMISSIONS:
            raise UsageError(f"imported emissions must be one of: {', '.join(IMPORTED_EMISSIONS)}; got {imported!r}")
        if carbon_caps is None:  # the case's own caps (case.toml carbon_caps), else none
            carbon_caps = dict(net.config.get("carbon_caps") or {})
        valid = set(net.regions) | {"system"}
        for what, caps in (("carbon cap", carbon_caps or {}), ("carbon intensity cap", intensity_caps or {})):
            for r, v in caps.items():
                if r not in valid:
                    raise UsageError(f"{what}: unknown region {r!r} (expected one of: {', '.join(sorted(valid))})")
                if not math.isfinite(v) or v < 0:
                    raise UsageError(f"{what} {r}={v}: expected a finite number >= 0")
        return cls(start=t0, hours=n, carbon_price=cp, carbon_caps=dict(carbon_caps or {}),
                   intensity_caps=dict(intensity_caps or {}), imported_emissions=imported, kvl=kvl,
                   reserves=reserves, gas=gas, hooks=tuple(hooks), state=state, targets=targets)


@dataclass
class Term:
    """Variables entering a shared row family: (hours, n) indices, coefficients, and a key per column."""

    idx: np.ndarray  # (hours, n) global column indices
    coef: np.ndarray  # broadcastable to (hours, n)
    key: np.ndarray  # (n,) position of each column's bus / region in the shared rows


@dataclass
class Context:
    net: Network
    options: DispatchOptions
    lp: LinearProgram
    rows: slice  # snapshot positions of the horizon
    snapshots: pd.DatetimeIndex
    weights: np.ndarray  # (hours,) snapshot weightings
    buses: pd.Index
    bus_region: np.ndarray  # region name of each bus
    injections: list[Term] = field(default_factory=list)  # into the nodal power balance (MW)
    emissions: list[Term] = field(default_factory=list)  # t/MWh by region position
    generation: list[Term] = field(default_factory=list)  # MWh by region position (intensity caps)
    reserve: list[Term] = field(default_factory=list)  # headroom MW by region position
    reserve_const: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (region pos, (T,n))
    gas_burn: list[Term] = field(default_factory=list)  # kcm/h drawn from gas nodes
    # each family's record: its elements, capacities and the arrays its results need
    loads: Loads | None = None
    generators: Generators | None = None
    branches: Branches | None = None
    links: Links | None = None
    interfaces: Interfaces | None = None
    storage: Storage | None = None
    stores: Stores | None = None
    hydro: Hydro | None = None
    gas: GasSystem | None = None
    reserves: Reserves | None = None
    capacity: dict[str, Expansion] = field(default_factory=dict)  # by component: existing and extendable capacity

    @classmethod
    def create(cls, net: Network, options: DispatchOptions) -> Context:
        net = net.for_horizon(options.start, options.hours)  # dated scenario changes that meet the horizon
        snaps = net.snapshots
        pos = snaps.get_indexer([options.start])[0]
        rows = slice(pos, pos + options.hours)
        buses = net.tables["buses"].index
        lp = LinearProgram(hours=options.hours)
        return cls(net=net, options=options, lp=lp, rows=rows, snapshots=snaps[rows],
                   weights=net.weightings(rows), buses=buses,
                   bus_region=net.tables["buses"]["region"].to_numpy(dtype=object))

    @property
    def T(self) -> int:
        return self.options.hours

    @property
    def regions(self) -> list[str]:
        return self.net.regions

    @property
    def energy_weights(self) -> np.ndarray:
        """(hours,) weighting of energy and emission limits (PyPSA's 'generators' column; else the objective's)."""
        return self.net.energy_weightings(self.rows)

    @property
    def dt(self) -> np.ndarray:
        """Hours per snapshot, (hours, 1) (1 for hourly cases; more in a coarse, resampled network)."""
        return self.net.durations(self.rows)[:, None]

    def bus_pos(self, bus_names) -> np.ndarray:
        return self.buses.get_indexer(pd.Index(bus_names))

    def region_pos(self, bus_names) -> np.ndarray:
        """Region position of each bus (-1 for external buses)."""
        reg = self.net.tables["buses"]["region"].reindex(pd.Index(bus_names)).to_numpy(dtype=object)
        lookup = {r: i for i, r in enumerate(self.regions)}
        return np.array([lookup.get(r, -1) for r in reg], dtype=int)

    def series(self, name: str, elements: pd.Index) -> np.ndarray:
        return self.net.series_values(name, pd.Index(elements), self.rows)

    def has_series(self, name: str, elements: pd.Index) -> np.ndarray:
        df = self.net.series.get(name)
        if df is None:
            return np.zeros(len(elements), dtype=bool)
        return pd.Index(elements).isin(df.columns)

    def inject(self, var: Block | np.ndarray, coef, buses) -> None:
        idx = var.idx if isinstance(var, Block) else var
        self.injections.append(Term(idx, np.asarray(coef, float), self.bus_pos(buses)))

    def is_external(self, bus_names) -> np.ndarray:
        reg = self.net.tables["buses"]["region"].reindex(pd.Index(bus_names)).to_numpy(dtype=object)
        return reg == EXTERNAL

    @property
    def state(self) -> State:
        return self.options.state or State()

    @property
    def targets(self) -> Targets:
        return self.options.targets or Targets()

    @staticmethod
    def pick(values: dict[str, float], names: pd.Index, default: np.ndarray) -> np.ndarray:
        """Per-element values from a name-keyed dict, falling back to `default` where a name is missing."""
        out = np.asarray(default, dtype=float).copy()
        for i, n in enumerate(names):
            if n in values:
                out[i] = float(values[n])
        return out

    def penalty(self, key: str) -> float:
        return float(self.net.config["penalties"][key])


@dataclass
class Solved:
    """A solution read back through the LP's blocks, as (hours, elements) arrays.

    Values come from `x`; prices are duals in CNY per unit of the row (or of the bounded variable) and
    snapshot: divide by the weighting for CNY per MWh. Without duals (e.g. a time limit) prices are NaN.
    """

    lp: LinearProgram
    x: np.ndarray
    row_dual: np.ndarray
    col_dual: np.ndarray
    row_activity: np.ndarray

    @classmethod
    def of(cls, lp: LinearProgram, sol: Any) -> Solved:
        """From any solution with arrays x, row_dual, col_dual and row_activity."""
        duals = sol.row_dual.size == lp.nrows and lp.nrows > 0
        return cls(lp, sol.x, sol.row_dual if duals else np.full(lp.nrows, np.nan),
                   sol.col_dual if duals else np.full(lp.ncols, np.nan), sol.row_activity)

    def has(self, name: str) -> bool:
        return name in self.lp.variables

    def value(self, name: str) -> np.ndarray:
        return self.lp.variables[name].take(self.x)

    def row_price(self, name: str) -> np.ndarray:
        return self.lp.rows[name].take(self.row_dual) / OBJ_SCALE

    def bound_price(self, name: str) -> np.ndarray:
        return self.lp.variables[name].take(self.col_dual) / OBJ_SCALE

    def activity(self, name: str) -> np.ndarray | None:
        return self.lp.rows[name].take(self.row_activity) if self.row_activity.size else None


def long_table(snaps: pd.DatetimeIndex, names: pd.Index, label: str, **cols: Any) -> pd.DataFrame:
    """A tidy table: one row per (hour, element), `label` naming the element, a column per keyword
    (arrays shaped (hours, elements), (elements,) or scalars)."""
    T, n = len(snaps), len(names)
    data: dict[str, Any] = {"hour": np.repeat(snaps.to_numpy(), n), label: np.tile(np.asarray(names, dtype=object), T)}
    for k, v in cols.items():
        v = np.asarray(v)
        if v.ndim == 1 and v.shape[0] == n and T != 1:
            v = np.broadcast_to(v, (T, n))
        data[k] = np.broadcast_to(v, (T, n)).ravel() if v.ndim else np.full(T * n, v)
    return pd.DataFrame(data)
