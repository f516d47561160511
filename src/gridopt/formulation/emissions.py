"""Carbon caps: totals and intensities per region or for the system ("dual control").

Total cap for region r (t over the horizon):      sum_t w_t sum_{g in r} co2_g * p[t,g] <= cap_r
Intensity cap (t/MWh of the region's generation): sum_t w_t sum_{g in r} (co2_g - I_r) * gen[t,g] <= 0
where generation counts generators and reservoir hydro at the region's buses ('system' = all regions;
external buses are outside every region). The carbon price itself is in the generators' cost.
The cap's dual, sign-flipped, is the shadow carbon price (CNY/t). A rolling window may also cap the
emissions of its first hours (Targets.carbon_caps_t, up to Targets.hour).
"""

from __future__ import annotations

import numpy as np

from .context import Context, Term


def _cap_rows(ctx: Context, name: str, caps: dict[str, float], terms_of, hours: int | None = None) -> None:
    """One row per cap key: sum of weighted terms <= caps[key], over the first `hours` hours (default all)."""
    if not caps:
        return
    lp = ctx.lp
    keys = list(caps)
    rb = lp.add_rows(name, keys, -np.inf, np.array([caps[k] for k in keys])[None, :], hours=1)
    n = ctx.T if hours is None else hours
    w = ctx.weights[:n, None]
    for j, key in enumerate(keys):
        in_scope = (lambda reg: reg >= 0) if key == "system" else (lambda reg, p=ctx.regions.index(key): reg == p)
        for term, coef in terms_of(key):
            keep = in_scope(term.key)
            if keep.any():
                c = np.broadcast_to(coef, term.idx.shape)[:n, keep] * w
                lp.add_coeffs(rb.start + j, term.idx[:n, keep], c)


def add_emission_caps(ctx: Context) -> None:
    emitted = lambda key: [(t, t.coef) for t in ctx.emissions]
    _cap_rows(ctx, "carbon_cap", ctx.options.carbon_caps, emitted)
    tg = ctx.targets
    _cap_rows(ctx, "carbon_cap_boundary", tg.carbon_caps_t, emitted, hours=tg.at(ctx.T) + 1)

    def intensity_terms(key: str) -> list[tuple[Term, np.ndarray]]:
        limit = ctx.options.intensity_caps[key]
        return ([(t, t.coef) for t in ctx.emissions]
                + [(t, -limit * np.broadcast_to(t.coef, t.idx.shape)) for t in ctx.generation])
    _cap_rows(ctx, "carbon_intensity_cap", dict.fromkeys(ctx.options.intensity_caps, 0.0), intensity_terms)
