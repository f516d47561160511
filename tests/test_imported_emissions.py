"""Imported emissions: the rule of gridopt.formulation.emissions on hand-computed tiny networks.

Power from outside the regions (a market's sales at an external bus, units at external buses) carries its
emission factor to the region its lines and links carry it into. With imported_emissions = "none" the carbon
price and caps ignore it; with "attributed" it is priced and capped there. Every figure below is computed by
hand from the tables given.
"""

from __future__ import annotations

import json

import pytest
from tiny import buses, net, series, solve

import gridopt
from gridopt.cli import main
from gridopt.errors import CaseError, UsageError
from gridopt.formulation.emissions import importers
from gridopt.report import summary_text

MARKET = {"name": "mkt", "bus": "x", "sell_max_mw": 100, "sell_price": 30.0, "co2_t_per_mwh": 0.5}


def both(n, **kw):
    """Fast path and pyomo twin: same status and objective; the fast path's after-solve checks pass."""
    res = gridopt.dispatch(n, **kw)
    other = gridopt.dispatch(n, solver="pyomo", **kw)
    assert res.summary["status"] == other.summary["status"] == "optimal"
    a, b = res.summary["objective_cny"], other.summary["objective_cny"]
    assert abs(a - b) <= 1e-6 * max(1.0, abs(a)), (a, b)
    assert res.checks == []
    return res


def importing(local_cost: float, local_co2: float = 0.0, hours: int = 1, load=40.0, **config):
    """Region A (bus a) with load and one local unit; a market at external bus x sells into a over a link."""
    return net({"buses": buses("a") + buses("x", region="external"),
                "generators": [{"name": "local", "bus": "a", "carrier": "gas", "p_nom": 100,
                                "marginal_cost": local_cost, "co2_t_per_mwh": local_co2}],
                "links": [{"name": "in", "bus0": "x", "bus1": "a", "p_nom": 100}],
                "markets": [MARKET]},
               {"load_firm_mw": series(hours, a=load)}, hours=hours, **config)


def p_mw(res, unit: str) -> float:
    g = res.generation
    return float(g.loc[g["unit"] == unit, "p_mw"].sum())


def test_none_leaves_import_emissions_out_of_the_objective():
    n = importing(local_cost=100.0)
    r = solve(n, carbon_price=100.0)  # "none" is the default; solve() also recomputes the objective
    assert p_mw(r, "mkt") == pytest.approx(40)
    assert r.summary["objective_cny"] == pytest.approx(40 * 30)  # no 100 CNY/t x 0.5 t/MWh on the import
    assert r.summary["cost_cny"]["carbon_cny"] == pytest.approx(0)
    assert r.summary["emissions_t"]["external"] == pytest.approx(40 * 0.5)
    assert r.summary["carbon_price_covers"] == "in-region"


def test_attributed_raises_the_objective_by_price_times_imported_mwh_times_factor():
    """Units at external buses and market sales both count. External coal: 20 CNY/MWh, 0.4 t/MWh (60 with its
    carbon); the market: 30 CNY/MWh, 0.5 t/MWh (80): 10 MW of coal and 30 MW bought either way, both cheaper
    than the local unit at 200 CNY/MWh."""
    n = net({"buses": buses("a") + buses("x", region="external"),
             "generators": [{"name": "local", "bus": "a", "carrier": "gas", "p_nom": 100, "marginal_cost": 200},
                            {"name": "ext_coal", "bus": "x", "carrier": "coal", "p_nom": 10, "marginal_cost": 20,
                             "co2_t_per_mwh": 0.4}],
             "links": [{"name": "in", "bus0": "x", "bus1": "a", "p_nom": 100}],
             "markets": [MARKET]},
            {"load_firm_mw": series(1, a=40.0)})
    none = both(n, carbon_price=100.0, imported_emissions="none")
    att = both(n, carbon_price=100.0, imported_emissions="attributed")
    for r in (none, att):
        assert p_mw(r, "ext_coal") == pytest.approx(10) and p_mw(r, "mkt") == pytest.approx(30)
    assert none.summary["objective_cny"] == pytest.approx(10 * 20 + 30 * 30)
    rise = 100.0 * (10 * 0.4 + 30 * 0.5)
    assert att.summary["objective_cny"] - none.summary["objective_cny"] == pytest.approx(rise)
    assert att.summary["cost_cny"]["carbon_cny"] == pytest.approx(rise)
    assert att.summary["carbon_price_covers"] == "in-region + imported"


def test_carbon_cost_of_the_import_flips_the_merit_order():
    """Local 50 + 100 x 0.2 = 70 CNY/MWh. Import 30 CNY/MWh, or 30 + 100 x 0.5 = 80 when attributed."""
    n = importing(local_cost=50.0, local_co2=0.2)
    none = both(n, carbon_price=100.0)
    att = both(n, carbon_price=100.0, imported_emissions="attributed")
    assert p_mw(none, "mkt") == pytest.approx(40) and p_mw(none, "local") == pytest.approx(0)
    assert none.summary["objective_cny"] == pytest.approx(40 * 30)
    assert p_mw(att, "mkt") == pytest.approx(0) and p_mw(att, "local") == pytest.approx(40)
    assert att.summary["objective_cny"] == pytest.approx(40 * 70)


def test_a_regional_cap_binds_on_imports_only_when_attributed():
    """Cap A = 10 t lets 20 MWh in at 0.5 t/MWh; the local unit (50 CNY/MWh, no CO2) makes the other 20.
    Shadow price: (50 - 30) / 0.5 = 40 CNY/t. Region B (no load, no units) imports nothing: its cap of 0 binds
    nothing."""
    n = importing(local_cost=50.0)
    none = both(n, carbon_caps={"A": 10.0})
    assert p_mw(none, "mkt") == pytest.approx(40)
    assert none.summary["objective_cny"] == pytest.approx(40 * 30)
    att = both(n, carbon_caps={"A": 10.0, "B": 0.0}, imported_emissions="attributed")
    assert p_mw(att, "mkt") == pytest.approx(20) and p_mw(att, "local") == pytest.approx(20)
    assert att.summary["objective_cny"] == pytest.approx(20 * 30 + 20 * 50)
    assert att.summary["carbon_shadow_price_cny_per_t"]["cap:A"] == pytest.approx(40)
    assert att.summary["carbon_shadow_price_cny_per_t"]["cap:B"] == pytest.approx(0)
    system = both(n, carbon_caps={"system": 10.0}, imported_emissions="attributed")
    assert p_mw(system, "mkt") == pytest.approx(20)


def test_an_intensity_cap_counts_imported_mwh_and_emissions():
    """A's supply: local x (no CO2, 50 CNY/MWh) and import m (0.5 t/MWh), x + m = 40. Intensity cap 0.25 t/MWh:
    0.5 m <= 0.25 (x + m), so m <= 20 (with imported MWh beside generation; without them m <= 40 / 3)."""
    n = importing(local_cost=50.0)
    att = both(n, intensity_caps={"A": 0.25}, imported_emissions="attributed")
    assert p_mw(att, "mkt") == pytest.approx(20)
    assert p_mw(both(n, intensity_caps={"A": 0.25}), "mkt") == pytest.approx(40)


def test_an_external_bus_reaching_two_regions_is_imported_by_the_system_alone():
    """x has lines to a (A) and b (B): no single importer. A's cap of 0 ignores the import, the system's binds."""
    n = net({"buses": buses("a") + buses("b", region="B") + buses("x", region="external"),
             "generators": [{"name": "local", "bus": "a", "carrier": "gas", "p_nom": 100, "marginal_cost": 50}],
             "lines": [{"name": "xa", "bus0": "x", "bus1": "a", "x": 10, "s_nom": 100},
                       {"name": "xb", "bus0": "x", "bus1": "b", "x": 10, "s_nom": 100}],
             "markets": [MARKET]},
            {"load_firm_mw": series(1, a=40.0)})
    assert importers(n).to_dict() == {"x": "system"}
    r = both(n, carbon_caps={"A": 0.0}, imported_emissions="attributed")
    assert p_mw(r, "mkt") == pytest.approx(40)
    assert r.summary["emissions_imported_t"] == pytest.approx({"A": 0.0, "B": 0.0, "system": 20.0})
    r = both(n, carbon_caps={"system": 10.0}, imported_emissions="attributed")
    assert p_mw(r, "mkt") == pytest.approx(20)


def test_a_link_counts_only_in_the_directions_its_limits_allow():
    """x exports to a over a one-way link a -> x (no import that way) and has a line to b: B imports x's power;
    y is reached only by export links: nothing is imported from it."""
    n = net({"buses": buses("a") + buses("b", region="B") + buses("x", "y", region="external"),
             "links": [{"name": "ax", "bus0": "a", "bus1": "x", "p_nom": 100},
                       {"name": "ay", "bus0": "a", "bus1": "y", "p_nom": 100},
                       {"name": "by", "bus0": "b", "bus1": "y", "p_nom": 100, "p_min_pu": 0.0}],
             "lines": [{"name": "xb", "bus0": "x", "bus1": "b", "x": 10, "s_nom": 100}]},
            {"load_firm_mw": series(1, a=0.0)})
    assert importers(n).to_dict() == {"x": "B"}
    m = net({"buses": buses("a") + buses("y", region="external"),
             "links": [{"name": "ay", "bus0": "a", "bus1": "y", "p_nom": 100, "p_min_pu": -1.0}]},
            {"load_firm_mw": series(1, a=0.0)})
    assert importers(m).to_dict() == {"y": "A"}


def test_summary_keys_by_hand_whatever_the_option():
    """Two hours, loads 40 and 20, all imported at 0.5 t/MWh, the second hour weighted 3 (e.g. a coarse
    snapshot): imported 0.5 x (40 + 3 x 20) = 50 t into A; the local unit is off."""
    n = net({"buses": buses("a") + buses("x", region="external"),
             "generators": [{"name": "local", "bus": "a", "carrier": "gas", "p_nom": 100, "marginal_cost": 50,
                             "co2_t_per_mwh": 0.2}],
             "links": [{"name": "in", "bus0": "x", "bus1": "a", "p_nom": 100}],
             "markets": [MARKET]},
            {"load_firm_mw": series(2, a=[40.0, 20.0]), "weighting": series(2, weighting=[1.0, 3.0])}, hours=2)
    for option, covers in (("none", "in-region"), ("attributed", "in-region + imported")):
        s = gridopt.dispatch(n, imported_emissions=option).summary
        assert s["emissions_imported_t"] == pytest.approx({"A": 50.0, "B": 0.0, "system": 50.0})
        assert s["carbon_price_covers"] == covers
        assert s["emissions_t"]["system"] == pytest.approx(0.0)  # unchanged: in-region only
        assert s["emissions_t"]["external"] == pytest.approx(50.0)
        text = summary_text(s)
        line = next(x for x in text.splitlines() if x.lstrip().startswith("emissions"))
        assert "imported A 50.00 t, B 0, system 50.00 t" in line and f"covers {covers})" in line


def test_option_from_the_case_and_its_checks():
    n = importing(local_cost=50.0, local_co2=0.2, carbon_price=100.0, imported_emissions="attributed")
    assert gridopt.dispatch(n).summary["objective_cny"] == pytest.approx(40 * 70)  # the case's setting
    assert gridopt.dispatch(n, imported_emissions="none").summary["objective_cny"] == pytest.approx(40 * 30)
    with pytest.raises(UsageError, match="imported emissions must be one of: none, attributed"):
        gridopt.dispatch(n, imported_emissions="all")
    with pytest.raises(CaseError, match="imported_emissions"):
        importing(local_cost=50.0, imported_emissions="yes")


def test_lp_is_unchanged_without_imports_to_attribute():
    """A case whose external buses send nothing in builds the same LP under either option."""
    n = net({"buses": buses("a") + buses("x", region="external"),
             "generators": [{"name": "g", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 10,
                             "co2_t_per_mwh": 0.9}],
             "links": [{"name": "out", "bus0": "a", "bus1": "x", "p_nom": 60}],
             "markets": [{"name": "east", "bus": "x", "buy_max_mw": 100, "buy_price": 300, "sell_max_mw": 50,
                          "sell_price": 10, "co2_t_per_mwh": 1.0}]},
            {"load_firm_mw": series(1, a=30.0)})
    a = gridopt.build_lp(n, hours=1, carbon_price=80.0).lp
    b = gridopt.build_lp(n, hours=1, carbon_price=80.0, imported_emissions="attributed").lp
    assert (a.matrix != b.matrix).nnz == 0
    assert (a.arrays()["col_cost"] == b.arrays()["col_cost"]).all()


def test_cli_flag_and_help(tmp_path, capsys):
    n = importing(local_cost=50.0, local_co2=0.2)
    case = gridopt.write_case(n, tmp_path / "case")
    # local 50 + 100 x 0.2 = 70 CNY/MWh against the import at 30 (80 with its carbon): 40 MWh from one of them
    runs = ((["--imported-emissions", "attributed"], 40 * 70, "imported A 0, B 0, system 0 (carbon price covers "
             "in-region + imported)"),
            ([], 40 * 30, "imported A 20.00 t, B 0, system 20.00 t (carbon price covers in-region)"))
    for flag, objective, printed in runs:
        out = tmp_path / f"out{len(flag)}"
        assert main(["run", str(case), "--hours", "1", "--carbon-price", "100", "--out", str(out), *flag]) == 0
        s = json.loads((out / "summary.json").read_text())
        assert s["objective_cny"] == pytest.approx(objective)
        assert printed in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["run", str(case), "--imported-emissions", "all"])
    assert exc.value.code == 2
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "It covers emissions inside the case's regions only" in help_text
    assert "--imported-emissions {none,attributed}" in help_text
    assert "exports earn no credit" in help_text
