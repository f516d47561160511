"""PyPSA's standard line and transformer types, applied to a PyPSA CSV folder's branches as PyPSA applies them.

The type parameters are data, read from one of two places (never written into this code):

1. the folder's own ``line_types.csv`` / ``transformer_types.csv``, when the network exports them
   (their rows take precedence: a network may redefine or add types);
2. the standard types shipped with the installed ``pypsa`` package, in its package data folder
   ``pypsa/data/standard_types/`` (located with importlib, without importing PyPSA).

The rules, per element with a non-empty ``type``:

- line: x = x_per_length * length / num_parallel and r = r_per_length * length / num_parallel
  (ohm); the line keeps its own s_nom.
- transformer: r = vscr / 100, x = sqrt((vsc / 100)^2 - r^2), both divided by num_parallel (per
  unit on the type's s_nom); s_nom = the type's s_nom (MVA); tap_ratio = 1 + (tap_position -
  tap_neutral) * tap_step / 100; phase_shift = the type's phase_shift (degrees).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

TYPE_FILES = {"lines": "line_types.csv", "transformers": "transformer_types.csv"}


def pypsa_standard_types_folder() -> Path | None:
    """The installed pypsa package's ``data/standard_types`` folder, or None without pypsa."""
    spec = importlib.util.find_spec("pypsa")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        folder = Path(root) / "data" / "standard_types"
        if folder.is_dir():
            return folder
    return None


def type_table(comp: str, folder: Path) -> pd.DataFrame:
    """The types of `comp` ('lines' or 'transformers'): the folder's rows over the pypsa package's."""
    parts = []
    for where in (folder, pypsa_standard_types_folder()):
        path = where / TYPE_FILES[comp] if where is not None else None
        if path is not None and path.is_file():
            df = pd.read_csv(path, index_col=0)
            if len(df):
                df.index = df.index.astype(str).str.strip()
                parts.append(df)
    if not parts:
        return pd.DataFrame()
    types = pd.concat(parts)
    return types[~types.index.duplicated(keep="first")]


def _number(values, default: float) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").fillna(default).to_numpy(dtype=float)


def line_values(types: pd.DataFrame, type_name: pd.Series, length: pd.Series,
                num_parallel: pd.Series) -> pd.DataFrame:
    """x and r (ohm) of lines from their type, length (km) and number of parallel circuits."""
    t = types.reindex(type_name.to_numpy())
    par = _number(num_parallel, 1.0)
    out = pd.DataFrame(index=type_name.index)
    for attr in ("x", "r"):
        out[attr] = _number(t[f"{attr}_per_length"], np.nan) * _number(length, 0.0) / par
    return out


def transformer_values(types: pd.DataFrame, type_name: pd.Series, tap_position: pd.Series,
                       num_parallel: pd.Series) -> pd.DataFrame:
    """x (pu on s_nom), s_nom (MVA), tap_ratio and phase_shift (degrees) of transformers from their type."""
    t = types.reindex(type_name.to_numpy())
    par = _number(num_parallel, 1.0)
    r = _number(t["vscr"], np.nan) / 100.0
    out = pd.DataFrame(index=type_name.index)
    out["x"] = np.sqrt((_number(t["vsc"], np.nan) / 100.0) ** 2 - r**2) / par
    out["s_nom"] = _number(t["s_nom"], np.nan)
    out["tap_ratio"] = 1.0 + (_number(tap_position, 0.0) - _number(t["tap_neutral"], 0.0)) \
        * _number(t["tap_step"], 0.0) / 100.0
    out["phase_shift"] = _number(t["phase_shift"], 0.0)
    return out
