"""Checks of the shipped sichuan_chongqing case data and of its builder script.

Reads only the CSV/TOML/Parquet files (and the column contract in src/gridopt/schema.csv and
series.csv), so it runs without the gridopt package.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "networks" / "sichuan_chongqing"
SERIES = ROOT / "timeseries" / "sichuan_chongqing"
BUILDER = ROOT / "timeseries" / "build_sichuan_chongqing.py"
INPUTS = SERIES / "inputs"
SCHEMA = pd.read_csv(ROOT / "src" / "gridopt" / "schema.csv", dtype=str, keep_default_na=False)
SERIES_SPEC = pd.read_csv(ROOT / "src" / "gridopt" / "series.csv", dtype=str, keep_default_na=False)
YEAR = 2025
HOURS = 8760
SC_ZONES = ["SC_CD", "SC_DM", "SC_LY", "SC_S", "SC_NE", "SC_PX", "SC_W"]
CQ_ZONES = ["CQ_C", "CQ_W", "CQ_NE", "CQ_SE"]


def _not_built(name: str) -> bool:
    """Hand-kept files of the case folder that are no component table: published figures for calibration."""
    return name.split("_")[0].removesuffix(".csv") == "calibration"


def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(CASE / f"{name}.csv", keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {p.stem: _table(p.stem) for p in sorted(CASE.glob("*.csv")) if not _not_built(p.name)}


@pytest.fixture(scope="module")
def series() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in sorted(SERIES.glob("*.parquet"))}


@pytest.fixture(scope="module")
def case() -> dict:
    return tomllib.loads((CASE / "case.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> list[Path]:
    """Two independent builds into temporary folders."""
    outs = []
    for tag in ("a", "b"):
        out = tmp_path_factory.mktemp(f"build_{tag}")
        subprocess.run([sys.executable, str(BUILDER), "--out", str(out), "--quiet"], check=True, cwd=ROOT)
        outs.append(out)
    return outs


def _active(df: pd.DataFrame, year: int = YEAR) -> pd.Series:
    by = df["build_year"].fillna(0) if "build_year" in df else pd.Series(0, index=df.index)
    ry = df["retire_year"].fillna(9999) if "retire_year" in df else pd.Series(9999, index=df.index)
    return (by <= year) & (ry > year)


# ---------------------------------------------------------------------------------- builder
def _assert_same_outputs(a: Path, b: Path, b_network: Path) -> None:
    names_a = sorted(p.name for p in a.glob("*.parquet"))
    names_b = sorted(p.name for p in b.glob("*.parquet"))
    assert names_a == names_b and names_a
    for n in names_a:
        pd.testing.assert_frame_equal(pd.read_parquet(a / n), pd.read_parquet(b / n), check_exact=True)
    csv_a = sorted(p.name for p in (a / "network").glob("*.csv"))
    csv_b = sorted(p.name for p in b_network.glob("*.csv") if not _not_built(p.name))
    assert csv_a == csv_b and csv_a
    for n in csv_a:
        assert (a / "network" / n).read_text(encoding="utf-8") == (b_network / n).read_text(encoding="utf-8"), n


def test_builder_is_deterministic(fresh):
    _assert_same_outputs(fresh[0], fresh[1], fresh[1] / "network")


def test_committed_files_equal_a_fresh_build(fresh):
    _assert_same_outputs(fresh[0], SERIES, CASE)


# ---------------------------------------------------------------------------------- tables
def test_case_toml(case):
    assert case["name"] == "sichuan_chongqing"
    assert case["year"] == YEAR and case["timeseries_start"] == "2025-01-01 00:00"
    assert case["regions"] == ["Sichuan", "Chongqing"] and case["interchange"] == ["Sichuan", "Chongqing"]
    p = case["penalties"]
    ranked = [p["spill_cny_per_mwh"], p["rule_curve_cny_per_mwh"], p["voll_interruptible_cny_per_mwh"],
              p["export_shortfall_cny_per_mwh"], p["eco_flow_cny_per_mwh"], p["voll_firm_cny_per_mwh"]]
    assert ranked == sorted(ranked)
    assert set(case["reserves"]) == set(case["regions"])


def test_columns_follow_the_schema(tables):
    components = set(SCHEMA.component)
    for name, df in tables.items():
        assert name in components, f"{name}.csv is not a component table"
        spec = SCHEMA[SCHEMA.component == name]
        unknown = set(df.columns) - set(spec.attribute)
        assert not unknown, f"{name}.csv: columns not in schema.csv: {unknown}"
        for _, a in spec[spec.required == "yes"].iterrows():
            assert a.attribute in df.columns, f"{name}.csv lacks required column {a.attribute}"
            assert df[a.attribute].notna().all(), f"{name}.csv: empty required cells in {a.attribute}"
        if "name" in df:
            assert df["name"].is_unique, f"{name}.csv: duplicate names"


def test_foreign_keys_resolve(tables, case):
    names = {k: set(v["name"]) for k, v in tables.items() if "name" in v}
    names["branches"] = names["lines"] | names["transformers"] | names["links"]
    assert len(names["branches"]) == len(tables["lines"]) + len(tables["transformers"]) + len(tables["links"])
    names["region"] = set(case["regions"]) | {"external"}
    for _, a in SCHEMA[SCHEMA.references != ""].iterrows():
        if a.component not in tables or a.attribute not in tables[a.component]:
            continue
        col = tables[a.component][a.attribute].dropna()
        col = col[col.astype(str) != ""]
        bad = set(col) - names[a.references]
        assert not bad, f"{a.component}.{a.attribute}: unknown {a.references}: {bad}"


def test_branches_join_buses_of_the_right_voltage(tables):
    v = tables["buses"].set_index("name")["v_nom"]
    lines = tables["lines"]
    assert (lines.bus0.map(v) == lines.bus1.map(v)).all()
    tr = tables["transformers"]
    assert (tr.bus0.map(v) > tr.bus1.map(v)).all()
    assert (lines.x > 0).all() and (lines.s_nom > 0).all()
    ohm_per_km = lines.x / lines.length_km
    assert np.allclose(ohm_per_km[lines.bus0.map(v) == 500], 0.28, atol=0.005)
    assert np.allclose(ohm_per_km[lines.bus0.map(v) == 1000], 0.26, atol=0.005)


def _components(nodes: set[str], edges: list[tuple[str, str]]) -> list[set[str]]:
    parent = {n: n for n in nodes}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in edges:
        parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for n in nodes:
        groups.setdefault(find(n), set()).add(n)
    return list(groups.values())


def _edges(tables, year: int | None) -> list[tuple[str, str]]:
    edges = []
    for t in ("lines", "transformers", "links"):
        df = tables[t]
        if year is not None:
            df = df[_active(df, year)]
        edges += list(zip(df.bus0, df.bus1))
    return edges


def test_network_is_connected(tables, series):
    buses = set(tables["buses"].name)
    assert len(_components(buses, _edges(tables, None))) == 1
    # in the base year every bus with load or an active injection sits in one island
    used = set(series["load_firm_mw"].columns)
    for t in ("generators", "reservoirs", "storage_units", "markets"):
        df = tables[t]
        used |= set(df[_active(df)].bus) if "build_year" in df else set(df.bus)
    comps = _components(buses, _edges(tables, YEAR))
    assert sum(1 for c in comps if c & used) == 1


def test_500kv_mesh_has_cycles(tables):
    lines = tables["lines"]
    zone = lines[lines.carrier == "AC500"]
    pairs = {tuple(sorted(p)) for p in zip(zone.bus0, zone.bus1)}
    nodes = {n for p in pairs for n in p}
    assert len(pairs) >= len(nodes)   # a connected graph with as many edges as nodes has a cycle
    assert len(_components(nodes, list(pairs))) == 1


def test_interfaces(tables):
    m = tables["interface_members"]
    assert set(m.coefficient) <= {1.0, -1.0}
    lines = tables["lines"].set_index("name")
    region = tables["buses"].set_index("name").region
    sccq = m[m.interface == "SC_CQ"]
    assert len(sccq) >= 8
    for _, r in sccq.iterrows():
        b0, b1 = lines.at[r.branch, "bus0"], lines.at[r.branch, "bus1"]
        assert {region[b0], region[b1]} == {"Sichuan", "Chongqing"}
        assert r.coefficient == (1.0 if region[b0] == "Sichuan" else -1.0)
    lim = tables["interfaces"].set_index("name")
    assert lim.at["SC_CQ", "limit_mw"] == pytest.approx(10000.0)
    assert lim.at["GANZI_OUT", "limit_mw"] == pytest.approx(11350.0 + 4800.0)


def test_cascades_are_acyclic_and_local(tables):
    r = tables["reservoirs"].set_index("name")
    for n in r.index:
        seen = set()
        while isinstance(n, str) and n:
            assert n not in seen, "cycle in the cascade"
            seen.add(n)
            n = r.at[n, "downstream"] if n in r.index else ""
            n = n if isinstance(n, str) else ""
    assert r.at["Tongzilin", "downstream"] == "Wudongde"
    assert r.at["Wudongde", "downstream"] == "Baihetan"
    assert (r.volume_min_hm3 <= r.volume_initial_hm3).all() and (r.volume_initial_hm3 <= r.volume_max_hm3).all()
    assert (r.production_mw_per_m3s > 0).all()


def test_capacity_totals_match_published_figures(tables):
    g = tables["generators"][_active(tables["generators"])]
    r = tables["reservoirs"]
    region = tables["buses"].set_index("name").region
    g = g.assign(region=g.bus.map(region))
    r = r.assign(region=r.bus.map(region))

    def cap(reg, carriers):
        return g[(g.region == reg) & g.carrier.isin(carriers)].p_nom.sum()

    # [S30]: 26.45 GW for 2025 of which 6 GW coal under construction, so 20.45 GW in service
    assert cap("Sichuan", ["coal", "gas"]) == pytest.approx(20450.0, rel=0.005)
    assert cap("Sichuan", ["pv", "wind"]) == pytest.approx(32000.0, rel=0.01)       # [S30][S31]
    assert cap("Chongqing", ["coal", "gas"]) == pytest.approx(16460.0, rel=0.005)
    hydro_cq = cap("Chongqing", ["hydro"]) + r[r.region == "Chongqing"].p_nom.sum()
    assert hydro_cq == pytest.approx(6190.0, rel=0.01)
    # Sichuan hydro on the official basis: border plants count half
    border = r[r.bus.str.startswith("JS_")].p_nom.sum() + g[g.bus == "JS_UPPER"].p_nom.sum()
    sc_zone = cap("Sichuan", ["hydro"]) - g[g.bus == "JS_UPPER"].p_nom.sum()
    sc_zone += r[r.bus.isin(SC_ZONES)].p_nom.sum()
    # (half of Guanyinyan is already inside SC_PX_hydro_jinsha_mid)
    assert sc_zone + 0.5 * border == pytest.approx(100000.0, rel=0.01)   # [S32]


# ---------------------------------------------------------------------------------- series
def test_series_files_and_columns(tables, series):
    index = pd.date_range("2025-01-01 00:00", periods=HOURS, freq="h")
    spec = SERIES_SPEC.set_index("series")
    assert set(series) <= set(spec.index)
    for name, df in series.items():
        assert isinstance(df.index, pd.DatetimeIndex) and df.index.name == "snapshot", name
        assert df.index.tz is None and df.index.equals(index), name
        assert (df.dtypes == "float64").all(), name
        assert np.isfinite(df.to_numpy()).all(), name
        comp = spec.at[name, "component"]
        if comp == "snapshots":
            assert list(df.columns) == ["weighting"]
            continue
        unknown = set(df.columns) - set(tables[comp].name)
        assert not unknown, f"{name}: columns that name no {comp}: {unknown}"


@pytest.mark.parametrize("zones,energy_twh,peak_mw", [(SC_ZONES, 400.0, 74190.0), (CQ_ZONES, 161.3, 30280.0)])
def test_load_calibration(series, zones, energy_twh, peak_mw):
    load = series["load_firm_mw"][zones].sum(axis=1) + series["load_interruptible_mw"][zones].sum(axis=1)
    assert load.sum() / 1e6 == pytest.approx(energy_twh, rel=0.02)
    assert load.max() == pytest.approx(peak_mw, rel=0.02)
    assert (series["load_interruptible_mw"] >= 0).all().all() and (series["load_firm_mw"] > 0).all().all()
    share = series["load_interruptible_mw"][zones].sum().sum() / load.sum()
    assert 0.05 <= share <= 0.15


def test_availability_factors(tables, series):
    g = tables["generators"].set_index("name")
    p = series["p_max_pu"]
    assert ((p >= 0) & (p <= 1)).all().all()
    cf = p.mean()
    for n in p.columns:
        if g.at[n, "carrier"] == "pv":
            band = (0.17, 0.25) if g.at[n, "bus"] in ("SC_W", "SC_PX") else (0.09, 0.13)
            assert band[0] <= cf[n] <= band[1], (n, cf[n])
            assert p[n][p.index.hour.isin([0, 1, 2, 3, 22, 23])].max() == 0.0, n
        elif g.at[n, "carrier"] == "wind":
            assert 0.18 <= cf[n] <= 0.32, (n, cf[n])
        elif g.at[n, "carrier"] == "hydro":
            assert 0.38 <= cf[n] <= 0.48, (n, cf[n])
            summer, winter = p[n][p.index.month.isin([7, 8])].mean(), p[n][p.index.month.isin([1, 2, 3])].mean()
            assert summer > 2 * winter
    must = series["must_run_pu"]
    assert (must <= p[must.columns] + 1e-9).all().all()


def test_inflows(tables, series):
    inflow = series["inflow_m3s"]
    res = tables["reservoirs"]
    assert set(inflow.columns) == set(res.name)
    assert (inflow >= 0).all().all(), "incremental inflows must be non-negative"
    wet = inflow[inflow.index.month.isin([6, 7, 8, 9, 10])].mean()
    dry = inflow[inflow.index.month.isin([1, 2, 3, 4])].mean()
    assert (wet > 1.5 * dry).all()
    # implied mean energy of the lower Jinsha within 5% of the published Baihetan figure [S46]
    up = res.groupby("downstream").name.apply(list).to_dict()

    def total(n):
        return inflow[n].mean() + sum(total(u) for u in up.get(n, []))

    k = res.set_index("name").production_mw_per_m3s
    assert k["Baihetan"] * total("Baihetan") * HOURS / 1e6 == pytest.approx(62.4, rel=0.05)


def test_rule_curves_are_ordered(tables, series):
    r = tables["reservoirs"].set_index("name")
    lo, hi, tg = series["volume_min_rule_hm3"], series["volume_max_rule_hm3"], series["volume_target_hm3"]
    for n in lo.columns:
        assert (lo[n] >= r.at[n, "volume_min_hm3"] - 1e-6).all(), n
        assert (lo[n] <= hi[n] + 1e-6).all(), n
        assert (hi[n] <= r.at[n, "volume_max_hm3"] + 1e-6).all(), n
        assert ((tg[n] >= lo[n] - 1e-6) & (tg[n] <= hi[n] + 1e-6)).all(), n


def test_contracts_and_prices(tables, series):
    links = tables["links"].set_index("name")
    c = series["contract_min_mw"]
    pmax = links["p_max_pu"] if "p_max_pu" in links else pd.Series(1.0, index=links.index)
    avail = series["link_p_max_pu"]
    for n in c.columns:
        assert (c[n] >= 0).all() and (c[n] <= links.at[n, "p_nom"] * pmax[n]).all(), n
        if n in avail:   # a link entering service in the year has no contract before that
            assert (c[n][avail[n] == 0] == 0).all(), n
            continue
        assert c[n][c.index.month.isin([7, 8])].mean() > c[n][c.index.month.isin([1, 2])].mean()
    buy, sell = series["buy_price"], series["sell_price"]
    assert (buy > 0).all().all() and (sell > 0).all().all()
    for n in set(buy.columns) & set(sell.columns):
        assert (sell[n] > buy[n]).all(), f"{n}: buying and selling at once would pay"


def test_links_enter_service_on_their_dates_and_run_to_their_plans(series):
    """[S12] Hami-Chongqing first power 10 Jun 2025; [S14] Jinshang-Hubei in service 18 Dec 2025. Lines carry
    at most their annual plan: design energy x headroom, on the contract shape above the contract where
    contracted."""
    links = pd.read_csv(INPUTS / "interregional_links.csv", keep_default_na=False)
    links = links.set_index("name")
    dated = links.in_service[links.in_service != ""]
    planned = links.index[links.contract_energy_twh != ""]
    avail = series["link_p_max_pu"]
    assert set(dated.index) | set(planned) == set(avail.columns)
    assert dated["DC_HAMI_CHONGQING"] == "2025-06-10" and dated["DC_JINSHANG_HUBEI"] == "2025-12-18"
    for n, d in dated.items():
        assert (avail[n][avail.index < pd.Timestamp(d)] == 0.0).all(), n
    headroom = pd.read_csv(INPUTS / "figures.csv").set_index("name").value["export_plan_headroom"]
    # [S12] more than 36 TWh a year, flat: no hydro season behind it
    hami = avail["DC_HAMI_CHONGQING"]["2025-06-10":] * 8000.0
    assert hami.nunique() == 1 and hami.iloc[0] * 8760 / 1e6 == pytest.approx(36.0 * headroom, rel=1e-3)
    contract = series["contract_min_mw"]
    for n in planned:
        p_nom = float(links.at[n, "p_nom_mw"])
        cap = avail[n] * p_nom
        assert (cap <= p_nom).all() and (cap >= contract[n] - 1.0).all(), n
        if n not in dated:   # in service all year: the plan holds the design energy and the headroom
            plan_twh = cap.sum() / 1e6
            assert plan_twh == pytest.approx(float(links.at[n, "contract_energy_twh"]) * headroom, rel=0.01), n
            assert cap["2025-07"].mean() > 1.8 * cap["2025-01"].mean(), n   # wet-season exports


def test_gas_reaches_power_plants_at_the_documented_price(tables, case):
    """Supply cost plus pipeline tariffs at each power plant's gas node is within 5 % of 68 CNY/GJ
    x the case's heating value (SOURCES.md 6.2)."""
    target = 68.0 * case["gas_lhv_gj_per_kcm"]
    cost = dict.fromkeys(tables["gas_nodes"].name, np.inf)
    for s in tables["gas_supplies"].itertuples(index=False):
        cost[s.node] = min(cost[s.node], s.cost_cny_per_kcm)
    pipes = tables["pipelines"]
    for _ in range(len(cost)):
        for p in pipes.itertuples(index=False):
            cost[p.node1] = min(cost[p.node1], (cost[p.node0] + p.cost_cny_per_kcm) / p.efficiency)
            if p.capacity_reverse_mm3_per_h > 0:
                cost[p.node0] = min(cost[p.node0], (cost[p.node1] + p.cost_cny_per_kcm) / p.efficiency)
    gens = tables["generators"]
    for node in set(gens.gas_node.dropna()) - {""}:
        assert cost[node] == pytest.approx(target, rel=0.05), node
    figures = pd.read_csv(INPUTS / "figures.csv").set_index("name").value
    assert figures["gas_lhv_gj_per_kcm"] == case["gas_lhv_gj_per_kcm"]


@pytest.mark.parametrize("zones,peak_day", [(SC_ZONES, "2025-08-07"), (CQ_ZONES, "2025-08-05")])
def test_load_calendar(series, zones, peak_day):
    """Peaks in the week of the reported 5 Aug 2025 peaks [S52b][S53]; the Spring Festival dip inside
    the 2025 holiday week (28 Jan - 4 Feb, up to 2 days late) rather than mid-February."""
    load = series["load_firm_mw"][zones].sum(axis=1) + series["load_interruptible_mw"][zones].sum(axis=1)
    assert str(load.idxmax().date()) == peak_day
    daily = load.resample("D").sum()["2025-01-01":"2025-03-31"]
    assert pd.Timestamp("2025-01-29") <= daily.idxmin() <= pd.Timestamp("2025-02-04")


def test_gas_demand_is_seasonal(tables, series):
    d = series["gas_demand_mm3_per_h"]
    kinds = tables["gas_demands"].set_index("name").kind
    for n in d.columns:
        assert (d[n] >= 0).all()
        if kinds[n] == "residential":
            assert d[n][d.index.month == 1].mean() > 1.5 * d[n][d.index.month == 7].mean()


# ---------------------------------------------------------------------------------- scenarios
def test_scenarios_name_existing_things(tables, series):
    spec = SERIES_SPEC.set_index("series")
    files = sorted((CASE / "scenarios").glob("*.toml"))
    assert {f.stem for f in files} >= {"drought_2022", "no_uhv_ac", "year_2030", "winter_cold_spell"}
    for f in files:
        sc = tomllib.loads(f.read_text(encoding="utf-8"))
        assert sc.get("description"), f.name
        for key in ("set", "remove"):
            for item in sc.get(key, []):
                table = tables[item["table"]]
                assert set(item["names"]) <= set(table.name), (f.name, item["names"])
                for col in item.get("values", {}):
                    assert col in set(SCHEMA[SCHEMA.component == item["table"]].attribute), (f.name, col)
        for item in sc.get("add", []):
            assert item["table"] in tables
        for key in ("scale", "replace"):
            for item in sc.get(key, []):
                assert item["series"] in spec.index, (f.name, item["series"])
                comp = spec.at[item["series"], "component"]
                assert set(item.get("columns", [])) <= set(tables[comp].name), (f.name, item)
                if "start" in item:
                    assert pd.Timestamp(item["start"]) < pd.Timestamp(item["end"])
