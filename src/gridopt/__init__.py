"""gridopt: hourly least-cost, least-CO2 dispatch of power and gas systems as one sparse LP."""

from __future__ import annotations

__version__ = "0.1.0"

from .engine import dispatch
from .errors import CaseError, GridoptError, Problem, SolveError, UsageError
from .formulation import build_lp
from .network import Network, load_case, write_case

__all__ = ["CaseError", "GridoptError", "Network", "Problem", "SolveError", "UsageError", "__version__",
           "build_lp", "build_pyomo_model", "dispatch", "dispatch_rolling", "load_case", "write_case"]


def __getattr__(name: str):  # lazy: pyomo is imported only when the twin is asked for
    if name == "build_pyomo_model":
        from .solvers.pyomo import build_pyomo_model
        return build_pyomo_model
    if name == "dispatch_rolling":
        from .rolling import dispatch_rolling
        return dispatch_rolling
    raise AttributeError(name)
