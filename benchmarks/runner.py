"""Run measurements each in its own process and gather them with the machine they ran on."""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from importlib import metadata
from pathlib import Path
from statistics import median
from typing import Any

from .cases import Case
from .variants import Variant

REPO = Path(__file__).resolve().parents[1]
PHASES = ("load_s", "warmup_s", "build_s", "pass_s", "run_s", "extract_s", "total_s", "highs_run_time_s",
          "build_cpu_s", "pass_cpu_s", "run_cpu_s", "extract_cpu_s", "total_cpu_s")
MEMORY = ("rss_after_imports_mb", "rss_after_load_mb", "rss_after_build_mb", "rss_after_pass_mb",
          "rss_after_run_mb", "rss_after_extract_mb", "peak_rss_self_mb", "peak_rss_children_mb", "peak_rss_mb")
SIZES = ("rows", "columns", "nonzeros")


def spec_for(case: Case, variant: Variant, threads: int, time_limit: float | None) -> dict[str, Any]:
    fields = asdict(case)
    fields["tags"] = sorted(fields["tags"])
    return {"case": case.name, "case_fields": fields, "variant": variant.to_dict(), "threads": threads, "time_limit": time_limit}


def run_one(case: Case, variant: Variant, threads: int = 1, time_limit: float | None = None,
            timeout: float | None = None) -> dict[str, Any]:
    """One measurement in a fresh interpreter; the child's own peak RSS comes from ``os.wait4``."""
    with tempfile.TemporaryDirectory(prefix="gridopt-bench-") as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_path.write_text(json.dumps(spec_for(case, variant, threads, time_limit)), encoding="utf-8")
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads), PYTHONPATH=os.pathsep.join(
                       [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.worker", str(spec_path), str(out_path)],
                                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.perf_counter() - t0 > timeout:
                proc.send_signal(signal.SIGKILL)
                timed_out = True
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        proc.stderr and proc.stderr.close()
        if out_path.is_file():
            out = json.loads(out_path.read_text(encoding="utf-8"))
        else:
            out = {"case": case.name, "variant": variant.label, "ok": False,
                   "error": "timed out (killed)" if timed_out else f"worker exited {proc.returncode}: "
                   + (stderr.strip().splitlines() or [""])[-1]}
    out["peak_rss_mb"] = usage.ru_maxrss / 1024.0  # the child's own maximum resident set (KiB -> MiB)
    out["wall_s"] = wall
    out["timed_out"] = timed_out
    out["case_description"] = case.describe()
    out["hours"] = case.hours
    out["kind"] = case.kind
    out["n_buses"] = case.n_buses
    out["start"] = case.start
    return out


def aggregate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of every phase and memory figure over repeated measurements; the rest from the first."""
    ok = [s for s in samples if s.get("ok")]
    base = dict(ok[0] if ok else samples[0])
    base["repeats"] = len(samples)
    for key in PHASES + MEMORY + ("wall_s",):
        vals = [s[key] for s in ok if isinstance(s.get(key), (int, float))]
        if vals:
            base[key] = float(median(vals))
    if len(samples) > 1:
        base["samples"] = [{k: s.get(k) for k in PHASES + ("peak_rss_mb", "status")} for s in samples]
    return base


def run_suite(plan: list[tuple[str, Case, Variant]], repeat: int = 1, threads: int = 1,
              time_limit: float | None = None, timeout: float | None = None,
              progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Measure every (group, case, variant) of `plan` `repeat` times, each in its own process."""
    results = []
    picked: dict[str, str] = {}  # case -> the HiGHS code gridopt's own run chose ("auto": by its LP's size)
    for i, (group, case, variant) in enumerate(plan, 1):
        if variant.path == "pypsa" and variant.highs.get("solver") == "auto" and case.name in picked:
            # PyPSA solves the same LP: it gets the same code, whatever its own matrix's nonzero count
            variant = replace(variant, highs={**variant.highs, "solver": picked[case.name]})
        samples = []
        for r in range(repeat):
            if progress:
                progress(f"[{i}/{len(plan)}] {case.name} / {variant.label}"
                         + (f" (repeat {r + 1}/{repeat})" if repeat > 1 else "") + " ...")
            s = run_one(case, variant, threads=threads, time_limit=time_limit, timeout=timeout)
            samples.append(s)
            if progress:
                progress("    " + _one_line(s))
        m = aggregate(samples)
        m["group"] = group
        if variant.path == "fast" and m.get("algorithm"):
            picked.setdefault(case.name, m["algorithm"])
        results.append(m)
    return results


def _one_line(s: dict[str, Any]) -> str:
    if not s.get("ok"):
        return f"failed: {s.get('error')}"
    f = lambda k: f"{s[k]:.3f}" if isinstance(s.get(k), (int, float)) else "-"
    return (f"{s.get('status')}  build {f('build_s')} s, pass {f('pass_s')} s, run {f('run_s')} s, "
            f"extract {f('extract_s')} s (run CPU {f('run_cpu_s')} s), rows {s.get('rows')}, peak {s.get('peak_rss_mb', 0):.0f} MiB")


# ---- the machine and the software ---------------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 ** 2, 2)
    except OSError:
        pass
    return None


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    status = _git("status", "--porcelain")
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "memory_gib": _memory_gib(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in ("numpy", "scipy", "pandas", "highspy", "pyomo", "networkx",
                                               "gridopt", "pypsa", "linopy")},
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
    }
