"""Solution arrays -> tidy tables, the summary, after-solve checks and atomic writing.

Every table is long ("tidy"): one row per (hour, element), units in column names. Prices and shadow
prices are per MWh (duals divided by the snapshot weighting), money in CNY.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .formulation.balance import extract_markets, extract_prices
from .formulation.capacity import corridor_values, extract_capacities
from .formulation.context import Context, Solved
from .formulation.gas import extract_gas
from .formulation.generators import extract_generators
from .formulation.hydro import extract_hydro
from .formulation.linking import extract_levels, extract_year
from .formulation.reserves import extract_reserves
from .formulation.storage import extract_storage
from .formulation.stores import extract_stores
from .formulation.transmission import extract_flows, extract_interfaces
from .lp import COST, INVESTMENT, OTHER, PENALTY
from .solvers.highs import Solution

TABLES = ("generation", "storage", "stores", "hydro", "flows", "interfaces", "prices", "reserves", "emissions", "gas",
          "capacities", "corridors", "levels", "year")


@dataclass
class Result:
    """A dispatch's outcome: tidy tables, the summary dict, and (optionally) the after-solve issues."""

    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    context: Context | None = None
    solution: Solution | None = None
    parts: dict[str, Any] = field(default_factory=dict)  # per-hour cost and penalty arrays, water in transit

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name in TABLES:
            return self.tables.get(name, pd.DataFrame())
        raise AttributeError(name)

    def write(self, folder: str | os.PathLike) -> Path:
        """Write summary.json and one Parquet file per table; the folder appears whole or not at all."""
        return write_atomic(folder, self.summary, self.tables)


def write_atomic(folder: str | os.PathLike, summary: dict[str, Any], tables: dict[str, pd.DataFrame]) -> Path:
    out = Path(folder)
    tmp = temp_folder(out)
    try:
        for name, df in tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False, compression="zstd")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default) + "\n")
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def temp_folder(out: Path) -> Path:
    """A new folder beside `out` (as readable as the umask allows), filled and then moved by `replace_folder`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; a results folder is as readable as any
    return tmp


def replace_folder(tmp: Path, out: Path) -> None:
    """Move the finished folder `tmp` to `out`, replacing what was there: readers see the old or the new."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, (pd.Timestamp,)):
        return o.isoformat()
    raise TypeError(type(o))


def extract(ctx: Context, sol: Solution) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Tidy tables from a primal solution, each family's from its own `extract_<family>`, and the parts of
    the summary: CNY per snapshot by cost and penalty label (from the terms the families registered, so
    they add up to the objective), water in transit and end shortfall, gas totals."""
    sv = Solved.of(ctx.lp, sol)
    tables: dict[str, pd.DataFrame] = {}
    hydro, hydro_gen, end_short, in_transit = extract_hydro(ctx, sv)
    gen = [extract_generators(ctx, sv), hydro_gen, extract_markets(ctx, sv)]
    tables["generation"] = pd.concat([x for x in gen if len(x)] or gen[:1], ignore_index=True)
    tables["storage"] = extract_storage(ctx, sv)
    tables["stores"] = extract_stores(ctx, sv)
    tables["hydro"] = hydro
    tables["flows"] = extract_flows(ctx, sv)
    tables["interfaces"] = extract_interfaces(ctx, sv)
    tables["prices"] = extract_prices(ctx, sv)
    tables["reserves"] = extract_reserves(ctx, sv)
    g = tables["generation"]
    tables["emissions"] = g.groupby(["hour", "region"], sort=True)["co2_t"].sum().reset_index()
    tables["gas"], gas_totals = extract_gas(ctx, sv)
    tables["capacities"] = extract_capacities(ctx, sv)
    tables["corridors"] = corridor_values(ctx, tables)
    tables["levels"] = extract_levels(ctx, sv)
    tables["year"] = extract_year(ctx, tables)
    for df in tables.values():  # -0.0 reads as a sign where there is none: adding 0.0 turns it into 0.0
        for col in df.columns[[dt.kind == "f" for dt in df.dtypes]]:
            df[col] = df[col] + 0.0
    money = ctx.lp.cost_parts(sol.x)
    # cost and penalty parts are per snapshot (CNY, weighted) so that a horizon can be cut into windows
    parts = {"cost": money[COST], "penalties": money[PENALTY], "other": money[OTHER],
             "investment": money[INVESTMENT], "end_shortfall_hm3": end_short,
             "water_in_transit_hm3": in_transit, "gas": gas_totals}
    return tables, parts
