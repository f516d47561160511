"""The natural-gas network (fields, pipelines, underground storage) that fuels gas-fired units."""

from __future__ import annotations

from .context import Context


def add_gas(ctx: Context) -> None:
    if not ctx.options.gas or len(ctx.net.tables["gas_nodes"]) == 0:
        return
    raise NotImplementedError("gas network")
