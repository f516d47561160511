"""`sweep`: one dispatch per combination of overrides (their cartesian product), each written to its own
results folder, and `sweep.parquet` with every run's overrides and flattened summary in a row.

Runs go through `gridopt.executors`: local processes, or any executor given (a dask.distributed Client:
its workers then write the run folders, so the output folder must be one they reach). A run that fails is
recorded with its error and stops no other. A run is done again only when its folder does not hold an
optimal solve of the same key: the hash of the case's inputs, the run's overrides and the sweep's own
options, so re-running a sweep redoes only what is missing, failed or changed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import CaseError, UsageError
from ..executors import connect, map_shared
from ..progress import Progress, Steps
from . import overrides as ov

TIMING_KEYS = ("build_seconds", "pass_seconds", "solve_seconds", "extract_seconds")  # differ run to run
FOLDER_CHARS = re.compile(r"[^A-Za-z0-9._=+-]+")


@dataclass(frozen=True)
class Job:
    name: str  # sub-folder of the sweep's folder
    key: str  # hash of inputs, overrides and options: a folder holding this key is complete
    overrides: dict[str, str]
    folder: str


@dataclass(frozen=True)
class Base:
    """What every run of a sweep shares: the case (its sweep-wide scenarios applied) and dispatch options."""

    net: Any
    run: dict[str, Any] = field(default_factory=dict)


def combinations(vary: Mapping[str, Sequence[Any]]) -> list[dict[str, str]]:
    """Every combination of the values of `vary`, the first key varying slowest."""
    keys = list(vary)
    for k in keys:
        ov.check_key(k)
        if not len(vary[k]):
            raise UsageError(f"--vary {k}: no values")
        for v in vary[k]:
            ov.typed(k, str(v))  # a value of the wrong kind is a usage error, before any run starts
    return [dict(zip(keys, (str(v) for v in vals))) for vals in itertools.product(*(vary[k] for k in keys))]


def folder_name(overrides: Mapping[str, str], key: str) -> str:
    """A readable, file-safe name of a run's folder (its overrides; shortened with its key when long)."""
    text = "_".join(f"{k}={v}" for k, v in overrides.items()) or "base"
    name = FOLDER_CHARS.sub("-", text).strip("-.")
    return name if len(name) <= 96 else f"{name[:80]}-{key[:12]}"


def job_key(input_hash: str, overrides: Mapping[str, str], run: Mapping[str, Any]) -> str:
    text = json.dumps({"inputs": input_hash, "overrides": dict(overrides), "run": dict(run)}, sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, CaseError):
        return "; ".join(str(p) for p in exc.problems)
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, UsageError) else str(exc)


def solve_job(base: Base, job: Job) -> dict[str, Any]:
    """Solve one run and write its folder; returns its summary, or its error. Never raises an Exception:
    one failed run must leave the others running."""
    t0 = time.perf_counter()
    try:
        from ..engine import dispatch
        from ..formulation.context import DispatchOptions
        from ..results import write_atomic
        from ..rolling import RollingOptions, dispatch_rolling
        net, kw = ov.apply(base.net, job.overrides, base.run)
        horizon = DispatchOptions.create(net, start=kw.get("start"), hours=kw.get("hours"))
        # capacity decisions and representative periods need one LP; long horizons roll in one chain, as a
        # sweep already keeps every process busy
        window = 0 if net.extendable() or net.periods is not None else None
        roll = RollingOptions.for_horizon(horizon.hours, window=window, chains=1, processes=1)
        if roll.windowed:
            res = dispatch_rolling(net, options=roll, **kw)
        else:
            res = dispatch(net, raise_on_failure=False, **kw)
        s = res.summary
        s["sweep"] = {"key": job.key, "overrides": dict(job.overrides)}
        ok = s["status"] == "optimal" or (s["status"] == "time_limit" and res.tables and not res.checks)
        write_atomic(job.folder, s, res.tables if ok else {})
        return {"summary": s, "error": "" if s["status"] == "optimal" else f"status {s['status']}",
                "seconds": time.perf_counter() - t0}
    except Exception as exc:  # noqa: BLE001 - recorded in the sweep's table; the other runs go on
        return {"summary": None, "error": _error_text(exc), "seconds": time.perf_counter() - t0}


def _done(job: Job) -> dict[str, Any] | None:
    """The summary of a complete earlier run of `job`, else None."""
    f = Path(job.folder) / "summary.json"
    try:
        s = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return s if s.get("status") == "optimal" and s.get("sweep", {}).get("key") == job.key else None


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted columns; lists as JSON text (a table cell holds one value)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, name + "."))
        elif isinstance(v, (list, tuple)):
            out[name] = json.dumps(v, default=str)
        else:
            out[name] = v
    return out


def row(job: Job, summary: Mapping[str, Any] | None, error: str, reused: bool) -> dict[str, Any]:
    r: dict[str, Any] = {"run": job.name, "status": (summary or {}).get("status", "error"), "error": error,
                         "reused": reused}
    r.update({f"vary.{k}": ov.typed(k, v) for k, v in job.overrides.items()})
    if summary:
        r.update(flatten({k: v for k, v in summary.items() if k != "sweep"}))
    return r


def _executor(scheduler: str | None, executor: Any) -> tuple[Any, Any]:
    """(executor to use, client to close afterwards) for a scheduler address."""
    if scheduler is None or executor is not None:
        return executor, None
    client = connect(scheduler)
    return client, client


def sweep(case: Any, vary: Mapping[str, Sequence[Any]], out: str | os.PathLike, *, scenario: Sequence[str] | None = None,
          processes: int = 2, executor: Any = None, scheduler: str | None = None, progress=None,
          **run: Any) -> pd.DataFrame:
    """Dispatch `case` (a name, a folder or a Network) once per combination of `vary` ({key: [values]}, keys
    as in `gridopt.studies.overrides`), each run in its own folder under `out`, and write `out`/sweep.parquet:
    one row per run with `run` (its folder), `status` ('optimal', another solver status, or 'error'), `error`,
    `reused` (complete from an earlier sweep), `vary.<key>` for each override and the run's summary flattened
    (nested keys joined by dots). `scenario` applies to every run (before any varied one); `run` holds
    dispatch keywords for every run (start, hours, carbon_price, carbon_caps, intensity_caps,
    imported_emissions, kvl, reserves, gas, threads). Runs go to `executor` (anything with submit, e.g. a dask
    Client), or to a Client of `scheduler` (an address), else to `processes` local processes. `progress` is
    a callable given a line at the start and the end, or a `gridopt.progress.Progress`, which also reports
    each finished run (on a terminal). Returns the table."""
    from ..casefiles import load_case
    net = case if hasattr(case, "tables") else load_case(case)
    net = net.with_scenario(list(scenario)) if scenario else net
    for k in vary:
        ov.check_setting(net, k)
    run = {k: v for k, v in run.items() if v is not None}
    combos = combinations(vary)
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    base_hash = net.content_hash()
    jobs = []
    for c in combos:
        key = job_key(base_hash, c, run)
        name = folder_name(c, key)
        jobs.append(Job(name, key, c, str(outdir / name)))
    if len({j.name for j in jobs}) < len(jobs):
        raise UsageError("two runs of the sweep would share a folder: give each --vary value once")
    done = {j.name: _done(j) for j in jobs}
    todo = [j for j in jobs if done[j.name] is None]
    say = progress or (lambda msg: None)
    say(f"sweep of {len(jobs)} runs: {len(jobs) - len(todo)} complete already, {len(todo)} to solve")
    t0 = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    if todo:
        ex, client = _executor(scheduler, executor)
        try:
            shared: Any = Base(net, run)
            if ex is not None and callable(getattr(ex, "scatter", None)):
                shared = ex.scatter(shared, broadcast=True)  # shipped to each worker once, not with every run
            steps = _steps(progress, len(todo), processes if ex is None else len(todo))
            got = map_shared(solve_job, todo, shared=shared, executor=ex, processes=processes,
                             on_done=lambda i, g: steps.done(todo[i].name, g["error"] or "optimal", g.get("seconds")))
        finally:
            if client is not None:
                client.close()
        results = {j.name: g for j, g in zip(todo, got)}
    say(f"sweep solved {len(todo)} runs in {time.perf_counter() - t0:.1f} s")
    rows = [row(j, done[j.name], "", True) if done[j.name] is not None else
            row(j, results[j.name]["summary"], results[j.name]["error"], False) for j in jobs]
    table = pd.DataFrame(rows)
    _write_table(table, outdir / "sweep.parquet")
    return table


def _steps(progress: Any, total: int, workers: int) -> Steps:
    """Counted steps on `progress` where it is a Progress; else steps nobody sees."""
    return (progress if isinstance(progress, Progress) else Progress(quiet=True)).steps(total, workers)


def _write_table(table: pd.DataFrame, path: Path) -> None:
    """Write atomically: a reader never sees half a table."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    clean = table.copy()
    for col in clean.columns[clean.dtypes == object]:
        kinds = {type(v) for v in clean[col] if not _missing(v)}
        if len(kinds) > 1:  # mixed kinds of value in a column do not fit one Parquet type
            clean[col] = clean[col].map(lambda v: None if _missing(v) else str(v))
    clean.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def failed(table: pd.DataFrame) -> pd.DataFrame:
    """The runs of a sweep table that did not end optimal."""
    return table[table["status"] != "optimal"]
