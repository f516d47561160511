"""Charts of results folders, as PNG files drawn without a display.

    gridopt.plot("results/base")            # one run: dispatch, prices, flows, reservoirs, gas, map, ...
    gridopt.plot("results/sweep")           # a sweep or frontier folder: the cross-run charts

`gridopt.plot` is this package and the function alike: the package is callable, so the name works
whichever of the two an import has bound to it.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path


def plot(path: str | os.PathLike, out: str | os.PathLike | None = None,
         case: str | os.PathLike | None = None) -> list[Path]:
    """Draw the charts of `path`, a results folder of `gridopt run` or a folder holding sweep.parquet or
    pareto.parquet, into `out` (default `path`/charts); returns the files written. `case` names the run's case
    (name or folder) where the summary's case name does not find it (charts needing it are left out else)."""
    d = Path(path)
    if (d / "summary.json").is_file():
        from .runs import plot_run
        return plot_run(d, out, case)
    from .sweeps import plot_sweep
    return plot_sweep(d, out)


class _CallablePackage(types.ModuleType):
    def __call__(self, path, out=None, case=None) -> list[Path]:
        return plot(path, out, case)


sys.modules[__name__].__class__ = _CallablePackage
