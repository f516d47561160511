"""Capacity as a decision: extendable elements of every family, their investment, and what capacity is worth.

An element whose extendable flag is set (`schema.EXTENDABLE`: PyPSA's ``p_nom_extendable`` and
``s_nom_extendable``, and the gas tables' own) gets one capacity variable ``cap`` over the whole horizon,
bounded by its min and max columns, and the objective gains

    capital_cost * (cap - existing)

as PyPSA's objective with its constant: negative when an element ends below its existing capacity.
``capital_cost`` is per unit of capacity for the horizon as weighted; nothing is pro-rated. Every limit that
scales with the capacity becomes a row in place of a bound,

    x[t] - pu[t] * cap <= 0     (an upper limit; lower limits read >= 0)

so elements that are not extendable keep their bounds, and an LP without extendable elements is the same
LP as a pure dispatch. An extended AC circuit keeps its reactance (the usual linear choice: more of the
same circuit, not a stiffer one), so a candidate line at zero capacity would still force equal angles at its
ends: new corridors are compared by runs with and without them, not by a continuous variable.

The marginal value of an element's capacity is capital_cost minus the capacity's reduced cost: the
weighted sum of the shadow prices of every row the capacity enters (Σ w·μ of its ratings when nothing else
uses it). It equals capital_cost when the optimum lies strictly between the bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..lp import INVESTMENT, Block
from ..schema import EXTENDABLE, SCHEMA
from .context import Context, Solved

HOURS_PER_YEAR = (8760.0, 8784.0)


@dataclass
class Expansion:
    """One family's capacities: every active element's existing value, and the decision where extendable."""

    component: str
    names: pd.Index
    existing: np.ndarray  # (n,) in the table's unit
    extendable: np.ndarray  # (n,) bool
    capital_cost: np.ndarray  # (n,) CNY per table unit
    scale: float  # LP units per table unit (gas: kcm per Mm3)
    var: Block | None = None  # one-snapshot block over the extendable elements, in LP units
    ratings: tuple[str, ...] = ()  # row blocks that scale with the capacity

    @property
    def pos(self) -> np.ndarray:
        return np.flatnonzero(self.extendable)

    def cap_idx(self, T: int, at: np.ndarray) -> np.ndarray:
        """(T, k) column of the capacity of the extendable elements at family positions `at`."""
        return np.broadcast_to(self.var.idx[0][np.searchsorted(self.pos, at)], (T, len(at)))

    def free(self, bound, value: float, at: np.ndarray | None = None) -> np.ndarray:
        """`bound` (hours or 1, elements) with the columns of extendable elements set to `value`: a row limits
        them instead. The columns are the family's elements, or those at family positions `at`."""
        ext = self.extendable if at is None else self.extendable[at]
        out = np.array(np.broadcast_to(bound, np.broadcast_shapes(np.shape(bound), (1, len(ext)))), float)
        out[..., ext] = value
        return out

    def optimal(self, sv: Solved | None) -> np.ndarray:
        """(n,) capacity at the optimum, in the table's unit (existing where not extendable)."""
        out = self.existing.astype(float).copy()
        if self.var is not None and sv is not None:
            out[self.pos] = sv.value(self.var.name)[0] / self.scale
        return out


def add_capacity(ctx: Context, component: str, table: pd.DataFrame, scale: float = 1.0) -> Expansion:
    """The capacity record of a family, with a capacity variable and its investment cost for each
    extendable element; kept on the context under `component`."""
    nom, flag, lo, hi = EXTENDABLE[component]
    ext = table[flag].to_numpy(dtype=bool) if len(table) else np.zeros(0, bool)
    cc = table["capital_cost"].to_numpy(dtype=float)
    e = Expansion(component, table.index, table[nom].to_numpy(dtype=float), ext, cc, scale)
    ctx.capacity[component] = e
    if ext.any():
        pos = e.pos
        e.var = ctx.lp.add_variables(f"capacity_{component}", table.index[pos], table[lo].to_numpy()[pos] * scale,
                                     table[hi].to_numpy()[pos] * scale, hours=1)
        constant = np.zeros((ctx.T, len(pos)))
        constant[-1] = -cc[pos] * e.existing[pos]  # capital_cost * (cap - existing): the constant part
        ctx.lp.add_cost(e.var, cc[pos][None, :] / scale, "investment_cny", INVESTMENT, constant=constant)
    return e


def add_ratings(ctx: Context, name: str, e: Expansion, x_idx: np.ndarray, pu, upper: bool = True,
                at: np.ndarray | None = None, keep: np.ndarray | None = None) -> Block | None:
    """Rows x[t] - pu[t] * cap <= 0 (or >= 0 when not `upper`) for the extendable elements of `e`.

    `x_idx` (hours, k) and `pu` (broadcastable to it) have a column per element of the family, or per element
    at family positions `at`; only extendable elements get rows, and of those only where the mask `keep`
    (over the k columns) holds."""
    at = np.arange(len(e.names)) if at is None else np.asarray(at)
    cols = e.extendable[at] if keep is None else e.extendable[at] & np.asarray(keep, bool)
    if not cols.any():
        return None
    T = x_idx.shape[0]
    pu = np.broadcast_to(np.asarray(pu, float), x_idx.shape)[:, cols]
    rb = ctx.lp.add_rows(name, e.names[at[cols]], *((-np.inf, 0.0) if upper else (0.0, np.inf)), hours=T)
    ctx.lp.add_coeffs(rb.idx, x_idx[:, cols], 1.0)
    ctx.lp.add_coeffs(rb.idx, e.cap_idx(T, at[cols]), -pu)  # both sides in LP units
    e.ratings += (name,)
    return rb


def add_expansion_limits(ctx: Context) -> None:
    """Limits on the capacity of the extendable lines and links of named carriers (case.toml
    `expansion_limits`, PyPSA's transmission_volume_expansion_limit and transmission_expansion_cost_limit):
    one row each over their whole capacity, built and existing alike, as PyPSA writes them,

        sum length_km * cap <= volume_mw_km        or        sum capital_cost * cap <= cost_cny

    (a line or link without a length counts 0 km). A limit that no extendable element falls under adds no row."""
    limits = ctx.net.config.get("expansion_limits") or {}
    terms = []
    for name, spec in limits.items():
        kind = "volume_mw_km" if "volume_mw_km" in spec else "cost_cny"
        cols, coefs = [], []
        for comp in ("lines", "links"):
            e = ctx.capacity.get(comp)
            if e is None or e.var is None:
                continue
            table = ctx.net.active(comp).iloc[e.pos]
            mine = table["carrier"].isin(spec["carriers"]).to_numpy()
            per = table["length_km"].fillna(0.0) if kind == "volume_mw_km" else table["capital_cost"]
            cols.append(e.var.idx[0][mine])
            coefs.append(per.to_numpy(dtype=float)[mine] / e.scale)
        if sum(len(c) for c in cols):
            terms.append((name, spec[kind], np.concatenate(cols), np.concatenate(coefs)))
    if not terms:
        return
    rb = ctx.lp.add_rows("expansion_limit", [t[0] for t in terms], -np.inf, np.array([[t[1] for t in terms]]),
                         hours=1)
    for j, (_, _, cols, coefs) in enumerate(terms):
        ctx.lp.add_coeffs(rb.start + j, cols, coefs)


def limit_price(sv: Solved, var: str, rows: tuple[str, ...]) -> np.ndarray:
    """(hours, n) shadow price of the limits of variable block `var` (CNY per unit and snapshot): the bound's
    dual where the limit is a bound, the rating rows' duals (same signs) where the element is extendable."""
    d = sv.bound_price(var)
    block = sv.lp.variables[var]
    for name in rows:
        if name in sv.lp.rows:
            rb = sv.lp.rows[name]
            d[:, block.elements.get_indexer(rb.elements)] += sv.row_price(name)
    return d


def investment_warnings(ctx: Context) -> list[str]:
    """A capital cost is per horizon as weighted: say so when the weightings do not add up to a year."""
    paid = [e for e in ctx.capacity.values() if e.var is not None and (e.capital_cost[e.pos] != 0).any()]
    total = float(ctx.weights.sum())
    if paid and not any(abs(total - h) < 1e-6 for h in HOURS_PER_YEAR):
        return [f"capital costs are paid once per horizon, and its snapshot weightings add up to {total:g} h, "
                "not a year: annualised costs need weightings that sum to 8760 h"]
    return []


def extract_capacities(ctx: Context, sv: Solved) -> pd.DataFrame:
    """One row per element with a capacity: existing and optimal capacity (units in the column names),
    capital cost, investment, and the capacity's marginal value (CNY per unit, see the module docstring)."""
    unit_cols = {"MW": "mw", "Mm3/h": "mm3_per_day", "Mm3": "mm3", "MWh": "mwh"}
    frames = []
    for comp, e in ctx.capacity.items():
        if not len(e.names):
            continue
        table = ctx.net.active(comp)
        unit = SCHEMA[comp][EXTENDABLE[comp][0]].unit
        per = 24.0 if unit == "Mm3/h" else 1.0  # gas pipelines are reported per day, as planners quote them
        opt = e.optimal(sv)
        value = np.full(len(e.names), np.nan)
        if e.var is not None and np.isfinite(sv.col_dual).all():
            reduced = sv.bound_price(e.var.name)[0] * e.scale
            value[e.pos] = e.capital_cost[e.pos] - reduced
        suffix = unit_cols[unit]
        carrier = table["carrier"].to_numpy() if "carrier" in table else np.full(len(table), comp)
        df = pd.DataFrame({"component": comp, "element": e.names.to_numpy(dtype=object), "carrier": carrier,
                           "extendable": e.extendable,
                           f"existing_{suffix}": e.existing * per, f"optimal_{suffix}": opt * per,
                           "capital_cost": e.capital_cost / per,
                           "investment_cny": np.where(e.extendable, e.capital_cost * (opt - e.existing), 0.0),
                           "value_cny_per_unit": value / per})
        if comp == "storage_units":
            df["optimal_mwh"] = opt * table["max_hours"].to_numpy()
        frames.append(df)
    cols = ["component", "element", "carrier", "extendable", "existing_mw", "optimal_mw", "existing_mm3_per_day",
            "optimal_mm3_per_day", "existing_mm3", "optimal_mm3", "existing_mwh", "optimal_mwh", "capital_cost",
            "investment_cny", "value_cny_per_unit"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    return out.reindex(columns=cols)


def corridor_values(ctx: Context, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """What each line, transformer, link and interface is worth, ranked: Σ w·μ of its limits (CNY per MW of
    limit over the horizon: what one more MW of transfer capability would have saved), the weighted hours at
    each limit, and the congestion rent (flow times the price difference it bridges; in a meshed network it
    can be negative, so it does not rank)."""
    w = pd.Series(ctx.weights, index=ctx.snapshots)
    fl, itf = tables["flows"], tables["interfaces"]
    price = tables["prices"].set_index(["hour", "bus"])["price_cny_per_mwh"]
    lam = lambda bus: price.reindex(pd.MultiIndex.from_arrays([fl["hour"], fl[bus]])).to_numpy()
    wf = fl["hour"].map(w).to_numpy()
    tol = 1e-6 * np.maximum(1.0, fl["limit_mw"].to_numpy())
    branch = pd.DataFrame({
        "corridor": fl["branch"], "kind": fl["kind"], "bus0": fl["bus0"], "bus1": fl["bus1"],
        "limit_mw": fl["limit_mw"], "limit_reverse_mw": fl["limit_reverse_mw"],
        "value": wf * (fl["mu_upper_cny_per_mw"] + fl["mu_lower_cny_per_mw"]),
        "at_limit": wf * (fl["p0_mw"].to_numpy() >= fl["limit_mw"].to_numpy() - tol),
        "at_reverse": wf * (-fl["p0_mw"].to_numpy() >= fl["limit_reverse_mw"].to_numpy() - tol),
        "rent": -wf * (fl["p0_mw"].to_numpy() * lam("bus0") + fl["p1_mw"].to_numpy() * lam("bus1"))})
    wi = itf["hour"].map(w).to_numpy()
    tol = 1e-6 * np.maximum(1.0, itf["limit_mw"].to_numpy())
    flow = itf["flow_mw"].to_numpy()
    inter = pd.DataFrame({
        "corridor": itf["interface"], "kind": "interface", "bus0": "", "bus1": "",
        "limit_mw": itf["limit_mw"], "limit_reverse_mw": itf["limit_reverse_mw"],
        "value": wi * (itf["mu_upper_cny_per_mw"] + itf["mu_lower_cny_per_mw"]),
        "at_limit": wi * (flow >= itf["limit_mw"].to_numpy() - tol),
        "at_reverse": wi * (-flow >= itf["limit_reverse_mw"].to_numpy() - tol),
        "rent": wi * (itf["mu_upper_cny_per_mw"] - itf["mu_lower_cny_per_mw"]).to_numpy() * flow})
    both = pd.concat([x for x in (branch, inter) if len(x)] or [branch], ignore_index=True)
    out = both.groupby(["corridor", "kind", "bus0", "bus1"], sort=False).agg(
        limit_mw=("limit_mw", "max"), limit_reverse_mw=("limit_reverse_mw", "max"), value_cny_per_mw=("value", "sum"),
        hours_at_limit=("at_limit", "sum"), hours_at_reverse_limit=("at_reverse", "sum"),
        congestion_rent_cny=("rent", "sum")).reset_index()
    out = out.sort_values("value_cny_per_mw", ascending=False, kind="stable", ignore_index=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def changed_capacity(capacities: pd.DataFrame, tol: float = 1e-6) -> dict[str, dict[str, list[float]]]:
    """[existing, optimal] of each extendable element whose capacity changed, by component."""
    out: dict[str, dict[str, list[float]]] = {}
    ext = capacities[capacities["extendable"].astype(bool)]
    for unit in ("mw", "mm3_per_day", "mm3", "mwh"):  # a storage unit has no existing_mwh: its energy follows
        a, b = ext[f"existing_{unit}"], ext[f"optimal_{unit}"]
        sub = ext[b.notna() & ((b - a).abs() > tol * np.maximum(1.0, a.abs()))]
        for comp, part in sub.groupby("component", sort=False):
            out.setdefault(str(comp), {}).update({str(e): [float(x), float(y)] for e, x, y in
                                                  zip(part["element"], part[f"existing_{unit}"], part[f"optimal_{unit}"])})
    return out


def built_capacity(capacities: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Optimal capacity of each extendable element, by component (units as in the capacities table)."""
    out: dict[str, dict[str, float]] = {}
    ext = capacities[capacities["extendable"].astype(bool)]
    for col in ("optimal_mw", "optimal_mm3_per_day", "optimal_mm3", "optimal_mwh"):
        # a storage unit's energy (optimal_mwh) follows its power: its capacity is optimal_mw
        mine = ext[col].notna() & (ext["component"] != "storage_units" if col == "optimal_mwh" else True)
        for comp, sub in ext[mine].groupby("component", sort=False):
            out.setdefault(str(comp), {}).update({str(k): float(v) for k, v in zip(sub["element"], sub[col])})
    return out


# what follows a capacity in a fixed ratio, scaled with it when the capacity is fixed (a transformer's
# per-unit reactance too, so that its ohmic value stays)
FOLLOWERS = {"storage_units": ("p_nom_store",), "pipelines": ("capacity_reverse_mm3_per_h",),
             "gas_storages": ("injection_max_mm3_per_h", "withdrawal_max_mm3_per_h"), "transformers": ("x",)}


def fixed_capacities(net, capacities: pd.DataFrame):
    """`net` with every element of a `capacities` table (as a run writes it) at its optimal capacity and no
    longer extendable: a plan re-dispatched on other weather or hydrology. Returns (network, investment of
    the plan in CNY, which the fixed network no longer counts)."""
    ext = capacities[capacities["extendable"].astype(bool)] if len(capacities) else capacities
    tables = {k: v.copy() for k, v in net.tables.items()}
    invest = 0.0
    for _, row in ext.iterrows():
        comp, name = row["component"], row["element"]
        t = tables[comp]
        if name not in t.index:
            continue
        nom, flag, _, _ = EXTENDABLE[comp]
        value = (row["optimal_mw"] if pd.notna(row["optimal_mw"]) else row["optimal_mm3_per_day"] / 24.0
                 if pd.notna(row["optimal_mm3_per_day"]) else row["optimal_mm3"]
                 if pd.notna(row.get("optimal_mm3", np.nan)) else row.get("optimal_mwh", np.nan))
        old = float(t.at[name, nom])
        invest += float(t.at[name, "capital_cost"]) * (value - old)
        for col in FOLLOWERS.get(comp, ()):
            if old > 0:
                t.at[name, col] = t.at[name, col] * value / old
        t.at[name, nom] = value
        t.at[name, flag] = False
    return net.replace(tables=tables), invest


def existing_capacities(net):
    """`net` with nothing extendable: every element at its existing capacity (the plan's no-build case)."""
    tables = dict(net.tables)
    for comp, (_, flag, _, _) in EXTENDABLE.items():
        if tables[comp][flag].astype(bool).any():
            tables[comp] = tables[comp].assign(**{flag: False})
    return net.replace(tables=tables)
