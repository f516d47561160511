"""Sub-commands of `gridopt` for the exchange formats (registered by gridopt.cli)."""

from __future__ import annotations

import argparse
from typing import Callable


def register(sub: argparse._SubParsersAction, commands: dict[str, Callable]) -> None:
    """Add this module's sub-commands to the parser and their handlers to `commands`."""
    return None
