"""What a gridopt process does from outside: interrupted at any moment, and the same LP in every run."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

GRIDOPT = [sys.executable, "-m", "gridopt.cli"]


@pytest.mark.slow
def test_interrupt_at_random_moments_always_ends_cleanly(tmp_path):
    """From loading the modules through reading the case, building and solving: exit 130, one line, nothing
    written. (Before the interpreter has imported gridopt's command module, about the first tenth of a
    second, Ctrl-C is Python's own.)"""
    rng = random.Random(20261204)
    moments = [0.6] + [rng.uniform(0.8, 6.0) for _ in range(6)]
    for k, delay in enumerate(moments):
        out = tmp_path / f"out{k}"
        p = subprocess.Popen(GRIDOPT + ["run", "sichuan_chongqing", "--start", "2025-07-01", "--hours", "168",
                                        "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=tmp_path)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        if p.returncode == 0:  # finished before the signal: a whole result
            assert (out / "summary.json").exists()
            continue
        assert p.returncode == 130, (delay, p.returncode, err)
        assert "Traceback" not in err and "terminate called" not in err, err
        assert err.strip().splitlines()[-1] == "error: interrupted; no results written", err
        assert not out.exists()
        assert [f for f in os.listdir(tmp_path) if f.startswith(".")] == []  # no temporary folder left


def _lp_digest(seed: str) -> str:
    code = ("import hashlib, numpy as np, gridopt\n"
            "ctx = gridopt.build_lp(gridopt.load_case('sichuan_chongqing'), start='2025-04-01', hours=24)\n"
            "a = ctx.lp.arrays(); m = ctx.lp.matrix\n"
            "h = hashlib.sha256()\n"
            "[h.update(np.ascontiguousarray(v).tobytes()) for v in (*a.values(), m.data, m.indices, m.indptr)]\n"
            "print(h.hexdigest())\n")
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parent).stdout.strip()


def test_the_lp_is_the_same_bits_in_every_process():
    """String hashing differs between processes; nothing in the LP may depend on it."""
    digests = {_lp_digest(seed) for seed in ("1", "2", "3")}
    assert len(digests) == 1
    assert len(hashlib.sha256().hexdigest()) == len(digests.pop())


def _run(args, cwd, **kw):
    return subprocess.run(GRIDOPT + args, capture_output=True, text=True, cwd=cwd, timeout=300, check=False, **kw)


@pytest.mark.parametrize("start", ["2025-13-45", "yesterday", "2031-01-01"])
@pytest.mark.parametrize("command", ["run", "export-lp"])
def test_a_bad_start_is_one_line_and_exit_2(tmp_path, start, command):
    extra = [str(tmp_path / "m.mps")] if command == "export-lp" else ["--out", str(tmp_path / "out")]
    p = _run([command, "sichuan_chongqing", "--start", start, *extra], tmp_path)
    assert p.returncode == 2, p.stderr
    said = [line for line in p.stderr.strip().splitlines() if not line.startswith("[gridopt")]  # not progress
    assert len(said) == 1 and said[0].startswith("error: ") and "Traceback" not in p.stderr, p.stderr
    assert os.listdir(tmp_path) == []


def test_an_existing_results_folder_is_kept_unless_forced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    p = _run(["run", "sichuan_chongqing", "--hours", "2", "--out", str(out)], tmp_path)
    assert p.returncode == 2 and "--force" in p.stderr and "building" not in p.stderr, p.stderr
    assert (out / "summary.json").read_text() == "{}"
    p = _run(["run", "sichuan_chongqing", "--hours", "2", "--out", str(out), "--force"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert (out / "prices.parquet").exists()


def test_results_are_as_readable_as_the_umask_says(tmp_path):
    code = ("import os, gridopt\nos.umask(0o022)\n"
            "r = gridopt.dispatch(gridopt.load_case('sichuan_chongqing'), hours=2)\n"
            f"p = r.write({str(tmp_path / 'res')!r})\nprint(oct(os.stat(p).st_mode & 0o777))\n")
    mode = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert mode == "0o755"


def test_tables_hold_no_negative_zero():
    import numpy as np

    import gridopt
    r = gridopt.dispatch(gridopt.load_case("sichuan_chongqing"), start="2025-04-01", hours=6)
    for name, df in r.tables.items():
        for col in df.columns[[dt.kind == "f" for dt in df.dtypes]]:
            v = df[col].to_numpy()
            assert not (np.signbit(v) & (v == 0)).any(), (name, col)
