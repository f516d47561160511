"""Where many solves run: local forked processes, or an executor the caller gives."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from gridopt.executors import local_processes, map_shared
from gridopt.rolling import dispatch_rolling
from gridopt.synthetic import synthetic_network


def _scaled(shared, item):
    return shared["k"] * item


def _apply(shared, item):
    return shared(item)


def _fail(shared, item):
    if item == 2:
        raise ValueError(f"item {item}")
    return item


def test_local_processes_keep_the_items_order_and_hold_the_shared_object():
    assert map_shared(_scaled, range(5), shared={"k": 3}, processes=2) == [0, 3, 6, 9, 12]
    # forked workers inherit the shared object: a lambda, which would not pickle, works
    assert map_shared(_apply, [1, 2, 3], shared=lambda x: x + 10, processes=2) == [11, 12, 13]
    assert map_shared(_scaled, [], shared={"k": 1}) == []
    with local_processes(1, {"k": 2}) as pool:
        assert pool.submit(max, 1, 4).result() == 4  # a concurrent.futures executor


def test_a_given_executor_runs_the_work_and_stays_open():
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert map_shared(_scaled, [3, 1, 2], shared={"k": 2}, executor=pool) == [6, 2, 4]
        assert pool.submit(max, 1, 2).result() == 2
    with pytest.raises(TypeError, match="submit"):
        map_shared(_scaled, [1], shared={"k": 1}, executor=object())


def test_an_error_in_the_work_is_raised():
    with pytest.raises(ValueError, match="item 2"):
        map_shared(_fail, [1, 2, 3], processes=2)
    with ThreadPoolExecutor(max_workers=2) as pool, pytest.raises(ValueError, match="item 2"):
        map_shared(_fail, [1, 2, 3], executor=pool)


def test_rolling_chains_on_a_thread_pool_match_local_processes():
    """Chains on a caller's executor give what they give on local processes. One thread: HiGHS solves do
    not run side by side in threads of one process (highspy shares its solve lock between instances)."""
    syn = synthetic_network(4, 120, seed=3)
    kw = dict(window=24, overlap=12, tail=0, parallel=True, chains=2)
    with ThreadPoolExecutor(max_workers=1) as pool:
        threaded = dispatch_rolling(syn, executor=pool, **kw)
    forked = dispatch_rolling(syn, processes=2, **kw)
    assert threaded.summary["rolling"]["chains"] == 2
    assert threaded.summary["objective_cny"] == pytest.approx(forked.summary["objective_cny"], rel=1e-9)
    assert threaded.tables["generation"]["p_mw"].to_numpy() == pytest.approx(
        forked.tables["generation"]["p_mw"].to_numpy(), abs=1e-6)


def test_run_sends_rolling_chains_to_a_dask_scheduler(tmp_path):
    import json

    import distributed

    import gridopt
    from gridopt.cli import main
    case = gridopt.write_case(synthetic_network(4, 120, seed=3), tmp_path / "syn")
    opts = ["--hours", "120", "--window", "24", "--overlap", "12", "--tail", "0", "--chains", "2"]
    assert main(["run", str(case), *opts, "--processes", "2", "--out", str(tmp_path / "local")]) == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cl:
        assert main(["run", str(case), *opts, "--scheduler", cl.scheduler_address, "--out", str(tmp_path / "dask")]) == 0
    a, b = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("local", "dask"))
    assert b["objective_cny"] == pytest.approx(a["objective_cny"], rel=1e-9)
    assert main(["run", str(case), "--hours", "24", "--scheduler", "tcp://127.0.0.1:1", "--out",
                 str(tmp_path / "x")]) == 2  # one LP: nothing to send
