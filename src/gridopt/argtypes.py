"""Argument types for the command line: each turns one option's text into a value or rejects it.

Shared by `gridopt.cli` and the exchange-format commands in `gridopt.interop.cli`. A rejection raises
`argparse.ArgumentTypeError`, which argparse reports as a usage error (exit 2). This module imports nothing
from gridopt, so any command module may use it.
"""

from __future__ import annotations

import argparse


def kv(text: str) -> tuple[str, float]:
    """`NAME=VALUE` as (name, value), e.g. a region and its cap."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected REGION=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    try:
        return k.strip(), float(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{v!r} is not a number in {text!r}") from None


def whole(text: str, least: int) -> int:
    """A whole number >= `least`."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < least:
        raise argparse.ArgumentTypeError(f"must be {'positive' if least == 1 else f'>= {least}'}, got {v}")
    return v


def positive_int(text: str) -> int:
    """A whole number >= 1 (hours, threads, processes, counts)."""
    return whole(text, 1)


def tail_hours(text: str) -> int | None | str:
    """Hours of coarse look-ahead: a whole number >= 0, 'end' (None: to the horizon's end) or 'auto' (by the
    horizon, `RollingOptions.for_horizon`)."""
    return None if text == "end" else "auto" if text == "auto" else whole(text, 0)


def nonneg_float(text: str) -> float:
    """A finite number >= 0 (prices, seconds)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return v


def timestamp(text: str) -> str:
    """A date or date and time in ISO form (2025-07-01, 2025-07-01 06:00, 2025-07-01T06:00), kept as text."""
    from datetime import datetime
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2025-07-01 or 2025-07-01 06:00") from None
    return text.strip()
