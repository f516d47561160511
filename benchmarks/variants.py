"""Variants of one case: the modelling path, the KVL formulation and the HiGHS options.

A comparison (``--compare solvers|kvl|pyomo|pypsa|rolling|rolling-year``) is a list of variants whose
first entry is the baseline; its ratios are taken against that baseline within the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BASELINE_HIGHS: dict[str, Any] = {"solver": "auto", "run_crossover": "on", "presolve": "on"}


@dataclass(frozen=True)
class Variant:
    """How a case is built and solved: `path` is 'fast' (build_lp + highspy), 'pyomo', 'pypsa' or 'rolling'
    (`gridopt.dispatch_rolling` with the keyword arguments in `rolling`)."""

    label: str
    path: str = "fast"
    kvl: str = "cycles"
    highs: dict[str, Any] = field(default_factory=lambda: dict(BASELINE_HIGHS))
    rolling: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "path": self.path, "kvl": self.kvl, "highs": dict(self.highs),
                "rolling": dict(self.rolling)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Variant:
        return cls(label=d["label"], path=d.get("path", "fast"), kvl=d.get("kvl", "cycles"),
                   highs=dict(d.get("highs", BASELINE_HIGHS)), rolling=dict(d.get("rolling", {})))


BASELINE = Variant("ipm+crossover")


def solver_variants() -> list[Variant]:
    """HiGHS simplex vs interior point (IPX, HiPO) with and without crossover vs PDLP; presolve on and off."""
    from gridopt.solvers.highs import has_solver  # pdlp and hipo depend on the highspy build
    out = [
        BASELINE,
        Variant("ipx+crossover", highs={"solver": "ipx", "run_crossover": "on", "presolve": "on"}),
        Variant("ipm, no crossover", highs={"solver": "auto", "run_crossover": "off", "presolve": "on"}),
        Variant("simplex", highs={"solver": "simplex", "presolve": "on"}),
        Variant("ipm+crossover, presolve off", highs={"solver": "auto", "run_crossover": "on", "presolve": "off"}),
        Variant("simplex, presolve off", highs={"solver": "simplex", "presolve": "off"}),
    ]
    if has_solver("pdlp"):
        out.append(Variant("pdlp", highs={"solver": "pdlp", "presolve": "on"}))
    if has_solver("hipo"):
        out.append(Variant("hipo+crossover", highs={"solver": "hipo", "run_crossover": "on", "presolve": "on"}))
    return out


def kvl_variants() -> list[Variant]:
    """Kirchhoff's voltage law over a cycle basis (default) vs voltage angles."""
    return [BASELINE, Variant("angles", kvl="angles")]


def pyomo_available() -> tuple[bool, str]:
    """Whether the pyomo twin can run, found without importing pyomo (see `pypsa_available`)."""
    import importlib.util
    for mod in ("pyomo", "gridopt.solvers.pyomo"):
        if importlib.util.find_spec(mod) is None:
            return False, f"{mod} is not available"
    return True, ""


def pyomo_variants() -> list[Variant]:
    return [BASELINE, Variant("pyomo twin", path="pyomo")]


def pypsa_available() -> tuple[bool, str]:
    # found, not imported: a worker forked from this process would inherit pypsa's memory in its peak
    # resident set (Linux keeps ru_maxrss across exec), inflating every measurement after it
    import importlib.util
    if importlib.util.find_spec("pypsa") is None:
        return False, "pypsa is not installed"
    return True, ""


def pypsa_variants() -> list[Variant]:
    return [BASELINE, Variant("pypsa", path="pypsa")]


def rolling_variants() -> list[Variant]:
    """One LP vs rolling windows aiming at the coarse solve's volumes, sequential unless said: 24 h of hourly
    look-ahead and then 336 h in 3-h blocks, guided by an 8-h coarse solve, water above its volumes credited
    (the default up to 2,190 h), and without the credit; 6 h and then 120 h in 3-h blocks (the look-ahead
    beyond 2,190 h), with and without the credit, and with a daily guide; 24 h of hourly look-ahead alone;
    the plan as guide; 2 chains with an 8-h and a daily guide (the default beyond 2,190 h); every window
    alone."""
    old = {"window": 168, "overlap": 24, "tail": 0}
    new = {"window": 168, "overlap": 6, "tail": 120, "tail_block": 3}
    long = {"window": 168, "overlap": 24, "tail": 336, "tail_block": 3}
    coarse, plan, daily, bare = {"guide": "targets"}, {"guide": "rule"}, {"coarse_hours": 24}, {"credit": False}
    chains, alone = {"parallel": True, "processes": 2, "chains": 2}, {"parallel": True, "processes": 2}
    return [BASELINE,
            Variant("rolling 168+24 h + 336 h in 3-h blocks (default up to 2,190 h)", path="rolling",
                    rolling={**long, **coarse}),
            Variant("rolling 168+24 h + 336 h in 3-h blocks, no credit", path="rolling",
                    rolling={**long, **coarse, **bare}),
            Variant("rolling 168+6 h + 120 h in 3-h blocks", path="rolling", rolling={**new, **coarse}),
            Variant("rolling 168+6 h + 120 h in 3-h blocks, no credit", path="rolling",
                    rolling={**new, **coarse, **bare}),
            Variant("rolling 168+6 h + 120 h in 3-h blocks, daily guide", path="rolling",
                    rolling={**new, **coarse, **daily}),
            Variant("rolling 168+24 h", path="rolling", rolling={**old, **coarse}),
            Variant("rolling 168+24 h, plan", path="rolling", rolling={**old, **plan}),
            Variant("2 chains 168+6 h + 120 h in 3-h blocks", path="rolling", rolling={**new, **coarse, **chains}),
            Variant("2 chains, daily guide (default beyond 2,190 h)", path="rolling",
                    rolling={**new, **coarse, **daily, **chains}),
            Variant("parallel 168+6 h + 120 h in 3-h blocks, 2 processes", path="rolling",
                    rolling={**new, **coarse, **alone})]


def rolling_year_variants() -> list[Variant]:
    """The year's rolling settings against one LP on a shorter horizon: 168-h windows with 6 h hourly and
    120 h in 3-h blocks of look-ahead, in 2 chains with a daily guide without the pull (the settings
    beyond 2,190 h) and with the shorter horizons' pull, and with an 8-h guide, with and without the
    credit, windows on IPX (as gridopt picks below HIPO_MIN_NONZEROS) or HiPO; and one chain with an 8-h
    guide and the credit on HiPO."""
    new = {"window": 168, "overlap": 6, "tail": 120, "tail_block": 3, "guide": "targets"}
    chains, daily, eight = {"parallel": True, "processes": 2, "chains": 2}, {"coarse_hours": 24}, {"coarse_hours": 8}
    hipo = {**BASELINE_HIGHS, "solver": "hipo"}
    return [BASELINE,
            Variant("2 chains, daily guide, no pull (the settings beyond 2,190 h)", path="rolling",
                    rolling={**new, **daily, **chains, "plan_pull": 0.0}),
            Variant("2 chains, daily guide", path="rolling", rolling={**new, **daily, **chains}),
            Variant("2 chains, daily guide, HiPO windows", path="rolling", highs=hipo,
                    rolling={**new, **daily, **chains}),
            Variant("2 chains, 8-h guide", path="rolling", rolling={**new, **eight, **chains}),
            Variant("2 chains, 8-h guide, credit, HiPO windows", path="rolling", highs=hipo,
                    rolling={**new, **eight, **chains, "credit": True}),
            Variant("2 chains, 8-h guide, HiPO windows", path="rolling", highs=hipo,
                    rolling={**new, **eight, **chains}),
            Variant("1 chain, 8-h guide, credit, HiPO windows", path="rolling", highs=hipo,
                    rolling={**new, **eight, "chains": 1, "credit": True})]


COMPARISONS = {
    "solvers": solver_variants,
    "kvl": kvl_variants,
    "pyomo": pyomo_variants,
    "pypsa": pypsa_variants,
    "rolling": rolling_variants,
    "rolling-year": rolling_year_variants,
}
