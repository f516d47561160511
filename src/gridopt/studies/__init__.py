"""Studies across runs: compare results folders, sweep overrides, trace the cost-emissions frontier.

    gridopt.compare(["results/base", "results/no_uhv_ac"])          # a table of differences
    gridopt.sweep("sichuan_chongqing", {"carbon_price": [0, 100]}, "results/sweep", hours=24)
    gridopt.pareto("sichuan_chongqing", points=5, hours=24, out="results/pareto")
    gridopt.calibrate("sichuan_chongqing", out="results/calibration")   # the year beside published figures
"""

from __future__ import annotations

import importlib

__all__ = ["calibrate", "compare", "exports_by_link_mwh", "pareto", "sweep"]

# loaded when first used: the command line imports this package's `cli` for every command
_LAZY = {"calibrate": ".calibration", "compare": ".comparison", "exports_by_link_mwh": ".metrics", "pareto": ".frontier", "sweep": ".sweeps"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gridopt.studies' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
