"""The record the twin's families share: the model under construction and the terms that cross families."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from ...formulation.context import Context
from ...lp import OBJ_SCALE
from ...schema import EXTENDABLE

Key = tuple[int, str]  # (hour, bus), (hour, region) or (hour, gas node)


def frame(arr: np.ndarray, index: pd.Index) -> dict[tuple[int, str], float]:
    """(hour, element) -> value of an (hours, elements) array, for bounds and right-hand sides."""
    return {(t, e): float(arr[t, i]) for t in range(arr.shape[0]) for i, e in enumerate(index)}


def _terms() -> defaultdict[Key, list[Any]]:
    return defaultdict(list)


@dataclass
class Twin:
    """The pyomo model and what its families register for the rows and objective they share.

    Each family adds its own components to `m` and appends here: objective terms (CNY, scaled once when the
    objective is set), power injected into the balance of a bus (MW), emissions (t/h) and generation (MW)
    of a region, reserve headroom of a region (MW, constants included), and gas burnt at a node (kcm/h).
    `capacity` holds, by component, the capacity variable of each extendable element (see `add_capacity`).
    """

    m: pyo.ConcreteModel
    bus_region: dict[str, str]
    load_mw: np.ndarray | None = None  # (hours, buses) firm + interruptible, set with the loads
    cost: list[Any] = field(default_factory=list)
    offset: float = 0.0  # constant part of the objective (CNY)
    injections: defaultdict[Key, list[Any]] = field(default_factory=_terms)  # (hour, bus)
    emissions: defaultdict[Key, list[Any]] = field(default_factory=_terms)  # (hour, region)
    generation: defaultdict[Key, list[Any]] = field(default_factory=_terms)  # (hour, region)
    headroom: defaultdict[Key, list[Any]] = field(default_factory=_terms)  # (hour, region)
    gas_burn: defaultdict[Key, list[Any]] = field(default_factory=_terms)  # (hour, gas node)
    capacity: dict[str, dict[str, Any]] = field(default_factory=dict)  # component -> element -> variable

    @classmethod
    def create(cls, ctx: Context) -> Twin:
        """An empty model over the horizon's hours and the network's buses."""
        net = ctx.net
        m = pyo.ConcreteModel(name=f"gridopt {net.name}")
        m.T = pyo.RangeSet(0, ctx.T - 1)
        m.weight = {t: float(ctx.weights[t]) for t in range(ctx.T)}
        buses = net.tables["buses"]
        m.B = pyo.Set(initialize=list(buses.index), ordered=True)
        bus_region = buses["region"].to_dict()
        m.region_buses = {r: {b for b, rr in bus_region.items() if rr == r} for r in net.regions}
        return cls(m=m, bus_region=bus_region)

    def set_objective(self) -> None:
        """Minimise the registered costs, scaled to 10^3 CNY as on the fast path so that duals compare."""
        self.m.objective = pyo.Objective(expr=OBJ_SCALE * sum(self.cost) + OBJ_SCALE * self.offset,
                                         sense=pyo.minimize)


def add_capacity(tw: Twin, component: str, table: pd.DataFrame, scale: float = 1.0) -> dict[str, Any]:
    """Capacity of each extendable element of `table` (``m.capacity_<component>``, in model units: the
    table's unit times `scale`), between its min and max columns, with capital_cost * (cap - existing) in
    the objective (negative when the capacity ends below the existing one). Returns element -> variable;
    every limit that scales with an element's capacity is written against it."""
    nom, flag, lo, hi = EXTENDABLE[component]
    ext = list(table.index[table[flag].astype(bool)]) if len(table) else []
    tw.capacity[component] = {}
    if not ext:
        return tw.capacity[component]

    def bounds(m, e):
        top = table.at[e, hi]
        return (table.at[e, lo] * scale, None if np.isinf(top) else top * scale)
    var = pyo.Var(ext, bounds=bounds)
    setattr(tw.m, f"capacity_{component}", var)
    for e in ext:
        # capital cost per table unit, the variable in model units
        tw.cost.append(table.at[e, "capital_cost"] / scale * var[e])
        tw.offset -= table.at[e, "capital_cost"] * table.at[e, nom]
    tw.capacity[component] = {e: var[e] for e in ext}
    return tw.capacity[component]


def gas_network_on(ctx: Context) -> bool:
    """Whether the gas network is modelled: asked for, and the case has gas nodes."""
    return bool(ctx.options.gas and len(ctx.net.tables["gas_nodes"]) > 0)
