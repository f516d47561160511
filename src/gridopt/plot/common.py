"""What every chart shares: figures drawn without a display (matplotlib's Agg canvas), carrier colours, the
time axis, and writing a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

DPI = 120
CARRIER_COLOURS = {
    "coal": "#4d4d4d", "lignite": "#7f6a4f", "gas": "#e07b39", "oil": "#8c564b", "nuclear": "#d62728",
    "hydro": "#6baed6", "hydro_reservoir": "#08519c", "ror": "#9ecae1", "phs": "#9467bd", "storage": "#9467bd",
    "pv": "#fdd835", "solar": "#fdd835", "wind": "#74c476", "biomass": "#31a354", "import": "#c994c7",
    "market": "#c994c7",
}


def colour(carrier: str, i: int) -> str:
    """A carrier's colour: its own where it has one, else one of a qualitative palette by position."""
    from matplotlib import colormaps
    return CARRIER_COLOURS.get(carrier.lower(), colormaps["tab20"](i % 20))


def figure(width: float = 10.0, height: float = 5.0) -> Figure:
    """A figure drawn on the Agg canvas: no display and no pyplot state, so charts work on any server."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def grid(n: int, cols: int = 3, width: float = 14.0, row_height: float = 2.4) -> tuple[Figure, list]:
    """A figure with `n` panels in rows of `cols` sharing the x axis; panels beyond `n` are hidden."""
    cols = max(1, min(cols, n))
    rows = int(np.ceil(n / cols))
    fig = figure(width, max(3.0, row_height * rows))
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path


class TimeAxis:
    """The x axis of hourly charts: the hours themselves when they follow each other, else (representative
    periods, whose hours jump between days of the year) the snapshot's position."""

    def __init__(self, hours: pd.DatetimeIndex):
        self.hours = pd.DatetimeIndex(hours)
        steps = np.diff(self.hours.asi8) if len(self.hours) > 1 else np.array([])
        self.contiguous = bool(len(steps) == 0 or (steps == steps[0]).all())
        self.label = "time (case's local time)" if self.contiguous else \
            "snapshot (h; representative periods in calendar order)"

    def x(self, hours) -> np.ndarray:
        idx = pd.DatetimeIndex(hours)
        return idx.to_numpy() if self.contiguous else self.hours.get_indexer(idx)

    def style(self, ax, label: bool = True) -> None:
        if label:
            ax.set_xlabel(self.label)
        if self.contiguous:
            from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
            loc = AutoDateLocator()
            ax.xaxis.set_major_locator(loc)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(loc))
        ax.grid(True, alpha=0.3)
