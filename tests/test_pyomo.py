"""The pyomo twin: same answer as the fast path, and extensible by users."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import gridopt
from gridopt.solvers.pyomo import build_pyomo_model, solve_model


def test_twin_matches_fast_path_on_the_small_case_where_the_optimum_is_unique(small):
    a, b = gridopt.dispatch(small), gridopt.dispatch(small, solver="pyomo")
    assert b.summary["objective_cny"] == pytest.approx(a.summary["objective_cny"], rel=1e-6)
    assert not b.checks
    for table, col in (("generation", "p_mw"), ("prices", "price_cny_per_mwh"), ("flows", "p0_mw"),
                       ("hydro", "volume_hm3"), ("storage", "soc_mwh")):
        assert np.allclose(a.tables[table][col], b.tables[table][col], atol=1e-5, rtol=1e-6), table


@pytest.fixture(scope="module")
def shipped():
    return gridopt.load_case("sichuan_chongqing")


@pytest.mark.parametrize("scenario", [None, "drought_2022", "no_uhv_ac", "year_2030", "winter_cold_spell"])
def test_twin_matches_fast_path_on_24h_of_the_shipped_case(shipped, scenario):
    net = shipped.with_scenario(scenario)
    start = "2025-01-08" if scenario == "winter_cold_spell" else "2025-08-10"  # inside the cold spell
    a = gridopt.dispatch(net, start=start, hours=24)
    b = gridopt.dispatch(net, start=start, hours=24, solver="pyomo")
    assert b.summary["status"] == a.summary["status"] == "optimal"
    assert b.summary["objective_cny"] == pytest.approx(a.summary["objective_cny"], rel=1e-6)
    assert not b.checks
    # totals that are unique even where the dispatch between equal-cost units is not
    for key in ("emissions_t", "load_shed_mwh"):
        for k, v in a.summary[key].items():
            assert b.summary[key][k] == pytest.approx(v, rel=1e-4, abs=1.0), (key, k)


def test_user_extension_caps_chongqing_coal(small):
    m = build_pyomo_model(small)
    base = solve_model(m)
    coal_a = [g for g in m.G if m.gen_carrier[g] == "coal" and m.gen_bus[g] in m.region_buses["A"]]
    before = max(sum(pyo.value(m.gen_p[t, g]) for g in coal_a) for t in m.T)
    m.coal_cap = pyo.Constraint(m.T, rule=lambda m, t: sum(m.gen_p[t, g] for g in coal_a) <= 0.5 * before)
    capped = solve_model(m)
    assert capped["status"] == "optimal"
    assert max(sum(pyo.value(m.gen_p[t, g]) for g in coal_a) for t in m.T) <= 0.5 * before + 1e-6
    assert capped["objective_cny"] > base["objective_cny"]


def test_fast_path_hook_adds_rows_over_named_blocks(small):
    """The same cap through a build hook on the fast path gives the same objective as the pyomo extension."""
    base = gridopt.dispatch(small)
    coal = base.generation[(base.generation["carrier"] == "coal") & (base.generation["region"] == "A")]
    limit = 0.5 * coal.groupby("hour")["p_mw"].sum().max()

    def cap_coal(ctx):
        g = ctx.generators.table
        sel = np.flatnonzero(((g["carrier"] == "coal") & (g["bus"].map(ctx.net.bus_region()) == "A")).to_numpy())
        p = ctx.lp.variables["gen_p"]
        rows = ctx.lp.add_rows("coal_cap_A", ["A"], upper=limit)
        ctx.lp.add_coeffs(rows.idx, p.idx[:, sel], 1.0)  # (hours, 1) rows broadcast over the selected units

    hooked = gridopt.dispatch(small, hooks=[cap_coal])
    m = build_pyomo_model(small)
    coal_a = [g for g in m.G if m.gen_carrier[g] == "coal" and m.gen_bus[g] in m.region_buses["A"]]
    m.coal_cap = pyo.Constraint(m.T, rule=lambda m, t: sum(m.gen_p[t, g] for g in coal_a) <= limit)
    twin = solve_model(m)
    assert hooked.summary["objective_cny"] == pytest.approx(twin["objective_cny"], rel=1e-6)
    assert hooked.summary["objective_cny"] > base.summary["objective_cny"]
    capped = hooked.generation[(hooked.generation["carrier"] == "coal") & (hooked.generation["region"] == "A")]
    assert capped.groupby("hour")["p_mw"].sum().max() <= limit + 1e-6
