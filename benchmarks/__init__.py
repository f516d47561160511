"""gridopt benchmarks: a registry of sized cases, one measurement per phase, one process per measurement.

``python -m benchmarks --help`` lists the options; ``python -m benchmarks --quick`` is the CI smoke.
Modules: `cases` (the registry), `variants` (solver, KVL and modelling-path variants), `worker` (measures
one case in its own process), `phases` (wall, CPU and memory of a phase), `runner` (processes, medians,
machine info), `report` (ratios, exponents, Markdown), `pypsa_twin` (the optional PyPSA comparison,
through gridopt's PyPSA exporter).
"""

from .cases import CASES, Case, select
from .variants import BASELINE, Variant

__all__ = ["BASELINE", "CASES", "Case", "Variant", "select"]
