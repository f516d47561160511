"""Charts: every chart of a run, of a sweep and of a frontier is written, non-empty, on the headless canvas."""

from __future__ import annotations

import pytest
from conftest import small_network
from matplotlib.image import imread

import gridopt
from gridopt.cli import main
from gridopt.network import Network

RUN_CHARTS = {"dispatch_A.png", "dispatch_B.png", "prices_heatmap.png", "price_duration.png", "flows_uhv.png",
              "flows_dc.png", "reservoirs.png", "storage.png", "gas.png", "capacities.png", "network_map.png"}


def mapped_network() -> Network:
    """The small network with coordinates, a 1000 kV line and a line whose rating is a decision."""
    n = small_network()
    t = {k: v.copy() for k, v in n.tables.items()}
    t["buses"]["x"] = t["buses"].index.map({"a": 103.0, "b": 104.5, "c": 106.5, "c_hv": 106.7, "x": 112.0})
    t["buses"]["y"] = t["buses"].index.map({"a": 30.5, "b": 29.8, "c": 29.5, "c_hv": 29.7, "x": 30.5})
    t["lines"].loc["ac", "carrier"] = "AC1000"
    t["lines"].loc["ab", ["s_nom_extendable", "s_nom_min", "s_nom_max", "capital_cost"]] = [True, 1000.0, 3000.0, 1.0]
    return Network.from_tables(n.config, t, n.series)


def drawn(path) -> bool:
    """A PNG with something on it: bytes, and more than one colour."""
    if path.stat().st_size == 0:
        return False
    img = imread(path)
    return bool((img != img[0, 0]).any())


@pytest.fixture(scope="module")
def mapped_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("plot")
    case = gridopt.write_case(mapped_network(), d / "mapped")
    assert main(["run", str(case), "--out", str(d / "run")]) == 0
    return case, d / "run"


def test_every_chart_of_a_run_is_drawn(mapped_run, tmp_path):
    case, folder = mapped_run
    files = gridopt.plot(folder, out=tmp_path / "charts", case=case)
    assert {f.name for f in files} == RUN_CHARTS
    assert all(f.parent == tmp_path / "charts" and drawn(f) for f in files)


def test_charts_that_need_the_case_are_left_out_without_it(mapped_run, tmp_path, capsys):
    _, folder = mapped_run
    # the summary names case "small", which is no case in networks/: no map, and UHV lines only by name
    assert main(["plot", str(folder), "--out", str(tmp_path / "c")]) == 0
    written = {line.rsplit("/", 1)[-1] for line in capsys.readouterr().out.split()}
    assert written == RUN_CHARTS - {"network_map.png", "flows_uhv.png"}


def test_the_charts_of_a_sweep_and_of_a_frontier(mapped_run, tmp_path):
    case, _ = mapped_run
    gridopt.sweep(case, {"carbon_price": [0, 100, 400]}, tmp_path / "sw", processes=2)
    gridopt.pareto(case, points=3, out=tmp_path / "sw", processes=2)
    files = gridopt.plot(tmp_path / "sw")
    assert [f.name for f in files] == ["sweep_carbon_price.png", "pareto.png"]
    assert all(drawn(f) for f in files)
    assert main(["plot", str(tmp_path / "nothing")]) == 2
