"""What the exchange formats share: the penalty settings of imported cases, warnings, results of an import.

Imported cases must not add penalties to the objective that the source tool would not have: every
penalty is set to 0, and `IMPORT_SETTINGS` turn load shedding off (``load_shedding = false``), since
neither PyPSA nor MATPOWER has shed variables: where the source is infeasible, so is the imported case,
and prices are the duals of the same balance rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..casefiles import write_case
from ..errors import CaseError, Problem, UsageError
from ..network import Network
from ..schema import DEFAULT_PENALTIES

UNLIMITED_MW = 1e5  # rating written for branches the source leaves unlimited
IMPORT_SETTINGS = {"load_shedding": False}  # case.toml settings of every imported case (see above)


class InteropWarning(UserWarning):
    """Something a format cannot hold exactly: approximated or left out, said in one line."""


def warn(message: str) -> None:
    warnings.warn(message, InteropWarning, stacklevel=3)


def import_penalties(spill_cny_per_mwh: float = 0.0) -> dict[str, float]:
    """Penalties of an imported case: 0 everywhere but the given spill cost (VOLLs unused: no shedding)."""
    pen = {k: 0.0 for k in DEFAULT_PENALTIES if not k.startswith("gas_")}
    pen["spill_cny_per_mwh"] = float(spill_cny_per_mwh)
    return pen


def imported_network(config: dict, tables: dict, series: dict, source: object) -> Network:
    """Validate an imported network; every problem names the source it was imported from."""
    try:
        return Network.from_tables(config, tables, series)
    except CaseError as exc:
        raise CaseError([Problem(f"{p.file} (imported from {source})", p.row, p.column, p.message)
                         for p in exc.problems]) from None


def hourly_index(start: str | pd.Timestamp, hours: int) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start), periods=hours, freq="h", name="snapshot")


@dataclass
class Imported:
    """A network read from another format, with what the LP cannot hold.

    `constant_cny` is a cost the source adds to its objective that is the same at every feasible
    dispatch (MATPOWER's c0 and the cost of minimum outputs on linearised curves): the source's
    objective equals gridopt's objective plus this constant. `carbon_cap_t` is the CO2 cap over the
    horizon read from the source, which the network also holds as its case.toml ``carbon_caps`` 'system' cap.
    """

    network: Network
    constant_cny: float = 0.0
    carbon_cap_t: float | None = None
    notes: list[str] = field(default_factory=list)


def prepare_output(folder: str | os.PathLike, force: bool) -> Path:
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise UsageError(f"{out}: folder exists and is not empty (use --force to replace it)")
    return out


def write_atomic_folder(out: Path, write) -> Path:
    """Call write(tmp_folder) and move the result to `out`: the folder appears whole or not at all."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write(tmp)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def write_case_atomic(net: Network, folder: str | os.PathLike, force: bool = False) -> Path:
    """`write_case` into a fresh folder, atomically."""
    out = prepare_output(folder, force)
    return write_atomic_folder(out, lambda tmp: write_case(net, tmp))
