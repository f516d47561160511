"""Passes: the rolling run repeated, each pass after the first aimed at the water path the one before found."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..network import Network
from ..results import Result
from .states import water_path

OnePass = Callable[[pd.DataFrame | None, Callable[[str], None]], Result]


def run_passes(one_pass: OnePass, net: Network, passes: int, volumes: pd.DataFrame | None = None,
               progress: Callable[[str], None] | None = None) -> Result:
    """The cheapest of `passes` runs of `one_pass(volumes, say)`: the first aimed at `volumes` (None: as its
    options say), each after it at `water_path` of the one before. Information travels back one window per
    pass, so later passes need not be cheaper; every pass's objective is reported."""
    say = progress or (lambda msg: None)
    if passes == 1:
        return one_pass(volumes, say)
    runs: list[Result] = []
    for k in range(passes):
        tell = (lambda msg, k=k: say(f"pass {k + 1}: {msg}")) if progress else say
        runs.append(one_pass(water_path(net, runs[-1]) if runs else volumes, tell))
    objectives = [r.summary["objective_cny"] for r in runs]
    best = int(np.argmin(objectives))
    runs[best].summary["rolling"].update(passes=passes, pass_objectives_cny=objectives, best_pass=best + 1)
    return runs[best]
