"""Pass the sparse LP to HiGHS in one call and read solution and duals back as whole arrays."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np

from ..lp import LinearProgram

DEFAULT_OPTIONS: dict[str, object] = {
    "solver": "auto",  # interior point + crossover, IPX or HiPO by the LP's size (`pick_solver`; README)
    "run_crossover": "on",  # a basic solution: exact duals for prices
    "presolve": "on",
}

# HiGHS's interior point codes: "ipx" (iterative, basis-preconditioned) and "hipo" (direct factorisation, from
# highspy-extras). HiGHS's own "ipm" means HiPO wherever highspy-extras is installed, whatever the size, so
# gridopt names the code it wants: HiPO from this size up, where it was measured faster (benchmarks/README.md)
HIPO_MIN_NONZEROS = 500_000


def has_solver(name: str) -> bool:
    """Whether the installed highspy accepts `solver=name` (hipo needs highspy-extras; pdlp and others
    depend on the build)."""
    if name not in _accepted:
        h = new_highs()
        h.setOptionValue("output_flag", False)
        _accepted[name] = h.setOptionValue("solver", name) == highspy.HighsStatus.kOk
    return _accepted[name]


_accepted: dict[str, bool] = {}


@dataclass
class Solution:
    status: str  # optimal, time_limit, infeasible, unbounded, error
    objective: float = float("nan")  # in LP money units (10^3 CNY), offset included
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    row_dual: np.ndarray = field(default_factory=lambda: np.zeros(0))
    col_dual: np.ndarray = field(default_factory=lambda: np.zeros(0))
    row_activity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    primal_feasible: bool = False
    pass_seconds: float = 0.0
    solve_seconds: float = 0.0
    iterations: dict[str, int] = field(default_factory=dict)
    message: str = ""
    algorithm: str = ""  # the HiGHS solver that ran: ipx, hipo, simplex, pdlp, ...


_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "time_limit",
    "kInterrupt": "interrupted",
}


def pick_solver(nonzeros: int) -> str:
    """The interior point code for an LP of `nonzeros`: HiPO from HIPO_MIN_NONZEROS where it is installed,
    else IPX."""
    return "hipo" if nonzeros >= HIPO_MIN_NONZEROS and has_solver("hipo") else "ipx"


def to_highs(lp: LinearProgram) -> highspy.HighsLp:
    """The LP as a HighsLp with a column-wise matrix."""
    arr = lp.arrays()
    m = lp.matrix
    h = highspy.HighsLp()
    h.num_col_, h.num_row_ = lp.ncols, lp.nrows
    h.col_cost_, h.col_lower_, h.col_upper_ = arr["col_cost"], arr["col_lower"], arr["col_upper"]
    h.row_lower_, h.row_upper_ = arr["row_lower"], arr["row_upper"]
    h.offset_ = float(lp.offset)
    h.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    h.a_matrix_.num_col_, h.a_matrix_.num_row_ = lp.ncols, lp.nrows
    h.a_matrix_.start_ = m.indptr.astype(np.int32)
    h.a_matrix_.index_ = m.indices.astype(np.int32)
    h.a_matrix_.value_ = m.data
    return h


_banner_shown = False


def new_highs() -> highspy.Highs:
    """A Highs instance; the once-per-process banner HiGHS prints on stdout is kept off the CLI's output."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    import os
    import sys
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _banner_shown = True
    return h


def make_highs(lp: LinearProgram, threads: int | None = None, time_limit: float | None = None,
               log: bool = False, **options) -> highspy.Highs:
    h = new_highs()
    h.setOptionValue("output_flag", bool(log))
    opts = dict(DEFAULT_OPTIONS)
    opts.update({k: v for k, v in options.items() if v is not None})
    if opts["solver"] == "auto":
        opts["solver"] = pick_solver(lp.matrix.nnz)
    if threads:
        opts["threads"] = int(threads)
        # HiGHS keeps one thread scheduler per process, sized by the first solve: a later solve asking for
        # another count fails with "scheduler already initialized" (model status not set). Start afresh so
        # the count asked for holds, whatever ran in this process before (solves here are never concurrent).
        highspy.Highs.resetGlobalScheduler(True)
    if time_limit:
        opts["time_limit"] = float(time_limit)
    for k, v in opts.items():
        if h.setOptionValue(k, v) != highspy.HighsStatus.kOk:
            raise ValueError(f"HiGHS rejected option {k}={v!r}")
    h.passModel(to_highs(lp))
    return h


def solve(lp: LinearProgram, threads: int | None = None, time_limit: float | None = None, log: bool = False,
          progress: Callable[[str], None] | None = None, **options) -> Solution:
    """Solve with HiGHS; `options` are HiGHS option names (solver, run_crossover, presolve, ...). `progress`,
    if given, is told the elapsed time and iteration count every PROGRESS_SECONDS while the solve runs."""
    t0 = time.perf_counter()
    h = make_highs(lp, threads=threads, time_limit=time_limit, log=log, **options)
    t1 = time.perf_counter()
    run_interruptibly(h, progress)
    t2 = time.perf_counter()
    return read_solution(h, pass_seconds=t1 - t0, solve_seconds=t2 - t1)


PROGRESS_SECONDS = 10.0  # between progress lines of a running solve


class _Ticker:
    """Counts a running solve's iterations (from HiGHS's interrupt callbacks) and reports them now and then."""

    def __init__(self, h: highspy.Highs, progress: Callable[[str], None], every: float | None = None):
        self.progress, self.every = progress, PROGRESS_SECONDS if every is None else every
        self.t0 = self.last = time.perf_counter()
        self.counts = {"simplex": 0, "ipm": 0}
        h.cbSimplexInterrupt += self._simplex
        h.cbIpmInterrupt += self._ipm

    def _simplex(self, e) -> None:
        self.counts["simplex"] = int(e.data_out.simplex_iteration_count)

    def _ipm(self, e) -> None:
        self.counts["ipm"] = int(e.data_out.ipm_iteration_count)

    def tick(self) -> None:
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            # IPX reports no iteration count to its callbacks (-1): its lines show the time alone
            its = "".join(f", {n:,} {k} iterations" for k, n in self.counts.items() if n > 0)
            self.progress(f"solving: {now - self.t0:.0f} s elapsed{its}")


def run_interruptibly(h: highspy.Highs, progress: Callable[[str], None] | None = None) -> None:
    """Run HiGHS in its worker thread while this thread waits, so that Ctrl-C (and SIGTERM) reach a running
    solve: HiGHS is cancelled and its thread joined, then the signal's own handler runs (the interrupt is
    raised) so no result is written.

    While HiGHS runs, SIGINT and SIGTERM only set a flag: an exception raised between starting and joining
    the worker would leave a joinable C++ thread behind, and the process would abort when it exits."""
    import signal
    import threading
    caught: list[int] = []
    ticker = _Ticker(h, progress) if progress is not None else None
    if threading.current_thread() is not threading.main_thread():
        _run(h, caught, ticker)
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    previous = {sig: handler for sig, handler in previous.items() if handler != signal.SIG_IGN}

    def note(signum, frame) -> None:
        caught.append(signum)
        h.cancelSolve()

    try:
        for sig in previous:
            signal.signal(sig, note)
        _run(h, caught, ticker)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught:
        _deliver(caught[0], previous[caught[0]])


def _run(h: highspy.Highs, caught: list[int], ticker: _Ticker | None = None) -> None:
    h.HandleUserInterrupt = True  # registers the interrupt callbacks that cancelSolve() sets off
    worker = h.startSolve()
    while not h.wait(0.1)[0]:
        if caught:
            h.cancelSolve()
        if ticker is not None:
            ticker.tick()
    worker.join()


def _deliver(signum: int, handler) -> None:
    """Hand a signal caught during the solve to the handler that was in place before it."""
    import os
    import signal
    if callable(handler):  # Python's own SIGINT handler raises KeyboardInterrupt
        handler(signum, None)
    else:  # the default action: end the process as the signal would have
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def read_solution(h: highspy.Highs, pass_seconds: float = 0.0, solve_seconds: float = 0.0) -> Solution:
    ms = h.getModelStatus()
    name = str(ms).split(".")[-1]
    status = _STATUS.get(name, "error")
    info = h.getInfo()
    sol = h.getSolution()
    primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
    out = Solution(status=status, message=h.modelStatusToString(ms), primal_feasible=bool(primal),
                   algorithm=str(h.getOptionValue("solver")[1]),
                   pass_seconds=pass_seconds, solve_seconds=solve_seconds,
                   iterations={"simplex": int(info.simplex_iteration_count), "ipm": int(info.ipm_iteration_count),
                               "crossover": int(info.crossover_iteration_count)})
    if primal or status == "optimal":
        out.objective = float(info.objective_function_value)
        out.x = np.asarray(sol.col_value)
        out.row_activity = np.asarray(sol.row_value)
    if sol.dual_valid:
        out.row_dual = np.asarray(sol.row_dual)
        out.col_dual = np.asarray(sol.col_dual)
    return out
