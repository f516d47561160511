"""Representative periods: a year told by a few typical days or weeks, solved as one LP.

`cluster` cuts the case's series into whole periods (days or weeks, from the first snapshot; hours left
over at the end are left out and the weights scaled to cover them), describes each period by its hourly
load per region, renewable availability per carrier and hydro inflow energy per region (each feature scaled
by its largest value over the year), groups the periods by Ward's hierarchical clustering
(`scipy.cluster.hierarchy`) and keeps each group's medoid: the real period nearest the group's centroid,
so the hours kept are hours that happened and their load, sun and water stay consistent. This is what tsam
does with its hierarchical method and medoid representation; scipy does it without tsam's pins on pandas
and scikit-learn. Extreme periods asked for (`peak`: the period holding the year's highest system load;
`dry`: the period with the least hydro inflow energy) are kept as groups of their own.

The clustered network holds the representatives' hours in calendar order. Each snapshot's objective
weighting is the number of periods its representative stands for (times the scaling for left-over hours);
storage and reservoirs advance one hour per snapshot (``snapshot_hours`` 1), and energy and emission
limits count the weighted hours, so annual caps read as annual. Load, inflow and non-power gas demand are
rescaled per column so that their weighted sums equal the year's: a clustered year carries the case's
annual load energy and water exactly.

How storage links periods (`Periods.storage`):
- ``clustered`` (default): pumped storage and batteries are cyclic within each representative period;
  reservoirs and gas storage carry their levels from period to period in calendar order (inter-period
  linking, Kotzur et al. 2018): see `gridopt.formulation.hydro` and `gridopt.formulation.gas`.
- ``chained``: every storage runs through all snapshots in their order, as PyPSA does with snapshot
  weightings (for parity with PyPSA networks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import UsageError

PERIOD_HOURS = {"typical-days": 24, "weeks": 168}
EXTREMES = ("peak", "dry")
STORAGE_MODES = ("clustered", "chained")
RESCALED = ("load_firm_mw", "load_interruptible_mw", "inflow_m3s", "gas_demand_mm3_per_h")


@dataclass(frozen=True)
class Periods:
    """The representative periods of a clustered network (positions are snapshot positions in it)."""

    method: str
    hours: int  # per period
    weights: tuple[float, ...]  # periods of the year each representative stands for
    origin: tuple[str, ...]  # first hour of each representative in the case's year
    sequence: tuple[int, ...]  # the representative of each period of the year, in calendar order
    extremes: tuple[str, ...] = ()
    storage: str = "clustered"
    represented_hours: float = 0.0
    # volume series (rule curves, targets) at the last hour of every period of the year, for linked levels
    calendar: dict = field(default_factory=dict, compare=False, repr=False)
    calendar_starts: tuple[str, ...] = ()  # first hour of every period of the year, in calendar order

    @property
    def count(self) -> int:
        return len(self.weights)

    def starts(self) -> np.ndarray:
        return np.arange(self.count) * self.hours

    def summary(self) -> dict:
        return {"method": self.method, "count": self.count, "hours_each": self.hours,
                "weights": list(self.weights), "origin": list(self.origin), "extremes": list(self.extremes),
                "storage": self.storage, "periods_in_year": len(self.sequence)}


def parse_periods(text: str) -> tuple[str, int, tuple[str, ...]]:
    """'typical-days:16', 'weeks:4+peak+dry' -> (method, count, extremes); UsageError otherwise."""
    m = re.fullmatch(r"(typical-days|weeks):(\d+)((?:\+[a-z]+)*)", text.strip())
    if not m or int(m.group(2)) < 1:
        raise UsageError(f"--periods {text!r}: expected typical-days:K or weeks:K with K >= 1, optionally "
                         f"followed by +peak and/or +dry (extreme periods kept on their own)")
    extremes = tuple(e for e in m.group(3).split("+") if e)
    bad = [e for e in extremes if e not in EXTREMES]
    if bad:
        raise UsageError(f"--periods: unknown extreme period {bad[0]!r} (expected one of: {', '.join(EXTREMES)})")
    return m.group(1), int(m.group(2)), tuple(dict.fromkeys(extremes))


def features(net, L: int, n: int) -> np.ndarray:
    """(periods, L * features): hourly load per region, availability per renewable carrier and inflow energy
    per region of each period, every feature scaled by its largest magnitude over the year."""
    rows = slice(0, n * L)
    cols = []
    buses = net.tables["buses"]
    load = np.zeros((n * L, len(buses)))
    for name in ("load_firm_mw", "load_interruptible_mw"):
        if name in net.series:
            load += net.series_values(name, buses.index, rows)
    for r in net.regions:
        cols.append(load[:, (buses["region"] == r).to_numpy()].sum(axis=1))
    g = net.active("generators")
    if len(g):
        avail = net.series_values("p_max_pu", g.index, rows) * g["p_nom"].to_numpy()
        for c in sorted(set(g["carrier"]) & {"pv", "solar", "wind", "onwind", "offwind", "ror"}):
            cols.append(avail[:, (g["carrier"] == c).to_numpy()].sum(axis=1))
    res = net.active("reservoirs")
    if len(res):
        from .formulation.hydro import cascade_energy
        energy = net.series_values("inflow_m3s", res.index, rows) * cascade_energy(res)
        region = buses["region"].reindex(res["bus"]).to_numpy()
        for r in net.regions:
            if (region == r).any():
                cols.append(energy[:, region == r].sum(axis=1))
    X = np.stack(cols, axis=1) if cols else np.zeros((n * L, 1))
    X = X / np.maximum(np.abs(X).max(axis=0), 1e-12)
    return X.reshape(n, L * X.shape[1])


def _extreme(net, X: np.ndarray, L: int, which: str, n: int) -> int:
    rows = slice(0, n * L)
    if which == "peak":
        buses = net.tables["buses"]
        inside = buses.index[buses["region"].isin(net.regions)]
        total = sum(net.series_values(s, inside, rows).sum(axis=1) for s in ("load_firm_mw", "load_interruptible_mw")
                    if s in net.series)
        return int(np.argmax(np.asarray(total).reshape(n, L).max(axis=1)))
    res = net.active("reservoirs")
    if not len(res):
        raise UsageError("--periods +dry: the case has no reservoirs, so no driest period")
    from .formulation.hydro import cascade_energy
    energy = (net.series_values("inflow_m3s", res.index, rows) * cascade_energy(res)).sum(axis=1)
    return int(np.argmin(energy.reshape(n, L).sum(axis=1)))


def cluster(net, method: str, k: int, extremes: tuple[str, ...] = (), storage: str = "clustered"):
    """The network over `k` representative periods (plus the extreme ones asked for); see the module."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if method not in PERIOD_HOURS:
        raise UsageError(f"periods: unknown method {method!r} (expected one of: {', '.join(PERIOD_HOURS)})")
    if storage not in STORAGE_MODES:
        raise UsageError(f"periods: storage must be one of {', '.join(STORAGE_MODES)}, got {storage!r}")
    if getattr(net, "periods", None) is not None or (net.durations() != 1).any():
        raise UsageError("periods: cluster an hourly network (this one is already clustered or resampled)")
    L = PERIOD_HOURS[method]
    total = len(net.snapshots)
    n = total // L
    if n < k + len(extremes):
        raise UsageError(f"periods: {method}:{k} needs at least {k + len(extremes)} whole periods of {L} h; "
                         f"the case's series hold {n}")
    X = features(net, L, n)
    label = np.full(n, -1)
    fixed = []
    for e in extremes:
        p = _extreme(net, X, L, e, n)
        if label[p] < 0:
            label[p] = len(fixed)
            fixed.append(p)
    rest = np.flatnonzero(label < 0)
    if k >= len(rest):
        groups = np.arange(len(rest))
    else:
        groups = fcluster(linkage(X[rest], method="ward"), t=k, criterion="maxclust") - 1
    label[rest] = len(fixed) + groups
    medoids = [int(p) for p in fixed]
    for c in range(len(fixed), label.max() + 1):
        members = np.flatnonzero(label == c)
        centre = X[members].mean(axis=0)
        medoids.append(int(members[np.argmin(((X[members] - centre) ** 2).sum(axis=1))]))
    order = np.argsort(medoids)  # representatives in calendar order
    medoids = [medoids[i] for i in order]
    rank = np.empty(len(order), int)
    rank[order] = np.arange(len(order))
    sequence = rank[label]
    scale = total / (n * L)  # the hours of a last, partial period are spread over all periods
    weights = np.bincount(sequence, minlength=len(medoids)) * scale
    pos = (np.asarray(medoids)[:, None] * L + np.arange(L)[None, :]).ravel()
    w_hour = np.repeat(weights, L)
    snaps = net.snapshots
    index = pd.DatetimeIndex(snaps[pos], name=snaps.name)
    series = {}
    for name, df in net.series.items():
        if name in ("weighting", "snapshot_hours"):
            continue
        part = df.iloc[pos].copy()
        part.index = index
        if name in RESCALED:  # weighted sums equal the year's, column by column
            year = df.to_numpy(dtype=float).sum(axis=0)
            kept = (part.to_numpy(dtype=float) * w_hour[:, None]).sum(axis=0)
            part = part * np.divide(year, kept, out=np.ones_like(year), where=kept > 0)
        series[name] = part
    base_w = net.weightings(slice(None))[pos]
    series["weighting"] = pd.DataFrame({"weighting": base_w * w_hour}, index=index)
    series["snapshot_hours"] = pd.DataFrame({"snapshot_hours": np.ones(len(pos))}, index=index)
    ends = np.arange(1, n + 1) * L - 1
    calendar = {name: df.iloc[ends].set_axis(snaps[ends]) for name, df in net.series.items() if name.endswith("_hm3")}
    periods = Periods(method, L, tuple(float(x) for x in weights), tuple(str(snaps[m * L]) for m in medoids),
                      tuple(int(s) for s in sequence), tuple(extremes), storage, float(total), calendar,
                      tuple(str(t) for t in snaps[np.arange(n) * L]))
    config = {**net.config, "default_hours": 0}
    return net.replace(series=series, config=config, periods=periods)


def with_periods(net, text: str | None = None, storage: str | None = None):
    """`net` over the representative periods `text` asks for (as --periods), else those its settings name
    (case.toml or a scenario: ``periods``, ``periods_storage``); unchanged when neither asks for any."""
    text = text or net.config.get("periods") or ""
    if not text:
        return net
    method, k, extremes = parse_periods(text)
    return cluster(net, method, k, extremes, storage or net.config.get("periods_storage") or "clustered")
