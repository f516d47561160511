"""The pyomo twin: the dispatch LP written family by family as a readable pyomo ConcreteModel.

This is an independent formulation of the model in `gridopt.formulation` (same variables, constraints and
objective, as the formulation modules' docstrings state them), meant to be read and extended. It has one module per family, named as on
the fast path, and `build_pyomo_model` calls the families in the fast path's order. Components carry the
fast path's block names, indexed by (hour, element) — e.g. ``m.gen_p[t, "SC_CD_coal"]``,
``m.balance[t, "CQ_C"]`` — so that solutions and duals map back to the same result tables. An extendable
element's capacity is one variable over the horizon, ``m.capacity_<component>[element]`` (e.g.
``m.capacity_lines["l1"]``), and the limits that scale with it are rows written as the fast path's (limited
quantity minus pu times capacity, against a constant), so that their duals keep its signs. Units: MW, MWh,
hm3, m3/s, 1000 m3 (kcm) of gas; the objective is in 10^3 CNY (costs x 1e-3), as in the fast path, so duals
compare one to one.

Extending: build the model, add components, solve with ``solve_model``::

    m = gridopt.build_pyomo_model(net, start="2025-07-01", hours=24)
    cq_coal = [g for g in m.G if m.gen_bus[g] in m.region_buses["Chongqing"] and m.gen_carrier[g] == "coal"]
    m.cq_coal_cap = pyo.Constraint(m.T, rule=lambda m, t: sum(m.gen_p[t, g] for g in cq_coal) <= 8000)
    result = gridopt.solvers.pyomo.solve_model(m)
"""

from __future__ import annotations

from .model import build_pyomo_model
from .record import Twin
from .solve import solve_model, solve_pyomo

__all__ = ["Twin", "build_pyomo_model", "solve_model", "solve_pyomo"]
