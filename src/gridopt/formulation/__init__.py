"""The dispatch LP, family by family.

`build_lp` reads as the list of what the model contains: each `add_<family>` adds named variable and
row blocks to the builder, vectorised over (hour, element). Families that feed shared rows (the nodal
power balance, emission caps, reserves) register their terms on the context; the closing families
assemble those rows once.
"""

from __future__ import annotations

from ..network import Network
from .balance import add_balance, add_loads_and_markets
from .capacity import add_expansion_limits
from .context import Context, DispatchOptions, State, Targets
from .emissions import add_emission_caps
from .gas import add_gas
from .generators import add_generators
from .hydro import add_hydro
from .reserves import add_reserves
from .storage import add_storage
from .stores import add_stores
from .transmission import add_ac_branches, add_interfaces, add_links

__all__ = ["Context", "DispatchOptions", "State", "Targets", "build_lp"]


def build_lp(net: Network, start=None, hours: int | None = None, **options) -> Context:
    """Build the dispatch LP of `net` over `hours` snapshots from `start`.

    Returns the `Context`: ``ctx.lp`` is the sparse LP (``ctx.lp.matrix`` the CSC matrix), and the
    context keeps what the results need to map solutions back to elements and hours.
    Options are the fields of `DispatchOptions` (carbon_price, carbon_caps, intensity_caps, kvl, ...).
    """
    ctx = Context.create(net, DispatchOptions.create(net, start=start, hours=hours, **options))
    add_loads_and_markets(ctx)
    add_generators(ctx)
    add_ac_branches(ctx)
    add_links(ctx)
    add_interfaces(ctx)
    add_expansion_limits(ctx)
    add_storage(ctx)
    add_stores(ctx)
    add_hydro(ctx)
    add_gas(ctx)
    add_reserves(ctx)
    add_emission_caps(ctx)
    add_balance(ctx)
    for hook in ctx.options.hooks:
        hook(ctx)
    return ctx
