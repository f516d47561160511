"""Case folders: reading them into a `Network` and writing one back.

A case is a folder `networks/<case>/` holding `case.toml`, one CSV per component (columns of
`schema.csv`) and `scenarios/*.toml` overlays. Its hourly series are Parquet files found by convention
(see `load_case`): the case's own `timeseries/` subfolder, else, for a case folder inside a `networks/`
folder, the sibling `timeseries/<case folder>/`.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import CaseError, Problem, UsageError
from .network import Network
from .schema import COMPONENTS, SCHEMA, SERIES
from .validate import file_of

__all__ = ["load_case", "repo_root", "series_dirs", "timeseries_dir", "write_case"]


def repo_root() -> Path:
    """The folder holding `networks/` and `timeseries/` (GRIDOPT_HOME, else the current or source tree)."""
    env = os.environ.get("GRIDOPT_HOME")
    if env:
        return Path(env)
    for cand in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (cand / "networks").is_dir():
            return cand
    return Path.cwd()


def _resolve_case(name_or_path: str | os.PathLike) -> Path:
    p = Path(name_or_path)
    if p.is_dir():
        return p
    cand = repo_root() / "networks" / str(name_or_path)
    if cand.is_dir():
        return cand
    raise CaseError([Problem(str(name_or_path), "", "", "no such case (not a folder, nor a case in networks/)")])


def series_dirs(case_dir: Path) -> list[Path]:
    """Where a case's series may be, in order: its own `timeseries/`, then, only for a case folder inside
    a `networks/` folder, the sibling `../../timeseries/<case folder>/` (the repository layout). Nothing
    else: a copied case must not borrow the series of another case of the same name."""
    case_dir = Path(case_dir).absolute()
    out = [case_dir / "timeseries"]
    if case_dir.parent.name == "networks":
        out.append(case_dir.parent.parent / "timeseries" / case_dir.name)
    return out


def timeseries_dir(case_dir: Path) -> Path | None:
    """The folder holding the case's series (see `series_dirs`), or None."""
    return next((d for d in series_dirs(case_dir) if d.is_dir()), None)


# carriers whose output follows the weather: without an availability column they would run at p_max_pu
# (1 by default) every hour
_WEATHER_CARRIERS = frozenset({"pv", "solar", "wind", "onwind", "offwind"})


def _missing_series(tables: Mapping[str, pd.DataFrame], series: Mapping[str, pd.DataFrame],
                    case_dir: Path, ts_dir: Path | None) -> list[Problem]:
    """Series a case's tables need but its files lack. Missing data must not become a default silently:
    no load would dispatch an empty grid, no inflow a dry river, no availability PV at full output all night."""
    looked = " or ".join(str(d) for d in series_dirs(case_dir))
    where = ts_dir if ts_dir is not None else series_dirs(case_dir)[0]
    problems: list[Problem] = []

    def names(comp: str, mask=None) -> list[str]:
        df = tables.get(comp)
        if df is None or not len(df) or "name" not in df.columns:
            return []
        return df["name"].astype(str)[mask(df) if mask else slice(None)].tolist()

    buses = names("buses")
    if ts_dir is None:
        if buses:
            problems.append(Problem(str(where), "", "", f"missing series folder (the case's buses need load series, "
                                    f"at least load_firm_mw.parquet); looked in {looked}"))
        return problems
    need = [("load_firm_mw", buses, "no load series for any bus: the case would have no load"),
            ("inflow_m3s", names("reservoirs"), "reservoir(s) without natural inflow"),
            ("p_max_pu", names("generators", lambda df: df["carrier"].astype(str).str.lower().isin(_WEATHER_CARRIERS))
             if "carrier" in tables.get("generators", pd.DataFrame()) else [],
             "PV/wind unit(s) without hourly availability")]
    for sname, elements, what in need:
        if not elements:
            continue
        if sname == "load_firm_mw":
            cols = {c for k in ("load_firm_mw", "load_interruptible_mw") if k in series for c in series[k].columns}
            if not cols & set(elements):
                problems.append(Problem(str(where / f"{sname}.parquet"), "", "",
                                        f"missing: {what} (looked in {ts_dir})"))
            continue
        have = set(series[sname].columns) if sname in series else set()
        lack = [e for e in elements if e not in have]
        if lack:
            shown = ", ".join(lack[:5]) + (f" and {len(lack) - 5} more" if len(lack) > 5 else "")
            problems.append(Problem(str(where / f"{sname}.parquet"), "", "",
                                    f"{'missing file' if sname not in series else 'missing columns'}: {what}: {shown}"))
    return problems


def _check_inside(path: Path, root: Path, problems: list[Problem]) -> bool:
    if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
        problems.append(Problem(str(path), "", "", "symbolic link out of the case folder refused"))
        return False
    return True


# CSV files of a case folder that are not network tables: published figures read by `gridopt calibrate`
# (calibration.csv, and calibration_<name>.csv for a scenario's own horizon)
DOCUMENT_PREFIX = "calibration"


def load_case(name_or_path: str | os.PathLike) -> Network:
    """Load and validate a case by name (a folder in `networks/`) or path; raises CaseError.

    Case files hold no paths. The case's hourly series are the Parquet files of its own `timeseries/`
    subfolder; when it has none and the case folder sits in a `networks/` folder, they are in the sibling
    `timeseries/<case folder name>/` of that folder's parent (the repository layout). No other place is
    searched, so a copied case takes its series with it or fails to load. A case whose tables need series
    it lacks is an error naming the missing folder, file or columns and where they were looked for: buses
    need load (`load_firm_mw` or `load_interruptible_mw` naming at least one bus), reservoirs their
    natural inflow (`inflow_m3s`), PV and wind units their availability (`p_max_pu`).
    """
    case_dir = _resolve_case(name_or_path)
    problems: list[Problem] = []
    toml_path = case_dir / "case.toml"
    config: dict[str, Any] = {}
    if not toml_path.is_file():
        problems.append(Problem(str(toml_path), "", "", "missing file"))
    elif _check_inside(toml_path, case_dir, problems):
        try:
            config = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(toml_path), "", "", f"not valid TOML: {exc}"))
    config.setdefault("name", case_dir.name)
    tables: dict[str, pd.DataFrame] = {}
    for f in sorted(case_dir.glob("*.csv")):
        comp = f.stem
        if comp.split("_")[0] == DOCUMENT_PREFIX or not _check_inside(f, case_dir, problems):
            continue
        if comp not in SCHEMA:
            problems.append(Problem(str(f), "", "", f"unknown component table (expected one of: {', '.join(COMPONENTS)})"))
            continue
        try:
            tables[comp] = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(f), "", "", f"unreadable CSV: {str(exc).splitlines()[0]}"))
    if "buses" not in tables:
        problems.append(Problem(str(case_dir / "buses.csv"), "", "", "missing file (every case needs buses)"))
    series: dict[str, pd.DataFrame] = {}
    ts_dir = timeseries_dir(case_dir)
    if ts_dir is not None:
        for f in sorted(ts_dir.glob("*.parquet")):
            if not _check_inside(f, case_dir if ts_dir.is_relative_to(case_dir) else ts_dir, problems):
                continue
            if f.stem not in SERIES:
                problems.append(Problem(str(f), "", "", f"unknown series (expected one of: {', '.join(SERIES)})"))
                continue
            try:
                series[f.stem] = pd.read_parquet(f)
            except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
                problems.append(Problem(str(f), "", "", f"unreadable Parquet: {str(exc).splitlines()[0]}"))
    missing = _missing_series(tables, series, case_dir, ts_dir)
    problems += missing
    scen = {}
    sdir = case_dir / "scenarios"
    if sdir.is_dir():
        scen = {f.stem: f for f in sorted(sdir.glob("*.toml"))}
    net = None
    try:
        net = Network.from_tables(config, tables, series, path=case_dir, scenario_files=scen)
    except CaseError as exc:
        # without its series the case's horizon settings cannot be checked: report the missing series alone
        problems += [p for p in exc.problems if not (missing and p.column == "default_hours")]
    if problems or net is None:
        raise CaseError(_prefix(problems, case_dir, ts_dir))
    return net


def _prefix(problems: list[Problem], case_dir: Path, ts_dir: Path | None = None) -> list[Problem]:
    """Give bare file names (as produced by from_tables) their folder."""
    out = []
    for p in problems:
        f = p.file
        if "/" not in f and os.sep not in f:
            if f.endswith(".parquet") and ts_dir is not None:
                f = str(ts_dir / f)
            else:
                f = str(case_dir / f)
        out.append(Problem(f, p.row, p.column, p.message))
    return out


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if not isinstance(v, float) or math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):  # an inline table (e.g. one expansion limit)
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_key(k: Any) -> str:
    """A bare key where TOML allows one, else a quoted one (region and limit names may hold any character)."""
    k = str(k)
    return k if k and all(c.isascii() and (c.isalnum() or c in "_-") for c in k) else _toml_value(k)


def write_case(net: Network, folder: str | os.PathLike) -> Path:
    """Write `net` as a case folder: tables, case.toml, and its series in the folder's own `timeseries/`, so
    the folder loads from anywhere (see `load_case`). Dated scenario changes that no series holds cannot be
    written: write `net.for_horizon(start, hours)` instead."""
    if net.dated_changes:
        raise UsageError(f"{net.name}: scenario {net.scenario} has dated changes a case folder cannot hold "
                         f"({', '.join(d['entry'] for d in net.dated_changes)}); write net.for_horizon(start, hours)")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    lines, tables = [], []
    for k, v in net.config.items():
        if k == "default_hours" and not v:
            continue  # absent: the whole series
        if isinstance(v, dict):
            tables.append(f"\n[{k}]\n" + "".join(f"{_toml_key(kk)} = {_toml_value(vv)}\n" for kk, vv in v.items()))
        else:
            lines.append(f"{k} = {_toml_value(v)}\n")
    (out / "case.toml").write_text("".join(lines) + "".join(tables), encoding="utf-8")
    for comp in COMPONENTS:
        df = net.tables[comp]
        if len(df) or comp == "buses":
            (df.reset_index() if df.index.name == "name" else df).to_csv(out / file_of(comp), index=False)
    if net.series:
        ts = out / "timeseries"
        ts.mkdir(exist_ok=True)
        for name, df in net.series.items():
            df.to_parquet(ts / f"{name}.parquet", compression="zstd")
    return out
