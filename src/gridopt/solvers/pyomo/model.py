"""The twin model, assembled family by family in the fast path's order."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from ...errors import UsageError
from ...formulation.context import Context, DispatchOptions
from ...network import Network
from .balance import add_balance, add_loads_and_markets
from .capacity import add_expansion_limits
from .emissions import add_emission_caps
from .gas import add_gas
from .generators import add_generators
from .hydro import add_hydro
from .record import Twin
from .reserves import add_reserves
from .storage import add_storage
from .stores import add_stores
from .transmission import add_ac_branches, add_interfaces, add_links


def build_pyomo_model(net: Network, start=None, hours: int | None = None, **options: Any) -> pyo.ConcreteModel:
    """The dispatch LP of `net` as a pyomo ConcreteModel (options as for `gridopt.dispatch`).

    Each family reads the network tables and series, adds its components and registers its costs and the
    terms of the shared rows on the `Twin` record; the closing families assemble those rows.
    """
    options.pop("kvl", None)  # the twin always writes voltage angles
    if (net.durations() != 1).any():
        raise UsageError("the pyomo twin is hourly: solve resampled (coarse) networks on the fast path")
    opts = DispatchOptions.create(net, start=start, hours=hours, **options)
    if opts.state is not None or opts.targets is not None:
        raise UsageError("carried states and targets (rolling horizons) run on the fast path")
    ctx = Context.create(net, opts)  # horizon, weights and series access only; no LP is built here
    tw = Twin.create(ctx)
    add_loads_and_markets(tw, ctx)
    add_generators(tw, ctx)
    add_ac_branches(tw, ctx)
    add_links(tw, ctx)
    add_interfaces(tw, ctx)
    add_expansion_limits(tw, ctx)
    add_storage(tw, ctx)
    add_stores(tw, ctx)
    add_hydro(tw, ctx)
    add_gas(tw, ctx)
    add_reserves(tw, ctx)
    add_emission_caps(tw, ctx)
    add_balance(tw, ctx)
    tw.set_objective()
    m = tw.m
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    m.rc = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    m._gridopt = {"net": net, "options": opts}
    return m
