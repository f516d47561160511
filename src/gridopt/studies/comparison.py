"""`compare`: what differs between results folders of `gridopt run`, one row per figure.

The table holds, per figure, its value in every run and its difference from the first run (later run minus
the first: a positive difference means the later run has more). Money is net of export revenue unless named
gross. Figures summed over hours carry the snapshot weightings (`gridopt.plot.folders`), so runs over
representative periods compare as the years they stand for. Runs must cover the same horizon (start,
snapshots and represented hours) unless `allow_different_horizons`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..plot.folders import RunFolder
from ..report import _fmt
from .metrics import corridor_values, exports_by_link_mwh, generation_by_region_mwh, mean_prices

KEY_COLUMNS = ["quantity", "item", "unit"]
Figures = dict[tuple[str, str, str], float]


def _add(out: Figures, quantity: str, unit: str, values: dict, prefix: str = "") -> None:
    for k, v in values.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[(quantity, prefix + str(k), unit)] = float(v)


def figures(run: RunFolder) -> Figures:
    """Every figure `compare` reports for one run, keyed by (quantity, item, unit)."""
    s = run.summary
    cost = s.get("cost_cny", {})
    export_revenue = float(cost.get("export_revenue_cny", 0.0))
    out: Figures = {
        ("objective_cny", "", "CNY"): float(s["objective_cny"]),
        ("cost_gross_cny", "without export revenue", "CNY"): float(s["cost_total_cny"]) - export_revenue,
        ("export_revenue_cny", "", "CNY"): export_revenue,
        ("cost_total_cny", "net of export revenue", "CNY"): float(s["cost_total_cny"]),
    }
    _add(out, "cost_cny", "CNY", {k: v for k, v in cost.items() if k != "export_revenue_cny"})
    out[("penalties_total_cny", "", "CNY")] = float(s["penalties_total_cny"])
    _add(out, "penalties_cny", "CNY", s.get("penalties_cny", {}))
    out[("investment_cny", "", "CNY")] = float(s.get("investment_cny", 0.0))
    _add(out, "emissions_t", "t", s.get("emissions_t", {}))
    _add(out, "emissions_imported_t", "t", s.get("emissions_imported_t", {}))
    _add(out, "generation_mwh", "MWh", s.get("generation_mwh", {}))
    _add(out, "generation_mwh", "MWh", generation_by_region_mwh(run))
    out[("interchange_sc_to_cq_mwh", "->".join(s.get("interchange_regions", [])), "MWh")] = \
        float(s.get("interchange_sc_to_cq_mwh", 0.0))
    _add(out, "exports_by_link_mwh", "MWh", exports_by_link_mwh(run.table("flows"), run.bus_regions(), run.weights()))
    out[("load_mwh", "", "MWh")] = float(s.get("load_mwh", 0.0))
    _add(out, "load_shed_mwh", "MWh", s.get("load_shed_mwh", {}))
    _add(out, "curtailment_mwh", "MWh", s.get("curtailment_mwh", {}))
    out[("spill_hm3", "", "hm3")] = float(s.get("spill_hm3", 0.0))
    by_load, by_time = mean_prices(run)
    _add(out, "mean_price_load_weighted", "CNY/MWh", by_load)
    _add(out, "mean_price_time_weighted", "CNY/MWh", by_time)
    _add(out, "carbon_shadow_price", "CNY/t", s.get("carbon_shadow_price_cny_per_t", {}))
    _add(out, "corridor_value", "CNY/MW", corridor_values(run))
    return out


# figures that are sums: absent in a run means none (0); the rest (prices, corridor values) stay missing
_ADDITIVE = ("cost", "export", "penalties", "investment", "emissions", "generation", "exports", "load",
             "curtailment", "interchange", "spill", "objective")


def _labels(runs: list[RunFolder]) -> list[str]:
    """Column labels: the folders' names, made unique by their position where two share a name."""
    names = [r.name for r in runs]
    return [n if names.count(n) == 1 else f"{n}#{i + 1}" for i, n in enumerate(names)]


def compare(paths: Sequence[str | os.PathLike], allow_different_horizons: bool = False) -> pd.DataFrame:
    """A table of the figures that differ between runs: columns quantity, item, unit, one value column per
    run (named after its folder) and one difference column per run after the first, named
    ``"<run> - <first run>"`` (the later minus the first). Raises UsageError for fewer than two folders, a
    folder without a solution, or runs of different horizons (unless `allow_different_horizons`)."""
    if len(paths) < 2:
        raise UsageError("compare needs at least two results folders")
    runs = [RunFolder(p) for p in paths]
    for r in runs:
        if not r.solved:
            raise UsageError(f"{r.path}: status {r.summary.get('status')}: the folder holds no solution to compare")
    if not allow_different_horizons:
        spans = [r.horizon() for r in runs]
        if any(sp != spans[0] for sp in spans[1:]):
            desc = "; ".join(f"{r.name}: {st} {h} h for {rep:g} h" for r, (st, h, rep) in zip(runs, spans))
            raise UsageError(f"runs cover different horizons ({desc}); give --allow-different-horizons to compare "
                             "them anyway")
    labels = _labels(runs)
    per_run = [figures(r) for r in runs]
    keys: list[tuple[str, str, str]] = []
    for f in per_run:
        keys += [k for k in f if k not in set(keys)]
    first = {}
    for k in keys:
        first.setdefault(k[0], len(first))
    keys.sort(key=lambda k: first[k[0]])  # a figure only a later run has stays beside its kind (stable sort)
    table = pd.DataFrame(keys, columns=KEY_COLUMNS)
    additive = table["quantity"].str.startswith(_ADDITIVE).to_numpy()
    for label, f in zip(labels, per_run):
        col = np.array([f.get(k, np.nan) for k in keys], dtype=float)
        table[label] = np.where(additive & np.isnan(col), 0.0, col)
    for label in labels[1:]:
        table[f"{label} - {labels[0]}"] = table[label] - table[labels[0]]
    return table


def _changed(table: pd.DataFrame) -> pd.Series:
    """Rows worth printing: some run's value is not zero (a zero in every run says nothing)."""
    values = table.drop(columns=KEY_COLUMNS).to_numpy(dtype=float)
    return pd.Series((np.abs(np.nan_to_num(values)) >= 0.005).any(axis=1), index=table.index)


def _cell(x: float, unit: str) -> str:
    if np.isnan(x):
        return "-"
    return _fmt(x, "") if unit not in ("CNY/MWh", "CNY/t") else f"{x:,.1f}"


def to_text(table: pd.DataFrame, show_all: bool = False) -> str:
    """The table for a terminal: figures with SI prefixes (k, M, G), rows all zero left out unless asked."""
    rows = table if show_all else table[_changed(table)]
    cols = list(table.columns[len(KEY_COLUMNS):])
    width = {c: max(14, len(c)) + 2 for c in cols}
    head = [f"{'quantity':<32}{'item':<34}{'unit':<9}"] + [f"{c:>{width[c]}}" for c in cols]
    lines = ["".join(head)]
    for _, r in rows.iterrows():
        lines.append(f"{r['quantity']:<32}{str(r['item'])[:33]:<34}{r['unit']:<9}"
                     + "".join(f"{_cell(r[c], r['unit']):>{width[c]}}" for c in cols))
    left = len(table) - len(rows)
    if left:
        lines.append(f"({left} rows zero in every run left out; --all shows them)")
    return "\n".join(lines)


def to_markdown(table: pd.DataFrame, show_all: bool = False) -> str:
    rows = table if show_all else table[_changed(table)]
    cols = list(table.columns)
    fmt: Callable[[object, str], str] = lambda v, unit: v if isinstance(v, str) else _cell(float(v), unit)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(KEY_COLUMNS) + "---:|" * (len(cols) - 3)]
    for _, r in rows.iterrows():
        lines.append("| " + " | ".join(fmt(r[c], r["unit"]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def write(table: pd.DataFrame, path: str | os.PathLike, show_all: bool = False) -> Path:
    """Write the table as Markdown (.md) or CSV (.csv, every row, full precision)."""
    p = Path(path)
    if p.suffix == ".csv":
        table.to_csv(p, index=False)
    elif p.suffix == ".md":
        p.write_text(to_markdown(table, show_all), encoding="utf-8")
    else:
        raise UsageError(f"{p}: --out must end in .md or .csv")
    return p
