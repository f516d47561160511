"""`pareto`: the cost-emissions frontier by the epsilon-constraint method.

1. Least cost: the case dispatched at the given carbon price (0 by default, so that cost holds no carbon
   charge), emitting E_max. Its penalties, label by label (load shed, curtailment, spill, rule curves, ...),
   are the caps P0 every later run must keep within: a frontier that cut emissions by shedding load or
   spilling water would price the wrong thing.
2. Least emission: the same, with the carbon price raised by `EMISSION_PRICE` (1e5 CNY/t, far above any
   abatement the case offers, so emissions come first and cost only breaks ties) and the penalties capped at
   P0, emitting E_min.
3. K points (K >= 2): the least-cost run, then K - 1 runs minimising cost (at the given carbon price) with
   the penalties capped at P0 and emissions capped by `carbon_caps={"system": eps}` for eps evenly spaced
   from E_max down to E_min (the last with a relative slack of 1e-6 over E_min, within the solver's
   tolerance). Each point's carbon shadow price is the dual of that cap.

Emissions are those the carbon price covers: in-region (`emissions_t.system`), plus the imported ones with
`imported_emissions="attributed"`. Cost is the objective (operation net of export revenue, plus penalties
and investment). Lower caps can only raise the least cost, so cost rises as emissions fall, up to the
solver's tolerance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SolveError, UsageError
from ..executors import map_shared
from ..lp import OBJ_SCALE, PENALTY

EMISSION_PRICE = 1e5  # CNY/t added for the least-emission run
CAP_SLACK_REL = 1e-6  # slack of the caps over the values they hold: within the interior point's tolerance
PENALTY_SLACK_CNY = 1e-3


class PenaltyCaps:
    """A build hook: each penalty label's CNY over the horizon at most its given value (plus a slack)."""

    def __init__(self, limits: dict[str, float]):
        self.limits = dict(limits)

    def __call__(self, ctx) -> None:
        lp = ctx.lp
        terms: dict[str, list] = {}
        for t in lp.costs:
            if t.kind == PENALTY and t.label in self.limits:
                terms.setdefault(t.label, []).append(t)
        for label, ts in terms.items():
            fixed = sum(float(t.constant.sum()) for t in ts if t.constant is not None)
            limit = self.limits[label]
            upper = (limit + max(CAP_SLACK_REL * abs(limit), PENALTY_SLACK_CNY) - fixed) * OBJ_SCALE
            rb = lp.add_rows(f"pareto_penalty_cap:{label}", [label], upper=upper, hours=1)
            for t in ts:
                if t.block is not None and t.block.size:
                    lp.add_coeffs(rb.start, t.block.idx.ravel(), t.coef.ravel() * OBJ_SCALE)


@dataclass(frozen=True)
class Shared:
    net: Any
    run: dict[str, Any]
    caps: dict[str, float]


def covered_emissions(summary: dict[str, Any]) -> float:
    """Tonnes of CO2 the carbon price and caps cover in a run (see the module)."""
    e = float(summary["emissions_t"].get("system", 0.0))
    if summary.get("carbon_price_covers", "in-region") != "in-region":
        e += float(summary.get("emissions_imported_t", {}).get("system", 0.0))
    return e


def _solve(shared: Shared, eps: float) -> dict[str, Any]:
    from ..engine import dispatch
    run = dict(shared.run)
    res = dispatch(shared.net, carbon_caps={**(run.pop("carbon_caps", None) or {}), "system": eps},
                   hooks=[PenaltyCaps(shared.caps)], raise_on_failure=False, **run)
    return res.summary


def _point(summary: dict[str, Any], eps: float | None, kind: str) -> dict[str, Any]:
    ok = summary["status"] == "optimal"
    shadow = summary.get("carbon_shadow_price_cny_per_t", {}) if ok else {}
    return {"kind": kind, "epsilon_t": np.nan if eps is None else eps,
            "emissions_t": covered_emissions(summary) if ok else np.nan,
            "cost_cny": summary["objective_cny"] if ok else np.nan,
            "cost_total_cny": summary["cost_total_cny"] if ok else np.nan,
            "penalties_total_cny": summary["penalties_total_cny"] if ok else np.nan,
            "load_shed_mwh": summary["load_shed_mwh"]["total"] if ok else np.nan,
            "carbon_shadow_price_cny_per_t": float(shadow.get("cap:system", 0.0)) if ok else np.nan,
            "status": summary["status"]}


def pareto(case: Any, points: int = 5, out: str | os.PathLike | None = None, *, scenario=None,
           carbon_price: float = 0.0, processes: int = 2, executor: Any = None, progress=None,
           **run: Any) -> pd.DataFrame:
    """The cost-emissions frontier of `case` (a name, a folder or a Network) in `points` points, by the
    method of this module. Returns a table, one row per point from least cost to least emission: kind
    ('least-cost', 'epsilon'; the last is the least-emission end), epsilon_t, emissions_t, cost_cny,
    cost_total_cny, penalties_total_cny, load_shed_mwh, carbon_shadow_price_cny_per_t (CNY/t), status; its
    attrs hold the least-emission run's figures. With `out`, writes pareto.parquet and pareto.png there.
    `run` holds dispatch keywords (start, hours, carbon_caps on regions, imported_emissions, ...)."""
    from ..casefiles import load_case
    from ..engine import dispatch
    if points < 2:
        raise UsageError(f"--points must be >= 2 (the two ends), got {points}")
    say = progress or (lambda msg: None)
    net = case if hasattr(case, "tables") else load_case(case)
    net = net.with_scenario(list(scenario)) if scenario else net
    run = {k: v for k, v in run.items() if v is not None}
    run["carbon_price"] = float(carbon_price)
    # the frontier's cap on the system joins the regional caps given, else the case's own
    run["carbon_caps"] = dict(run.get("carbon_caps") or net.config.get("carbon_caps") or {}) or None
    say("least-cost dispatch")
    low = dispatch(net, raise_on_failure=False, **run).summary
    if low["status"] != "optimal":
        raise SolveError(f"the least-cost dispatch is {low['status']}: no frontier", status=low["status"])
    caps = {k: float(v) for k, v in low["penalties_cny"].items()}
    say(f"least-emission dispatch (carbon price + {EMISSION_PRICE:g} CNY/t, penalties held at the least-cost ones)")
    high = dispatch(net, raise_on_failure=False, hooks=[PenaltyCaps(caps)],
                    **{**run, "carbon_price": run["carbon_price"] + EMISSION_PRICE}).summary
    if high["status"] != "optimal":
        raise SolveError(f"the least-emission dispatch is {high['status']}: no frontier", status=high["status"])
    e_max, e_min = covered_emissions(low), covered_emissions(high)
    e_min = min(e_min, e_max)
    eps = list(np.linspace(e_max, e_min, points)[1:])
    eps[-1] = min(e_min + CAP_SLACK_REL * max(abs(e_min), 1.0), e_max)
    say(f"{len(eps)} epsilon-constraint runs from {e_max:,.0f} t to {e_min:,.0f} t")
    got = map_shared(_solve, eps, shared=Shared(net, run, caps), executor=executor,
                     processes=max(1, min(processes, len(eps))))
    rows = [_point(low, None, "least-cost")] + [_point(s, e, "epsilon") for s, e in zip(got, eps)]
    table = pd.DataFrame(rows)
    table.insert(0, "point", np.arange(len(table)))
    table.attrs["least_emission"] = _point(high, None, "least-emission")
    if out is not None:
        write(table, out)
    bad = table[table["status"] != "optimal"]
    if len(bad):
        raise SolveError(f"frontier points {', '.join(map(str, bad['point']))} ended {', '.join(bad['status'])}",
                         status=str(bad["status"].iloc[0]))
    return table


def write(table: pd.DataFrame, out: str | os.PathLike) -> list[Path]:
    from ..plot.sweeps import frontier
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / f".pareto.parquet.tmp-{os.getpid()}"
    table.to_parquet(tmp, index=False)
    os.replace(tmp, d / "pareto.parquet")
    return [d / "pareto.parquet", frontier(table, d / "pareto.png")]
