"""Where chains meet: the chain before ends on the state the next one starts from.

Chains run side by side, so the next chain starts on a boundary state taken from the guide: volumes and the
outflows of the hours before it, whose water is still on its way down. The window ending a chain meets that
state at the end of its kept hours: each upstream reservoir releases, in the hours whose water arrives after
the join, what the next chain takes it to have released, and each reservoir ends neither below nor above
the boundary volume. Both are elastic, priced as a missed end target; what is left of a miss shows in the
join report as a jump of that reservoir's water (`joins`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..formulation.context import Context, State
from ..lp import PENALTY
from ..units import HM3_PER_M3S_HOUR as K


def pinned_hours(delay: float) -> int:
    """Hours before a join whose release arrives after it (as the formulation places delays)."""
    return int(np.floor(float(delay) + 0.5))


@dataclass(frozen=True)
class MeetBoundary:
    """A build hook for the window ending a chain: its kept hours (the first `keep` snapshots, hourly) end
    on `boundary`, the state the next chain starts from."""

    boundary: State
    keep: int

    def __call__(self, ctx: Context) -> None:
        hy = getattr(ctx, "hydro", None)
        if hy is None or not len(hy.table) or "hydro_volume" not in ctx.lp.variables:
            return
        lp, res = ctx.lp, hy.table
        price = ctx.penalty("end_target_cny_per_mwh") * hy.mwh_per_hm3  # per hm3, by reservoir
        last = self.keep - 1
        q, s, v = (lp.variables[n] for n in ("hydro_release", "hydro_spill", "hydro_volume"))
        self._pin_outflows(ctx, q, s, price, last)
        vol = pd.Series(self.boundary.volume_hm3, dtype=float).reindex(res.index)
        has = vol.notna().to_numpy()
        if not has.any():
            return
        names = res.index[has]
        over = lp.add_variables("seam_volume_over", names, 0.0, np.inf, hours=1)
        lp.add_cost(over, price[has], "end_target_cny", PENALTY, hour=last)
        rb = lp.add_rows("seam_volume_cap", names, -np.inf, vol.to_numpy()[has], hours=1)
        lp.add_coeffs(rb.idx[0], v.idx[last, has], 1.0)
        lp.add_coeffs(rb.idx[0], over.idx[0], -1.0)

    def _pin_outflows(self, ctx: Context, q, s, price: np.ndarray, last: int) -> None:
        """Release + spill of each upstream reservoir, in the hours whose water arrives after the join, equal
        to the boundary's (elastic both ways)."""
        hist, res = self.boundary.outflow_m3s, ctx.hydro.table
        if hist is None or not len(hist):
            return
        pos, flows, labels = [], [], []
        for u, (d, delay) in res[["downstream", "delay_hours"]].iterrows():
            n = min(pinned_hours(delay), self.keep, len(hist))
            if d not in res.index or n < 1 or u not in hist.columns:
                continue
            r = res.index.get_loc(u)
            for back, f in enumerate(hist[u].to_numpy()[::-1][:n]):
                if np.isfinite(f):
                    pos.append((last - back, r))
                    flows.append(float(f))
                    labels.append(f"{u}@{back}")
        if not pos:
            return
        lp = ctx.lp
        t, r = np.array(pos).T
        cost = price[r] * K  # a m3/s for an hour off what the next chain expects
        rb = lp.add_rows("seam_outflow", labels, np.array(flows), np.array(flows), hours=1)
        for name, sign in (("seam_outflow_over", -1.0), ("seam_outflow_under", 1.0)):
            slack = lp.add_variables(name, labels, 0.0, np.inf, hours=1)
            lp.add_cost(slack, cost, "end_target_cny", PENALTY, hour=last)
            lp.add_coeffs(rb.idx[0], slack.idx[0], sign)
        lp.add_coeffs(rb.idx[0], q.idx[t, r], 1.0)
        lp.add_coeffs(rb.idx[0], s.idx[t, r], 1.0)
