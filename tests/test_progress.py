"""Progress lines: counted steps with an estimate of the time left on a terminal, start and end lines in a
log, nothing with --quiet."""

from __future__ import annotations

import io
import re

import pytest
from test_studies import fuels_case, two_fuels  # noqa: F401 - the fixture and what it builds

from gridopt import progress
from gridopt.cli import main


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_time_left_is_the_mean_step_time_spread_over_the_workers():
    assert progress.remaining([10.0, 20.0], left=4, workers=2) == pytest.approx(30.0)
    assert progress.remaining([10.0], left=1, workers=4) == pytest.approx(10.0)  # one step left: one worker busy
    assert progress.remaining([], left=3, workers=1) == 0.0


def test_steps_show_on_a_terminal_only():
    clock = Clock()
    out = io.StringIO()
    steps = progress.Progress(out, terminal=True, clock=clock).steps(3, workers=1)
    clock.t = 4.0
    steps.done("a", "optimal", seconds=4.0)
    clock.t = 10.0
    steps.done("b", "optimal", seconds=6.0)
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("[1/3] a: optimal, elapsed 4.0 s, ~8.0 s left")
    assert lines[1].endswith("[2/3] b: optimal, elapsed 10.0 s, ~5.0 s left")
    log = io.StringIO()
    quiet_steps = progress.Progress(log, terminal=False).steps(2)
    quiet_steps.done("a", seconds=1.0)
    assert log.getvalue() == ""
    assert progress.seconds_text(125) == "2 min 05 s" and progress.seconds_text(7380) == "2 h 03 min"


def sweep_args(case, out, *extra):
    return ["sweep", str(case), "--vary", "carbon_price=0,50,100", "--out", str(out), "--processes", "2", *extra]


def test_a_sweep_on_a_terminal_reports_each_run(fuels_case, tmp_path, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setattr(progress, "is_terminal", lambda stream: True)
    assert main(sweep_args(fuels_case, tmp_path / "sw")) == 0
    err = capsys.readouterr().err
    done = [line for line in err.splitlines() if "] carbon_price=" in line]
    assert len(done) == 3 and all("elapsed" in line for line in done)
    assert sum("left" in line for line in done) == 2  # the last run leaves nothing to estimate
    assert {re.search(r"\[\d/3\]", line).group() for line in done} == {"[1/3]", "[2/3]", "[3/3]"}
    assert "sweep of 3 runs" in err and "sweep table written" in err


def test_a_sweep_in_a_log_writes_start_and_end_lines_only(fuels_case, tmp_path, capsys):  # noqa: F811
    assert main(sweep_args(fuels_case, tmp_path / "sw")) == 0
    err = capsys.readouterr().err
    assert "sweep of 3 runs" in err and "sweep table written" in err and "[1/3]" not in err


def test_quiet_silences_progress_but_not_results_or_errors(fuels_case, tmp_path, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setattr(progress, "is_terminal", lambda stream: True)
    assert main(sweep_args(fuels_case, tmp_path / "sw", "--quiet")) == 0
    got = capsys.readouterr()
    assert got.err == "" and "carbon_price=50" in got.out
    assert main(["run", str(fuels_case), "--out", str(tmp_path / "r"), "--quiet"]) == 0
    got = capsys.readouterr()
    assert "[gridopt" not in got.err and got.out
    assert main(["pareto", str(fuels_case), "--points", "2", "--out", str(tmp_path / "p"), "--quiet"]) == 0
    assert "[gridopt" not in capsys.readouterr().err
    assert main(sweep_args(fuels_case, tmp_path / "sw2", "--quiet", "--vary", "scenario=nosuch")) == 3
    assert "error:" in capsys.readouterr().err


def test_a_rolling_run_counts_its_windows_and_quiet_silences_it(small_case, tmp_path, capsys):
    args = ["run", str(small_case), "--hours", "6", "--window", "2", "--overlap", "1", "--chains", "1"]
    assert main([*args, "--out", str(tmp_path / "r")]) == 0
    windows = [line for line in capsys.readouterr().err.splitlines() if "] window " in line]
    assert len(windows) == 3 and "(" not in windows[0]
    assert "(1/3 done, elapsed" in windows[1] and "left)" in windows[1] and "(2/3 done" in windows[2]
    assert main([*args, "--out", str(tmp_path / "q"), "--quiet"]) == 0
    assert "[gridopt" not in capsys.readouterr().err


def test_a_running_solve_reports_its_time_and_simplex_iterations(monkeypatch):
    import gridopt
    from gridopt.solvers import highs
    monkeypatch.setattr(highs, "PROGRESS_SECONDS", 0.0)
    lines: list[str] = []
    ctx = gridopt.build_lp(gridopt.load_case("sichuan_chongqing"), start="2025-08-04", hours=24)
    sol = highs.solve(ctx.lp, solver="simplex", progress=lines.append)
    assert sol.status == "optimal" and lines
    assert all(line.startswith("solving: ") and " s elapsed" in line for line in lines)
    assert any("simplex iterations" in line for line in lines)
