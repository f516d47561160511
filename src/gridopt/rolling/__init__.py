"""Rolling horizons: a long run as overlapping windows guided by a coarse solve of the whole horizon.

1. Guide (`guide`): the horizon resampled to `coarse_hours` snapshots (series averaged, dynamics scaled by
   each snapshot's duration) and dispatched as one LP, pulled gently towards the case's plan. It sees the
   whole horizon, so reservoirs and gas storages are not emptied myopically.
2. Windows (`windows`): each keeps `window` hours and looks `overlap` hours further ahead hourly, then
   `tail` hours in blocks of `tail_block` hours (a mixed-resolution network). A window ends on the guide:
   its volumes (elastic; water on its way in from upstream counts towards them), 95 % of its charge, its
   gas inventory (guide "targets"); the case's plan ("rule"); or its water values ("values"). With the
   credit, water kept above the volumes earns the guide's water value. A window that sees the horizon's
   end keeps the case's own end targets. Carbon caps are shared out along the guide's emissions.
3. Chains (`chains`): consecutive windows solved in sequence, each from the exact state its predecessor
   left after its kept hours. Several chains run side by side (`gridopt.executors`) and meet at boundary
   states taken from the guide, which the chain before ends on (`seam`); `summary["rolling"]["joins"]`
   reports what did not meet, per reservoir checked from the stitched tables (`joins`).
4. Stitching (`stitch`): the kept hours, which cover the horizon once, joined into one Result.
5. Passes (`passes`): optionally, runs aimed at the water path the run before found; the cheapest is kept.

Every setting and its default by horizon: `RollingOptions` (`options`); the measurements behind the
defaults: docs/rolling.md.
"""

from __future__ import annotations

from .guide import Guide, pull_to_plan
from .options import AUTO_ROLLING_HOURS, SHORT_HORIZON_HOURS, RollingOptions
from .run import dispatch_rolling
from .states import water_path
from .windows import Window, plan_windows

__all__ = ["AUTO_ROLLING_HOURS", "SHORT_HORIZON_HOURS", "Guide", "RollingOptions", "Window", "dispatch_rolling",
           "plan_windows", "pull_to_plan", "water_path"]
