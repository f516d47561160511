"""Where many solves run: a pool of local processes, or any executor the caller gives.

An executor here is anything with ``submit(fn, *args)`` returning a future with ``result()``: a
`concurrent.futures` executor, or a dask.distributed ``Client`` (or its ``get_executor()``). Work is a
function applied to items, with results in the items' order::

    results = map_shared(solve_one, items, shared=net)                      # local processes
    results = map_shared(solve_one, items, shared=net, executor=client)     # a dask cluster

`solve_one(shared, item)` is given the same `shared` object (e.g. the network) with every item. Local
worker processes are forked and receive it once, at their start; a given executor receives it with each
item, as its own way of shipping arguments does.

HiGHS solves do not run side by side in threads of one process (highspy's solve lock is shared by all its
instances): a thread pool given for solves needs a single worker. Side by side, use processes.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Callable, Iterable
from typing import Any

_SHARED: Any = None  # in a local worker process: the object its pool was started with


def _install(shared: Any) -> None:
    global _SHARED
    _SHARED = shared


def _call_with_shared(fn: Callable[[Any, Any], Any], item: Any) -> Any:
    return fn(_SHARED, item)


def connect(scheduler: str) -> Any:
    """A dask.distributed Client of the scheduler at `scheduler` (close it when done); UsageError otherwise."""
    from .errors import UsageError
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs dask.distributed: pip install 'dask[distributed]'") from None
    try:
        return Client(scheduler, timeout="20s")
    except OSError as exc:
        raise UsageError(f"--scheduler {scheduler}: cannot reach the scheduler ({exc})") from None


def local_processes(processes: int, shared: Any = None) -> cf.ProcessPoolExecutor:
    """A pool of `processes` forked worker processes, each holding `shared` from its start: forked, not
    pickled, so it is neither copied per task nor required to pickle (hooks defined in a function work)."""
    if processes < 1:
        raise ValueError(f"processes must be >= 1, got {processes}")
    return cf.ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("fork"),
                                  initializer=_install, initargs=(shared,))


def map_shared(fn: Callable[[Any, Any], Any], items: Iterable[Any], shared: Any = None, *, executor: Any = None,
               processes: int = 2, on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
    """``[fn(shared, item) for item in items]``, computed side by side, in the items' order.

    With `executor` (anything offering ``submit``), the work runs there and the executor stays open for the
    caller; else on a pool of at most `processes` local processes, closed when done. An exception raised by
    `fn` is raised here. `on_done(i, result)` is called for each item as it finishes (local processes and
    `concurrent.futures` executors; other executors' results are reported in the items' order).
    """
    items = list(items)
    if executor is not None:
        if not callable(getattr(executor, "submit", None)):
            raise TypeError(f"an executor needs a submit method; got {type(executor).__name__}")
        futures = [executor.submit(fn, shared, item) for item in items]
        return _collect(futures, on_done)
    if not items:
        return []
    with local_processes(min(processes, len(items)), shared) as pool:
        futures = [pool.submit(_call_with_shared, fn, item) for item in items]
        return _collect(futures, on_done)


def _collect(futures: list[Any], on_done: Callable[[int, Any], None] | None) -> list[Any]:
    if on_done is None:
        return [f.result() for f in futures]
    if all(isinstance(f, cf.Future) for f in futures):
        index = {id(f): i for i, f in enumerate(futures)}
        for f in cf.as_completed(futures):
            on_done(index[id(f)], f.result())
        return [f.result() for f in futures]
    out = []
    for i, f in enumerate(futures):
        out.append(f.result())
        on_done(i, out[-1])
    return out
