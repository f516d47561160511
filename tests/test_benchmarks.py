"""The benchmark suite's smoke run and the synthetic network generator (no wall-clock assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gridopt
from gridopt.checks import check_tables
from gridopt.synthetic import synthetic_network

REPO = Path(__file__).resolve().parents[1]
PHASES = ("build_s", "pass_s", "run_s", "extract_s", "total_s", "load_s")
SIZES = ("rows", "columns", "nonzeros")


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x) and x > 0


def test_quick_suite_writes_every_phase_and_size(tmp_path):
    """`python -m benchmarks` on the smallest registry case: JSON and Markdown with sane figures."""
    cmd = [sys.executable, "-m", "benchmarks", "--cases", "syn_4x24", "--out", str(tmp_path), "--label", "test",
           "--quiet"]
    proc = subprocess.run(cmd, check=False, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    files = sorted(tmp_path.glob("*_test.json"))
    assert len(files) == 1 and files[0].with_suffix(".md").is_file()
    doc = json.loads(files[0].read_text())
    m = doc["machine"]
    assert m["cpu_model"] and m["cpu_count"] >= 1 and m["python"]
    for pkg in ("numpy", "scipy", "highspy", "gridopt"):
        assert m["versions"][pkg]
    assert doc["run"]["threads"] == 1
    (r,) = doc["results"]
    assert r["ok"] and r["status"] == "optimal" and r["case"] == "syn_4x24"
    for key in PHASES:
        assert _positive(r[key]), key
    for key in SIZES:
        assert isinstance(r[key], int) and r[key] > 0, key
    assert _positive(r["peak_rss_mb"]) and r["peak_rss_mb"] >= r["rss_after_imports_mb"] * 0.5
    assert r["threads"] == 1 and r["balance_check_failures"] == 0
    assert "| syn_4x24 |" in proc.stdout

    from benchmarks.__main__ import main
    assert main(["--merge", str(files[0]), str(files[0]), "--out", str(tmp_path), "--label", "merged",
                 "--quiet"]) == 0
    merged = json.loads(next(tmp_path.glob("*_merged.json")).read_text())
    assert len(merged["results"]) == 2 and merged["results"][0]["source"] == files[0].name


def test_registry_has_the_sized_cases():
    from benchmarks.cases import CASES, select
    for name in ("shipped_24h", "shipped_168h", "shipped_720h", "shipped_2190h", "shipped_8760h",
                 "syn_30x168", "syn_60x168", "syn_30x720", "syn_10x2190"):
        assert name in CASES
    assert {c.name for c in select(tag="quick")} == {"syn_4x24", "shipped_24h"}


def test_ratios_and_exponents_from_measurements():
    from benchmarks.report import comparison_ratios, fit_exponents, markdown
    rows = [{"ok": True, "status": "optimal", "variant": "ipm+crossover", "kind": "shipped", "hours": h,
             "case": f"c{h}", "group": "suite", "build_s": 0.01 * h, "pass_s": 0.001 * h, "run_s": 0.001 * h ** 2,
             "extract_s": 0.002 * h, "total_s": 1.0, "nonzeros": 100 * h, "peak_rss_mb": 100.0}
            for h in (24, 168, 720)]
    exps = fit_exponents(rows)
    assert exps[0]["build_exponent"] == pytest.approx(1.0) and exps[0]["run_exponent"] == pytest.approx(2.0)
    cmp_rows = [dict(rows[0], group="kvl", variant="ipm+crossover", objective_cny=100.0),
                dict(rows[0], group="kvl", variant="angles", run_s=rows[0]["run_s"] * 2, objective_cny=100.0)]
    (ratio,) = comparison_ratios(cmp_rows)
    assert ratio["run_s_ratio"] == pytest.approx(2.0) and ratio["objective_rel_diff"] == 0.0
    doc = {"machine": {"versions": {}, "cpu_model": "x", "cpus_usable": 1, "cpu_count": 1, "memory_gib": 1,
                       "platform": "p", "python": "3"},
           "run": {"label": "t", "started": "now", "threads": 1, "repeat": 1},
           "results": rows + cmp_rows, "ratios": [ratio], "exponents": exps, "notes": ["n"]}
    assert "angles / ipm+crossover" in markdown(doc)


def _same(a: gridopt.Network, b: gridopt.Network) -> None:
    assert dict(a.config) == dict(b.config)
    for comp in a.tables:
        pd.testing.assert_frame_equal(a.tables[comp], b.tables[comp])
    assert set(a.series) == set(b.series)
    for name in a.series:
        pd.testing.assert_frame_equal(a.series[name], b.series[name])


def test_synthetic_network_is_deterministic():
    a, b = synthetic_network(8, 48, seed=3), synthetic_network(8, 48, seed=3)
    _same(a, b)
    assert a.content_hash() == b.content_hash()
    c = synthetic_network(8, 48, seed=4)
    assert c.content_hash() != a.content_hash()


def test_synthetic_network_scales_with_sizes():
    net = synthetic_network(6, 24, seed=1, coal_per_bus=2, reservoirs_per_bus=2, chords=3, cascade_length=2)
    t = net.tables
    assert len(t["buses"]) == 6 and len(t["lines"]) == 6 + 3
    assert (t["generators"]["carrier"] == "coal").sum() == 12 and t["generators"]["committable"].sum() == 12
    assert len(t["reservoirs"]) == 12 and (t["reservoirs"]["downstream"] != "").sum() == 6
    assert set(t["buses"]["region"]) == {"North", "South"} and len(net.snapshots) == 24
    pv = net.series["p_max_pu"]
    night = pv.index.hour.isin([0, 1, 2, 3, 22, 23])
    assert (pv[night] == 0).all().all() and (pv[~night].to_numpy() > 0).any()
    with pytest.raises(TypeError):
        synthetic_network(4, 24, buses_per_bus=1)


@pytest.mark.parametrize("kvl", ["cycles", "angles"])
def test_synthetic_network_is_feasible_and_balanced(kvl):
    net = synthetic_network(10, 48, seed=2)
    res = gridopt.dispatch(net, kvl=kvl)
    assert res.summary["status"] == "optimal"
    assert check_tables(res.tables) == []
    assert res.summary["rows"] > 0 and res.summary["nonzeros"] > 0
    assert set(res.tables["generation"]["carrier"]) >= {"coal", "gas", "pv", "hydro_reservoir"}


def test_rolling_comparison_measures_windows_against_one_lp():
    """The rolling comparison's variants run through the worker: a synthetic 72 h case in 24 h windows."""
    from benchmarks.variants import Variant, rolling_variants
    from benchmarks.worker import measure
    fields = {"name": "syn_4x72", "kind": "synthetic", "hours": 72, "n_buses": 4, "seed": 1, "tags": []}
    one = measure({"case_fields": fields, "variant": rolling_variants()[0].to_dict(), "threads": 1})
    for parallel, chains in ((False, None), (True, None), (True, 2)):
        v = Variant("w", path="rolling", rolling={"window": 24, "overlap": 12, "parallel": parallel, "processes": 2,
                                                  "chains": chains})
        r = measure({"case_fields": fields, "variant": v.to_dict(), "threads": 1})
        assert r["status"] == "optimal" and r["balance_check_failures"] == 0
        assert r["rolling"]["windows"] == 3 and r["rolling"]["mode"] == ("parallel" if parallel else "sequential")
        assert r["rolling"]["chains"] == (chains or 3 if parallel else 1)
        assert r["rolling"]["credit"] == (not parallel)  # an 8-h guide at 72 h: credited in one chain only
        assert _positive(r["total_s"]) and _positive(r["run_s"]) and r["rows"] < one["rows"]
        gap = (r["objective_cny"] - one["objective_cny"]) / abs(one["objective_cny"])
        # sequential windows find the optimum here; windows joined at the guide's states pay for them (4.5-5.3 %,
        # with an 8-h or a daily guide)
        assert -1e-7 <= gap < (1e-4 if not parallel else 0.06), (gap, r["objective_cny"], one["objective_cny"])
        assert ("rss_parallel_bound_mb" in r) == parallel


@pytest.mark.slow
def test_plain_case_gives_pypsa_the_same_lp():
    """On a plain registry case PyPSA solves gridopt's exported network: the same objective. On a full one it
    solves the exporter's approximation, and the record names what was approximated."""
    pytest.importorskip("pypsa")
    from benchmarks.cases import CASES
    from benchmarks.runner import spec_for
    from benchmarks.variants import BASELINE, Variant
    from benchmarks.worker import measure
    case = CASES["syn_4x24_plain"]
    fast = measure(spec_for(case, BASELINE, 1, None))
    twin = measure(spec_for(case, Variant("pypsa", path="pypsa"), 1, None))
    assert fast["status"] == twin["status"] == "optimal"
    assert twin["pypsa_network"] == "gridopt export-pypsa (same LP)"
    assert twin["objective_cny"] == pytest.approx(fast["objective_cny"], rel=1e-7)
    full = measure(spec_for(CASES["syn_4x24"], Variant("pypsa", path="pypsa"), 1, None))
    assert full["status"] == "optimal" and full["pypsa_network"] == "gridopt export-pypsa (approximated)"
    assert any("committable" in a for a in full["pypsa_approximations"])
    assert any("reservoir" in a for a in full["pypsa_approximations"])
