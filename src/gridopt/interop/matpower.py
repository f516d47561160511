"""Read a MATPOWER case file (``mpc.baseMVA``, ``mpc.bus``, ``mpc.gen``, ``mpc.branch``, ``mpc.gencost``)
into a gridopt network for a DC dispatch (DC-OPF) of one hour, or of every hour of a load profile.

The file is parsed here (no MATLAB or Octave needed). Units: MW, kV, MVA, currency per hour as in the file.

- buses: name = bus number, v_nom = baseKV (1 kV where the file gives 0), region = ``matpower`` or
  ``area<N>`` when the case has several areas; isolated buses (type 4) are skipped.
- loads: Pd per bus -> load_firm_mw (times the profile's hourly multiplier); a shunt conductance Gs
  counts as a constant demand of Gs MW (the DC approximation at 1 pu voltage, as MATPOWER's DC-OPF).
- generators in service (status > 0): p_nom = Pmax, a minimum output p_min_pu = Pmin / Pmax
  (committable false). Costs (gencost, first ng rows; start-up and shut-down costs are not part of an OPF):
  polynomial (model 2) of degree <= 2, c2 p^2 + c1 p + c0: linear (c2 = 0) exactly; quadratic
  linearised between Pmin and Pmax in `segments` equal pieces, each piece a separate generator at the
  bus (``gen<k>_s<j>``) whose marginal cost is the chord slope c1 + c2 (a_j + a_{j+1}); convex
  piecewise-linear costs (model 1) taken as they are (one generator per piece inside [Pmin, Pmax]).
  The cost at Pmin and c0 are the same at every feasible dispatch: they are not in the LP but
  reported as `Imported.constant_cny` (summed over the hours), so MATPOWER's objective = gridopt's + it.
- branches in service (status 1): reactance x in per unit on baseMVA. Lines: x_ohm = x * baseKV^2 /
  baseMVA, so gridopt's x_ohm / v_nom^2 (1 MVA base) is x / baseMVA and every susceptance keeps its
  ratio. Transformers (tap ratio not 0 or 1, or ends of different baseKV): x on their own s_nom =
  x * s_nom / baseMVA with tap_ratio = the ratio, so x / s_nom * tap_ratio = x * ratio / baseMVA as in
  MATPOWER's DC model. s_nom = rateA; rateA = 0 (unlimited) gives `UNLIMITED_MW`. Resistance and
  charging are not used by a DC power flow. Phase shifters are refused; angle-difference limits are not
  enforced (warning).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CaseError, Problem, UsageError
from .common import (
    IMPORT_SETTINGS,
    UNLIMITED_MW,
    Imported,
    hourly_index,
    import_penalties,
    imported_network,
    warn,
)

DEFAULT_START = "2025-01-01 00:00"
CARRIER = "thermal"


def parse_m(text: str) -> dict[str, object]:
    """Numeric fields of a MATPOWER case file: scalars as floats, matrices as 2-D arrays (rows padded with NaN)."""
    text = re.sub(r"%[^\n]*", "", text)
    out: dict[str, object] = {}
    for name, body in re.findall(r"mpc\.(\w+)\s*=\s*\[(.*?)\]\s*;?", text, flags=re.DOTALL):
        rows = []
        for line in re.split(r"[;\n]", body.replace("...", " ")):
            vals = [v for v in re.split(r"[\s,]+", line.strip()) if v]
            if vals:
                rows.append([float(v) for v in vals])
        width = max((len(r) for r in rows), default=0)
        out[name] = np.array([r + [np.nan] * (width - len(r)) for r in rows]).reshape(len(rows), width)
    for name, value in re.findall(r"mpc\.(\w+)\s*=\s*([-+0-9.eE]+)\s*;", text):
        out.setdefault(name, float(value))
    return out


def read_matpower(path: str | os.PathLike, segments: int = 4, profile: str | os.PathLike | None = None) -> Imported:
    """Read the MATPOWER case at `path` (see the module docstring).

    `segments`: pieces per quadratic cost curve. `profile`: CSV with an hourly ``multiplier`` column
    (and optionally a ``snapshot`` time column) scaling Pd hour by hour; without it, one hour.
    """
    path = Path(path)
    if segments < 1:
        raise UsageError(f"segments must be >= 1, got {segments}")
    base, bus, gen, branch, gencost = _matrices(path)
    mult, index = _profile(profile)
    problems: list[Problem] = []
    buses, series, kv_of = _buses(path, bus, mult, index, problems)
    rows, constant = _generators(str(path), gen, gencost, kv_of, segments, problems)
    lines, transformers = _branches(path, branch, base, kv_of, problems)
    if problems:
        raise CaseError(problems)
    constant *= len(mult)
    tables = {"buses": buses, "generators": pd.DataFrame(rows), "lines": pd.DataFrame(lines),
              "transformers": pd.DataFrame(transformers)}
    regions = sorted(set(buses["region"]))
    config = {"name": path.stem, "description": f"imported from the MATPOWER case {path.name} (DC dispatch); "
                                                f"objective constant {constant:g} not in the LP",
              "timeseries_start": str(index[0]), "hours": len(mult), "regions": regions,
              "penalties": import_penalties(), **IMPORT_SETTINGS}
    tables = {k: v for k, v in tables.items() if len(v)}
    net = imported_network(config, tables, series, path)
    return Imported(net, constant_cny=constant)


def _matrices(path: Path) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """baseMVA and the bus, gen, branch and gencost matrices, each checked for presence and width."""
    try:
        mpc = parse_m(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError) as exc:
        raise CaseError([Problem(str(path), "", "", f"unreadable MATPOWER file: {exc}")]) from None
    file = str(path)
    problems: list[Problem] = []
    for key in ("bus", "gen", "branch", "gencost"):
        if not isinstance(mpc.get(key), np.ndarray) or mpc[key].size == 0:
            problems.append(Problem(file, "", f"mpc.{key}", "missing or empty matrix"))
    if not isinstance(mpc.get("baseMVA"), float):
        problems.append(Problem(file, "", "mpc.baseMVA", "missing"))
    if problems:
        raise CaseError(problems)
    bus, gen, branch, gencost = (np.asarray(mpc[k]) for k in ("bus", "gen", "branch", "gencost"))
    for key, m, width in (("bus", bus, 13), ("gen", gen, 10), ("branch", branch, 11), ("gencost", gencost, 5)):
        if m.shape[1] < width:
            problems.append(Problem(file, "", f"mpc.{key}", f"{m.shape[1]} columns, at least {width} expected"))
    if gencost.shape[0] < gen.shape[0]:
        problems.append(Problem(file, "", "mpc.gencost", f"{gencost.shape[0]} rows for {gen.shape[0]} generators"))
    if problems:
        raise CaseError(problems)
    return float(mpc["baseMVA"]), bus, gen, branch, gencost


def _buses(path: Path, bus: np.ndarray, mult: np.ndarray, index: pd.DatetimeIndex, problems: list[Problem]):
    """The buses in service (a region per area), their load series (Pd x profile + Gs) and kV by number."""
    live = bus[:, 1] != 4
    numbers = bus[live, 0].astype(int)
    names = [str(n) for n in numbers]
    kv = np.where(bus[live, 9] > 0, bus[live, 9], 1.0)
    areas = bus[live, 6].astype(int)
    many = len(set(areas)) > 1
    regions = [f"area{a}" if many else "matpower" for a in areas]
    buses = pd.DataFrame({"name": names, "region": regions, "v_nom": kv})
    gs = bus[live, 4]
    if np.any(gs != 0):
        warn(f"{path.name}: shunt conductances Gs counted as constant demand at 1 pu voltage "
             f"({gs.sum():g} MW in all)")
    load = bus[live, 2][None, :] * mult[:, None] + gs[None, :]
    for j in np.flatnonzero((load < 0).any(axis=0)):
        problems.append(Problem(str(path), f"bus {numbers[j]}", "PD", f"negative demand {load[:, j].min():g} MW "
                                                                      "(Pd + Gs) is not supported"))
    has_load = (load != 0).any(axis=0)
    series = {"load_firm_mw": pd.DataFrame(load[:, has_load], columns=np.array(names)[has_load], index=index)}
    return buses, series, dict(zip(numbers, kv))


def _generators(file: str, gen: np.ndarray, gencost: np.ndarray, kv_of: dict, segments: int,
                problems: list[Problem]) -> tuple[list[dict], float]:
    """Generator rows (one per cost piece) of the units in service, and the hourly cost constant."""
    rows, constant = [], 0.0
    for k in range(gen.shape[0]):
        b, status, pmax, pmin = int(gen[k, 0]), gen[k, 7], gen[k, 8], gen[k, 9]
        if status <= 0 or b not in kv_of:
            continue
        ref = f"gen row {k + 1}"
        if pmin < 0:
            problems.append(Problem(file, ref, "PMIN", f"{pmin:g}: negative output (dispatchable load) is not supported"))
            continue
        if pmax < pmin:
            problems.append(Problem(file, ref, "PMAX", f"{pmax:g} below PMIN {pmin:g}"))
            continue
        if pmax <= 0:
            continue
        cost_fn, cuts, err = _cost_curve(gencost[k], pmin, pmax, segments)
        if err:
            problems.append(Problem(file, f"gencost row {k + 1}", err[0], err[1]))
            continue
        gens, c = _pieces(f"gen{k + 1}", str(b), pmin, pmax, cost_fn, cuts)
        rows += gens
        constant += c
    return rows, constant


def _branches(path: Path, branch: np.ndarray, base: float, kv_of: dict,
              problems: list[Problem]) -> tuple[list[dict], list[dict]]:
    """Lines and transformers in service, reactances in ohm (lines) or per unit of their rating."""
    lines, transformers = [], []
    for k in range(branch.shape[0]):
        f_, t_, x, rate, tap, shift, status = (branch[k, 0], branch[k, 1], branch[k, 3], branch[k, 5],
                                               branch[k, 8], branch[k, 9], branch[k, 10])
        f_, t_ = int(f_), int(t_)
        if status <= 0 or f_ not in kv_of or t_ not in kv_of:
            continue
        ref = f"branch row {k + 1}"
        if shift != 0:
            problems.append(Problem(str(path), ref, "SHIFT", f"{shift:g} deg: phase shifters are not supported"))
            continue
        if not x > 0:
            problems.append(Problem(str(path), ref, "BR_X", f"{x:g}: a DC power flow needs x > 0"))
            continue
        if branch.shape[1] >= 13:
            amin, amax = branch[k, 11], branch[k, 12]
            if not (amin == 0 and amax == 0) and (amin > -360 or amax < 360):
                warn(f"{path.name}: {ref}: angle-difference limits [{amin:g}, {amax:g}] deg not enforced")
        s_nom = rate if rate > 0 else UNLIMITED_MW
        name = f"branch{k + 1}"
        if (tap != 0 and tap != 1) or kv_of[f_] != kv_of[t_]:
            ratio = tap if tap != 0 else 1.0
            transformers.append({"name": name, "bus0": str(f_), "bus1": str(t_), "x": x * s_nom / base,
                                 "s_nom": s_nom, "tap_ratio": ratio})
        else:
            lines.append({"name": name, "bus0": str(f_), "bus1": str(t_), "x": x * kv_of[f_] ** 2 / base,
                          "s_nom": s_nom})
    return lines, transformers


def _cost_curve(row: np.ndarray, pmin: float, pmax: float, segments: int
                ) -> tuple[Callable[[float], float], list[float], tuple[str, str] | None]:
    """Cost function (per hour) and breakpoints in [pmin, pmax], or the column and reason it is refused."""
    model, n = int(row[0]), int(row[3])
    coef = row[4:4 + (2 * n if model == 1 else n)]
    if len(coef) < (2 * n if model == 1 else n) or np.isnan(coef).any():
        return (lambda p: 0.0), [], ("NCOST", f"{n} cost terms expected")
    if model == 2:
        if n > 3:
            return (lambda p: 0.0), [], ("NCOST", f"polynomial of degree {n - 1}: only up to quadratic is supported")
        c = np.zeros(3)
        c[3 - n:] = coef
        c2, c1, c0 = c
        if c2 < 0:
            return (lambda p: 0.0), [], ("COST", f"c2 = {c2:g} < 0: non-convex cost is not supported")
        pieces = segments if c2 > 0 else 1
        cuts = list(np.linspace(pmin, pmax, pieces + 1)) if pmax > pmin else [pmin, pmax]
        return (lambda p: c2 * p * p + c1 * p + c0), cuts, None
    if model == 1:
        x, y = coef[0::2], coef[1::2]
        if n < 2 or np.any(np.diff(x) <= 0):
            return (lambda p: 0.0), [], ("COST", "piecewise-linear points must have increasing output")
        slope = np.diff(y) / np.diff(x)
        if np.any(np.diff(slope) < -1e-9):
            return (lambda p: 0.0), [], ("COST", "non-convex piecewise-linear cost is not supported")

        def f(p: float) -> float:  # MATPOWER's convex curve: the maximum of the pieces' lines
            return float(np.max(slope * (p - x[:-1]) + y[:-1]))
        inner = [v for v in x[1:-1] if pmin < v < pmax]
        return f, [pmin, *inner, pmax], None
    return (lambda p: 0.0), [], ("MODEL", f"cost model {model} is not 1 (piecewise linear) or 2 (polynomial)")


def _pieces(name: str, bus: str, pmin: float, pmax: float, f: Callable[[float], float], cuts: list[float]
            ) -> tuple[list[dict], float]:
    """Generators for the pieces of a convex cost curve, and the constant cost f(pmin) - slope_0 * pmin.

    Piece j covers [a_j, a_j+1] at slope (f(a_j+1) - f(a_j)) / (a_j+1 - a_j); the first piece runs from 0
    to a_1 with the minimum output pmin, so the LP cost is slope_0 * pmin at pmin.
    """
    if pmax <= pmin:  # fixed output
        return [{"name": name, "bus": bus, "carrier": CARRIER, "p_nom": pmax, "p_min_pu": 1.0,
                 "marginal_cost": 0.0}], f(pmax)
    slopes = [(f(b) - f(a)) / (b - a) for a, b in pairwise(cuts)]
    one = len(slopes) == 1
    out = []
    for j, (a, b) in enumerate(pairwise(cuts)):
        top = b if j == 0 else b - a
        out.append({"name": name if one else f"{name}_s{j + 1}", "bus": bus, "carrier": CARRIER, "p_nom": top,
                    "p_min_pu": (pmin / top) if j == 0 else 0.0, "marginal_cost": slopes[j]})
    return out, f(pmin) - slopes[0] * pmin


def _profile(profile: str | os.PathLike | None) -> tuple[np.ndarray, pd.DatetimeIndex]:
    if profile is None:
        return np.ones(1), hourly_index(DEFAULT_START, 1)
    path = Path(profile)
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UsageError(f"--profile {path}: unreadable CSV ({str(exc).splitlines()[0]})") from None
    if "multiplier" not in df.columns:
        raise UsageError(f"--profile {path}: needs a 'multiplier' column (hourly factor on Pd)")
    mult = pd.to_numeric(df["multiplier"], errors="coerce").to_numpy(dtype=float)
    if len(mult) == 0 or not np.isfinite(mult).all() or (mult < 0).any():
        raise UsageError(f"--profile {path}: 'multiplier' must hold finite numbers >= 0, one per hour")
    start = DEFAULT_START
    for col in ("snapshot", "time", "timestamp"):
        if col in df.columns:
            try:
                start = str(pd.Timestamp(df[col].iloc[0]))
            except (ValueError, TypeError):
                raise UsageError(f"--profile {path}: column {col!r} is not a timestamp") from None
            break
    return mult, hourly_index(start, len(mult))
