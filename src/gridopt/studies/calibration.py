"""Calibration: what a run of a case did, beside the published figure it should resemble.

A case's `calibration.csv` lists published figures: `figure`, `region`, `item`, `published`, `unit`, `year`,
`source`, optional `scope` (``BUS=share;...``: output at those buses counts at that share, as official
statistics count half of a border plant) and `explained` (where the case's SOURCES.md explains a gap). Each
`figure` has one definition here, computed from a run's tables and the case:

- ``generation_twh``: output of the region's generators, ``hydro`` = hydro + hydro_reservoir (``total``: all
  carriers); storage and imports left out.
- ``consumption_twh``: load served (load - shed); ``peak_load_gw``: the largest hourly load served.
- ``hydro_utilisation_pct``: hydro output / (output + curtailed run-of-river + spilled water at the spilling
  station's own production factor), as the published utilisation rate counts spill.
- ``hydro_wet_season_share_pct`` (June-October) and ``hydro_month_share_pct`` (item: month): shares of the
  year's hydro output; they need a run that covers every month.
- ``export_twh`` (item: link): energy sent from the in-region end (`metrics.exports_by_link_mwh`, received
  counts negative); ``exports_total_twh``: the region's links summed; ``interchange_twh``: the summary's flow
  from the first interchange region to the second.
- ``co2_mt``: the region's emissions plus those of the power it imports from outside the case, at the
  intensities the summary attributes (`emissions_imported_t`, the one rule for imported power), plus the
  net interchange it receives from the other region at that region's own factor (emissions over
  generation); ``emission_factor_kg_per_kwh``: that CO2 over the region's generation (counted in the row's
  scope) plus those imports and that interchange. Power a region exports or sends on net leaves at its own
  average, so it changes neither: the published provincial grid factors are computed the same way.
- ``gas_production_bcm`` and ``ugs_withdrawal_bcm``: supply and storage withdrawal at the region's gas nodes.
- Means over the run, never annualised (for a month such as a backtest): ``hydro_twh_per_day``,
  ``shed_gwh_per_day``, ``peak_demand_gw`` (the largest hourly load before shedding), ``link_mean_mw``
  (item: link; sent from the in-region end, received negative) and ``interchange_mean_mw``.

Besides `calibration.csv` (the case's year), a case may hold `calibration_<name>.csv` for a scenario and
horizon of its own (`gridopt calibrate CASE --scenario S --start ... --hours ... --figures
calibration_<name>.csv`); an optional `tolerance` column sets a row's band (default +-15 %).

Energies of a run shorter than a year are annualised by 8760 / represented hours (the report says so); the
shares by month stay empty then. A gap within the tolerance passes; a larger one needs its `explained` entry.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..casefiles import DOCUMENT_PREFIX, load_case
from ..errors import SolveError, UsageError
from ..network import EXTERNAL, Network
from ..plot.folders import RunFolder, weighted
from .metrics import exports_by_link_mwh

TOLERANCE = 0.15  # a figure within +-15 % of its published value passes
YEAR_HOURS = 8760.0
WET_MONTHS = (6, 7, 8, 9, 10)
HYDRO = ("hydro", "hydro_reservoir")
YEAR_FIGURES = f"{DOCUMENT_PREFIX}.csv"  # the case's year; calibration_<name>.csv for other horizons
COLUMNS = ["figure", "region", "item", "published", "unit", "year", "source", "scope", "explained"]


def report_names(figures: str) -> tuple[str, str]:
    """The published report and chart folder of a figures file: calibration.csv -> CALIBRATION.md and
    calibration/; calibration_<name>.csv -> CALIBRATION_<name>.md and calibration_<name>/."""
    stem = Path(figures).stem
    if Path(figures).name != figures or Path(figures).suffix != ".csv" or stem.split("_")[0] != DOCUMENT_PREFIX:
        raise UsageError(f"--figures {figures}: expected calibration.csv or calibration_<name>.csv in the case folder")
    return DOCUMENT_PREFIX.upper() + stem[len(DOCUMENT_PREFIX):] + ".md", stem


def read_published(net: Network, figures: str = YEAR_FIGURES) -> pd.DataFrame:
    """The case's figures file; an error naming the file when it is missing or lacks a column."""
    report_names(figures)
    path = Path(net.path or ".") / figures
    if not path.is_file():
        raise UsageError(f"{path}: no {figures} in the case folder (published figures to compare with)")
    df = pd.read_csv(path, dtype={"item": str, "year": str}, keep_default_na=False,
                     na_values={"published": [""], "tolerance": [""]})
    missing = [c for c in COLUMNS if c not in df.columns and c not in ("scope", "explained")]
    if missing:
        raise UsageError(f"{path}: column {missing[0]} missing")
    for c in ("scope", "explained"):
        df[c] = df[c] if c in df.columns else ""
    df["tolerance"] = pd.to_numeric(df["tolerance"], errors="coerce").fillna(TOLERANCE) \
        if "tolerance" in df.columns else TOLERANCE
    unknown = sorted(set(df["figure"]) - set(FIGURES))
    if unknown:
        row = int(df.index[df["figure"] == unknown[0]][0]) + 2
        raise UsageError(f"{path}: row {row}, column figure: unknown figure {unknown[0]!r} "
                         f"(known: {', '.join(sorted(FIGURES))})")
    return df


class Figures:
    """A run's figures by region: one method per `figure` of calibration.csv, each (region, item, scope)."""

    def __init__(self, run: RunFolder, net: Network):
        self.run, self.net = run, net
        self.w = run.weights()
        s = run.summary
        self.represented = float(s.get("represented_hours") or len(self.w))
        self.annual = YEAR_HOURS / self.represented if self.represented else np.nan
        months = pd.DatetimeIndex(self.w.index).month
        self.full_year = len(set(months)) == 12 and self.represented >= YEAR_HOURS - 24
        g = run.table("generation")
        self.gen = g.assign(e=weighted(g, "p_mw", self.w)) if len(g) else g

    def _twh(self, mwh: float) -> float:
        return mwh * self.annual / 1e6

    def _generation(self, region: str, carriers, scope: str) -> pd.Series:
        g = self.gen[(self.gen["region"] == region) & self.gen["carrier"].isin(carriers)]
        share = g["bus"].map(_shares(scope)).fillna(1.0).to_numpy()
        return g["e"] * share

    def generation_twh(self, region: str, item: str, scope: str) -> float:
        carriers = HYDRO if item == "hydro" else \
            [c for c in self.gen["carrier"].unique() if c != "import"] if item == "total" else (item,)
        return self._twh(float(self._generation(region, carriers, scope).sum()))

    def served(self, region: str) -> pd.Series:
        pr = self._prices(region)
        return (pr["load_mw"] - pr["shed_mw"]).groupby(pr["hour"].to_numpy()).sum()

    def consumption_twh(self, region: str, item: str, scope: str) -> float:
        served = self.served(region)
        return self._twh(float((served * served.index.map(self.w).fillna(1.0)).sum()))

    def peak_load_gw(self, region: str, item: str, scope: str) -> float:
        return float(self.served(region).max()) / 1e3

    def peak_hour(self, region: str) -> pd.Timestamp:
        return self.served(region).idxmax()

    def hydro_utilisation_pct(self, region: str, item: str, scope: str) -> float:
        out = float(self._generation(region, HYDRO, scope).sum())
        g = self.gen[(self.gen["region"] == region) & self.gen["carrier"].isin(HYDRO)]
        curtailed = float((g["curtailed_mw"] * g["hour"].map(self.w).fillna(1.0).to_numpy()).sum())
        h = self.run.table("hydro")
        res = self.net.tables["reservoirs"]
        regions = self.net.tables["buses"]["region"]
        h = h[h["bus"].map(regions) == region]
        factor = h["reservoir"].map(res["production_mw_per_m3s"]).fillna(0.0).to_numpy()
        spilled = float((weighted(h, "spill_m3s", self.w) * factor).sum())
        total = out + curtailed + spilled
        return 100.0 * out / total if total > 0 else np.nan

    def _hydro_by_month(self, region: str, scope: str) -> pd.Series:
        g = self.gen[(self.gen["region"] == region) & self.gen["carrier"].isin(HYDRO)]
        e = self._generation(region, HYDRO, scope)
        return e.groupby(pd.DatetimeIndex(g["hour"]).month).sum()

    def hydro_month_share_pct(self, region: str, item: str, scope: str) -> float:
        if not self.full_year:
            return np.nan
        m = self._hydro_by_month(region, scope)
        return 100.0 * float(m.get(int(item), 0.0)) / float(m.sum())

    def hydro_wet_season_share_pct(self, region: str, item: str, scope: str) -> float:
        if not self.full_year:
            return np.nan
        m = self._hydro_by_month(region, scope)
        return 100.0 * float(m[m.index.isin(WET_MONTHS)].sum()) / float(m.sum())

    def _exports(self) -> dict[str, float]:
        return exports_by_link_mwh(self.run.table("flows"), self.run.bus_regions(), self.w)

    def export_twh(self, region: str, item: str, scope: str) -> float:
        return self._twh(self._exports().get(item, 0.0))

    def exports_total_twh(self, region: str, item: str, scope: str) -> float:
        fl = self.run.table("flows")
        reg = self.run.bus_regions()
        mine = fl.loc[(fl["bus0"].map(reg) == region) | (fl["bus1"].map(reg) == region), "branch"].unique()
        return self._twh(sum(v for k, v in self._exports().items() if k in set(mine)))

    def interchange_twh(self, region: str, item: str, scope: str) -> float:
        return self._twh(float(self.run.summary.get("interchange_sc_to_cq_mwh") or 0.0))

    def _imports_mwh(self, region: str) -> float:
        fl = self.run.table("flows")
        reg = self.run.bus_regions()
        fl = fl[fl["forward_mw"].notna()]
        r0, r1 = fl["bus0"].map(reg), fl["bus1"].map(reg)
        # power arriving at the region's end of a link from an external bus (p at that end < 0)
        got = np.where((r0 == region) & (r1 == EXTERNAL), -fl["p0_mw"],
                       np.where((r1 == region) & (r0 == EXTERNAL), -fl["p1_mw"], 0.0))
        got = np.maximum(got, 0.0) * fl["hour"].map(self.w).fillna(1.0).to_numpy()
        return float(got.sum())

    def _received_mwh(self, region: str) -> tuple[float, str | None]:
        """Net interchange the region receives from the other region of the case's pair, and that region."""
        s = self.run.summary
        pair = s.get("interchange_regions") or []
        if region not in pair:
            return 0.0, None
        into_second = float(s.get("interchange_sc_to_cq_mwh") or 0.0)
        got = into_second if region == pair[1] else -into_second
        return max(got, 0.0), pair[0] if region == pair[1] else pair[1]

    def _own_co2_t(self, region: str) -> float:
        s = self.run.summary
        return float(s["emissions_t"].get(region, 0.0)) + float((s.get("emissions_imported_t") or {}).get(region, 0.0))

    def _co2_t(self, region: str, scope: str = "") -> tuple[float, float]:
        """CO2 (t) and the energy it supplied (MWh) over the run, by the rule in the module docstring."""
        gen = self.generation_twh(region, "total", scope) * 1e6 / self.annual
        co2, supplied = self._own_co2_t(region), gen + self._imports_mwh(region)
        got, other = self._received_mwh(region)
        if got > 0:
            other_gen = self.generation_twh(other, "total", "") * 1e6 / self.annual
            co2 += got * float(self.run.summary["emissions_t"].get(other, 0.0)) / other_gen
            supplied += got
        return co2, supplied

    def co2_mt(self, region: str, item: str, scope: str) -> float:
        return self._co2_t(region)[0] * self.annual / 1e6

    def emission_factor_kg_per_kwh(self, region: str, item: str, scope: str) -> float:
        co2, supplied = self._co2_t(region, scope)
        return co2 / supplied if supplied > 0 else np.nan  # t/MWh = kg/kWh

    def _gas(self, region: str, column: str) -> float:
        g = self.run.table("gas")
        if not len(g):
            return 0.0
        g = g[g["node"].map(self.net.tables["gas_nodes"]["region"]) == region]
        return float(weighted(g, column, self.w).sum()) * self.annual / 1e3  # Mm3 -> bcm

    def _days(self) -> float:
        return self.represented / 24.0

    def _prices(self, region: str) -> pd.DataFrame:
        pr = self.run.table("prices")
        return pr[pr["region"] == region]

    def hydro_twh_per_day(self, region: str, item: str, scope: str) -> float:
        return float(self._generation(region, HYDRO, scope).sum()) / 1e6 / self._days()

    def shed_gwh_per_day(self, region: str, item: str, scope: str) -> float:
        pr = self._prices(region)
        return float(weighted(pr, "shed_mw", self.w).sum()) / 1e3 / self._days()

    def peak_demand_gw(self, region: str, item: str, scope: str) -> float:
        pr = self._prices(region)
        return float(pr["load_mw"].groupby(pr["hour"].to_numpy()).sum().max()) / 1e3

    def link_mean_mw(self, region: str, item: str, scope: str) -> float:
        return self._exports().get(item, 0.0) / self.represented

    def interchange_mean_mw(self, region: str, item: str, scope: str) -> float:
        return float(self.run.summary.get("interchange_sc_to_cq_mwh") or 0.0) / self.represented

    def gas_production_bcm(self, region: str, item: str, scope: str) -> float:
        return self._gas(region, "supply_mm3_per_h")

    def ugs_withdrawal_bcm(self, region: str, item: str, scope: str) -> float:
        return self._gas(region, "storage_withdrawal_mm3_per_h")


FIGURES = {name for name in vars(Figures) if not name.startswith("_") and name not in ("peak_hour",)}


def _shares(scope: str) -> dict[str, float]:
    """``BUS=share;BUS=share`` as a dict (an empty scope counts every bus whole)."""
    out = {}
    for part in filter(None, (p.strip() for p in str(scope or "").split(";"))):
        bus, _, share = part.partition("=")
        out[bus.strip()] = float(share)
    return out


def calibration_table(run: RunFolder, net: Network, figures: str = YEAR_FIGURES) -> pd.DataFrame:
    """Every published figure of the case beside the run's: model, published, gap (relative) and verdict."""
    pub = read_published(net, figures)
    fig = Figures(run, net)
    model = [getattr(fig, r.figure)(r.region, r.item, r.scope) for r in pub.itertuples(index=False)]
    out = pub.assign(model=model)
    out["gap"] = (out["model"] - out["published"]) / out["published"].abs()
    ok = out["gap"].abs() <= out["tolerance"]
    within = out["tolerance"].map(lambda t: f"within {100 * t:g} %")
    out["verdict"] = np.where(out["model"].isna(), "needs a full year",
                              np.where(ok, within, np.where(out["explained"] != "", "explained", "outside")))
    return out


def default_out() -> Path:
    return Path("results") / "calibration"


def _num(v: float) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    a = abs(v)
    return f"{v:,.0f}" if a >= 100 else f"{v:,.1f}" if a >= 10 else f"{v:.2f}" if a >= 1 else f"{v:.4f}"


def _run_line(run: RunFolder, fig: Figures) -> str:
    s = run.summary
    roll = s.get("rolling")
    how = "one LP" if not roll else f"rolling horizon ({roll.get('chains', 1)} chains)" \
        if isinstance(roll, dict) else "rolling horizon"
    line = (f"Run: scenario `{s.get('scenario', 'base')}`, {s.get('start')}, {s.get('hours')} h ({how}), "
            f"objective {s.get('objective_cny', float('nan')) / 1e9:,.3f} G CNY, gridopt {s.get('gridopt_version')}.")
    if not fig.full_year:
        line += (f" Annual energies are annualised from {fig.represented:g} h (x {fig.annual:.1f}); shares by month "
                 "need a run over the whole year; means per day or hour are the run's own.")
    return line


def report_markdown(table: pd.DataFrame, run: RunFolder, net: Network, charts: list[str],
                    figures: str = YEAR_FIGURES) -> str:
    """CALIBRATION.md: the stamp (case and input hash), how to read it, the table, peak hours and charts."""
    fig = Figures(run, net)
    counts = table["verdict"].value_counts()
    title = f"# Calibration of `{net.name}`" + ("" if figures == YEAR_FIGURES else f": `{figures}`")
    lines = [title, "",
             f"Case input hash: `{net.content_hash()}` (its horizon in the run: `{run.summary.get('input_hash')}`)", "",
             _run_line(run, fig), "",
             "Each row sets what the model did beside the published figure and its source. The definitions "
             f"are in `gridopt.studies.calibration`; the published figures in the case's `{figures}`. "
             f"Gap = (model - published) / |published|; a figure passes within its tolerance (±{TOLERANCE:.0%} "
             "unless the verdict says otherwise), and a larger gap needs the explanation given (detail in "
             "SOURCES.md).", "",
             "Verdicts: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".", "",
             "| figure | region | item | model | published | unit | year | gap | verdict | source | explanation |",
             "|---|---|---|---:|---:|---|---|---:|---|---|---|"]
    for r in table.itertuples(index=False):
        gap = "–" if pd.isna(r.gap) else f"{100 * r.gap:+.1f} %"
        lines.append(f"| {r.figure} | {r.region} | {r.item} | {_num(r.model)} | {_num(r.published)} | {r.unit} | "
                     f"{r.year} | {gap} | {r.verdict} | {r.source} | {r.explained} |")
    peaks = [f"{reg} {fig.peak_hour(reg):%Y-%m-%d %H:00}" for reg in sorted(set(table["region"]))
             if len(fig.served(reg))]
    lines += ["", "Hour of the peak load served: " + ", ".join(peaks) + "."]
    if charts:
        lines += ["", "## Charts", ""] + [f"![{Path(c).stem}]({c})" for c in charts]
    return "\n".join(lines) + "\n"


def run_year(net: Network, out: Path, start=None, hours: int | None = None, exact: bool = False,
             processes: int | None = None, progress=None) -> RunFolder:
    """Dispatch `net` over `hours` from `start` (default: its whole series) as `gridopt run` would: the rolling
    default for long horizons, or one LP when `exact`; write the results folder `out`."""
    from ..engine import dispatch
    from ..formulation import DispatchOptions
    from ..results import write_atomic
    from ..rolling import RollingOptions, dispatch_rolling
    hours = len(net.snapshots) if hours is None else hours
    horizon = DispatchOptions.create(net, start=start, hours=hours)
    roll = RollingOptions.for_horizon(horizon.hours, window=0 if exact else None, processes=processes)
    kw = dict(start=horizon.start, hours=horizon.hours)
    if roll.windowed:
        res = dispatch_rolling(net, options=roll, progress=progress, **kw)
    else:
        res = dispatch(net, raise_on_failure=False, **kw)
    if res.summary["status"] != "optimal":
        raise SolveError(f"the calibration run ended {res.summary['status']}: no table written")
    write_atomic(out, res.summary, res.tables)
    return RunFolder(out)


def calibrate(case: Network | str | os.PathLike, out: str | os.PathLike | None = None,
              run: str | os.PathLike | None = None, publish: bool = False, progress=None,
              figures: str = YEAR_FIGURES, **run_kw) -> pd.DataFrame:
    """Run the case (a Network, with its scenarios, or a case name or folder), or take the results folder
    `run`; set it beside the case's `figures` file; write CALIBRATION.md, the charts and the run (as `run/`,
    unless given) to `out`, whole or not at all; with `publish` also the report and charts into the case
    folder (`report_names`). `run_kw`: `start`, `hours`, `exact`, `processes` of `run_year`. Returns the
    table."""
    from ..plot.calibration import calibration_charts
    from ..results import replace_folder, temp_folder
    net = case if isinstance(case, Network) else load_case(case)
    out = Path(out) if out else default_out()
    tmp = temp_folder(out)
    try:
        folder = RunFolder(run) if run is not None else run_year(net, tmp / "run", progress=progress, **run_kw)
        table = calibration_table(folder, net, figures)
        charts = [p.name for p in calibration_charts(table, tmp, float(table["tolerance"].min()))]
        (tmp / "CALIBRATION.md").write_text(report_markdown(table, folder, net, charts, figures), encoding="utf-8")
        table.to_csv(tmp / "calibration.csv", index=False)
        if publish:
            _publish(tmp, Path(net.path), charts, figures)
        replace_folder(tmp, out)
    except BaseException:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return table


def _publish(folder: Path, case_dir: Path, charts: list[str], figures: str) -> None:
    """The report into the case folder: CALIBRATION.md with its charts under calibration/ (or the names
    `report_names` gives another figures file)."""
    import shutil

    from ..results import replace_folder, temp_folder
    report, pics_dir = report_names(figures)
    text = (folder / "CALIBRATION.md").read_text(encoding="utf-8")
    for c in charts:
        text = text.replace(f"]({c})", f"]({pics_dir}/{c})")
    pics = temp_folder(case_dir / pics_dir)
    for c in charts:
        shutil.copy2(folder / c, pics / c)
    replace_folder(pics, case_dir / pics_dir)
    tmp = case_dir / f".{report}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, case_dir / report)
