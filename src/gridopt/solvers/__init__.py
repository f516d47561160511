"""Solver back-ends: `highs` (the sparse LP passed to highspy in one call) and `pyomo` (the twin model)."""
