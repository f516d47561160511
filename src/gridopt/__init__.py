"""gridopt: hourly least-cost, least-CO2 dispatch of power and gas systems as one sparse LP."""

from __future__ import annotations

import importlib

from ._version import __version__
from .errors import CaseError, GridoptError, Problem, SolveError, UsageError

__all__ = ["CaseError", "GridoptError", "Network", "Problem", "SolveError", "UsageError", "__version__",
           "build_lp", "build_pyomo_model", "calibrate", "compare", "dispatch", "dispatch_rolling", "load_case",
           "pareto", "plot", "sweep", "write_case"]

# The API is imported when first used: `import gridopt` (and the command line's start-up, which a Ctrl-C
# can interrupt only once the command's own handler is in place) stays light.
_LAZY = {"dispatch": ".engine", "build_lp": ".formulation", "Network": ".network", "load_case": ".casefiles",
         "write_case": ".casefiles", "build_pyomo_model": ".solvers.pyomo", "dispatch_rolling": ".rolling",
         "calibrate": ".studies", "compare": ".studies", "sweep": ".studies", "pareto": ".studies", "plot": ".plot"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gridopt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
