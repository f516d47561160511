"""Build the shipped ``sichuan_chongqing`` case: network tables and hourly series.

Run from the repository root::

    python timeseries/build_sichuan_chongqing.py            # writes the committed files
    python timeseries/build_sichuan_chongqing.py --out DIR  # Parquet into DIR, tables into DIR/network

Inputs are the compact copies of public data and the case's data tables under
``timeseries/sichuan_chongqing/inputs/`` (see ``networks/sichuan_chongqing/SOURCES.md``). Every figure in
the tables carries a source key (``[Sx]``/``[Tx]``, resolved in SOURCES.md) or is marked EST (an
estimate). The code is in ``timeseries/sc_builder/``. The build is deterministic: fixed seeds, no clock,
no network. Units: MW, MWh, hm3, m3/s, Mm3/h, CNY.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sc_builder import build
from sc_builder.common import NETWORK_DIR, SERIES_DIR


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for the Parquet series (default timeseries/sichuan_chongqing); "
                         "the network tables then go to OUT/network unless --network-out is given")
    ap.add_argument("--network-out", type=Path, default=None,
                    help="folder for the network CSV tables (default networks/sichuan_chongqing)")
    ap.add_argument("--quiet", action="store_true", help="do not print the calibration report")
    a = ap.parse_args()
    series_out = a.out if a.out is not None else SERIES_DIR
    if a.network_out is not None:
        network_out = a.network_out
    else:
        network_out = NETWORK_DIR if a.out is None else a.out / "network"
    build(series_out, network_out, verbose=not a.quiet)


if __name__ == "__main__":
    main()
