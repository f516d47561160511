"""The LP builder: named variable and row blocks over (hour, element), COO triplets, one CSC assembly.

Every block is laid out hour-major: column ``start + t * n + i`` is element ``i`` at hour ``t``. A block
keeps its element labels, so any solution or dual array maps back to a tidy (hour, element) table.
Formulation families add blocks and coefficients with whole numpy arrays; nothing loops over hours.

Units inside the LP: power MW, energy MWh, water volume hm3 and flow m3/s, gas in 1000 m3 (kcm) and
kcm/h, money in 10^3 CNY (``OBJ_SCALE``): costs are divided by 1000 on the way in and duals multiplied
by 1000 on the way out, which keeps objective coefficients near 1.

Every objective coefficient enters through a labelled `CostTerm` (`add_cost`, or `add_variables(cost=)`),
so the objective and its reported breakdown come from the same list and always add up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

OBJ_SCALE = 1e-3  # LP money unit = 1000 CNY
INF = np.inf
TINY = 1e-12  # bounds, right-hand sides and costs smaller than this in magnitude are zero (see `arrays`)


@dataclass
class Block:
    """A named block of variables or rows laid out as (hours, elements)."""

    name: str
    start: int
    hours: int
    elements: pd.Index

    @property
    def n(self) -> int:
        return len(self.elements)

    @property
    def size(self) -> int:
        return self.hours * self.n

    @property
    def idx(self) -> np.ndarray:
        """Global index of each (hour, element) cell, shape (hours, elements)."""
        return self.start + np.arange(self.size).reshape(self.hours, self.n)

    def take(self, flat: np.ndarray) -> np.ndarray:
        """This block's slice of a solution or dual vector, shape (hours, elements)."""
        return flat[self.start:self.start + self.size].reshape(self.hours, self.n)


COST, PENALTY, OTHER, INVESTMENT = "cost", "penalty", "other", "investment"  # kinds of objective term, reported apart
KINDS = (COST, PENALTY, OTHER, INVESTMENT)


@dataclass
class CostTerm:
    """CNY per unit of a variable block, under a label of the reported breakdown (e.g. ``fuel_cny``).

    ``kind`` is COST (money paid in operation), PENALTY (priced violations and shed), INVESTMENT (capital
    cost of capacity decided by the LP) or OTHER (guidance outside these, such as the value of water left at
    a rolling window's end). ``constant`` (CNY per snapshot, shape
    (hours,)) is a fixed part of the same label. A one-snapshot block applies at snapshot ``hour``.
    """

    label: str
    kind: str
    block: Block | None
    coef: np.ndarray | None  # (block.hours, block.n), CNY per unit
    constant: np.ndarray | None = None  # (horizon hours,) or, element by element, (horizon hours, block.n), CNY
    hour: int | None = None

    def per_hour(self, x: np.ndarray, hours: int) -> np.ndarray:
        """This term's CNY in each snapshot of a solution `x`."""
        out = np.zeros(hours)
        if self.block is not None and self.block.size:
            v = (self.coef * self.block.take(x)).sum(axis=1)
            if self.block.hours == hours:
                out += v
            else:
                out[hours - 1 if self.hour is None else self.hour] += v.sum()
        if self.constant is not None:
            out += self.constant if self.constant.ndim == 1 else self.constant.sum(axis=1)
        return out


def _flat(value, block: Block) -> np.ndarray:
    """`value` broadcast to the block's (hours, elements) shape, as a flat writable array."""
    return np.broadcast_to(np.asarray(value, float), (block.hours, block.n)).ravel().copy()


@dataclass
class LinearProgram:
    """A sparse LP: min c x + offset, row_lower <= A x <= row_upper, col_lower <= x <= col_upper."""

    hours: int
    variables: dict[str, Block] = field(default_factory=dict)
    rows: dict[str, Block] = field(default_factory=dict)
    meta: dict[str, object] = field(default_factory=dict)
    costs: list[CostTerm] = field(default_factory=list)
    _col_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    _row_parts: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    _triplets: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    _ncols: int = 0
    _nrows: int = 0
    _matrix: sp.csc_matrix | None = None

    # ---- variables ----------------------------------------------------------------------------
    def add_variables(self, name: str, elements: pd.Index | list, lower=0.0, upper=INF, cost=None,
                      hours: int | None = None, label: str = "other_cny", kind: str = OTHER) -> Block:
        """Add a block of (hours, elements) variables; bounds and cost broadcast to that shape.

        ``cost`` is in CNY per unit of the variable (per snapshot), entered as a cost term under `label`.
        """
        if name in self.variables:
            raise ValueError(f"variable block {name!r} exists")
        b = Block(name, self._ncols, self.hours if hours is None else hours, pd.Index(elements))
        self._col_parts.append((_flat(lower, b), _flat(upper, b), np.zeros(b.size)))
        self._ncols += b.size
        self.variables[name] = b
        self._matrix = None
        if cost is not None:
            self.add_cost(b, cost, label, kind)
        return b

    def add_cost(self, block: Block, cost, label: str, kind: str, constant=None, hour: int | None = None) -> None:
        """Add `cost` (CNY per unit, broadcast to the block) to the objective under `label` of `kind`,
        with an optional fixed part `constant` (CNY per snapshot of the horizon)."""
        if kind not in KINDS:
            raise ValueError(f"cost kind must be one of {KINDS}, got {kind!r}")
        coef = np.broadcast_to(np.asarray(cost, float), (block.hours, block.n))
        costs = self._col_parts[list(self.variables).index(block.name)][2]
        costs += coef.ravel() * OBJ_SCALE
        self.costs.append(CostTerm(label, kind, block, coef, self._constant(constant, block), hour))

    def add_costs(self, block: Block, parts: list[tuple[str, str, object]], weight, constant=None,
                  constant_label: str | None = None) -> None:
        """Several labelled costs on one block, each (label, kind, CNY per unit before weighting), sharing
        one snapshot `weight`: the block's objective coefficient is weight * (the parts summed in order).
        An optional fixed part `constant` (CNY per snapshot) belongs to `constant_label`."""
        for label, kind, _ in parts:
            if kind not in KINDS:
                raise ValueError(f"cost kind of {label!r} must be one of {KINDS}, got {kind!r}")
        total = sum(np.asarray(c, float) for _, _, c in parts)
        costs = self._col_parts[list(self.variables).index(block.name)][2]
        costs += _flat(np.asarray(weight, float) * total, block) * OBJ_SCALE
        for label, kind, c in parts:
            coef = np.broadcast_to(np.asarray(weight, float) * np.asarray(c, float), (block.hours, block.n))
            const = None
            if constant is not None and label == constant_label:
                const = self._constant(constant, block)
            self.costs.append(CostTerm(label, kind, block, coef, const))

    def _constant(self, constant, block: Block) -> np.ndarray | None:
        """A fixed part as CNY per snapshot (hours,), or per snapshot and element of `block` (hours, n) when
        given so: then the breakdown by element (e.g. by region) keeps it."""
        if constant is None:
            return None
        c = np.asarray(constant, float)
        shape = (self.hours, block.n) if c.ndim == 2 else (self.hours,)
        return np.broadcast_to(c, shape).copy()

    def declare_cost(self, label: str, kind: str) -> None:
        """Report `label` (as zero) even where no variable carries it, so breakdowns keep their keys."""
        self.costs.append(CostTerm(label, kind, None, None))

    @property
    def offset(self) -> float:
        """The objective's constant part (LP money units): the registered terms' fixed parts."""
        return sum(float(t.constant.sum()) for t in self.costs if t.constant is not None) * OBJ_SCALE

    def cost_parts(self, x: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
        """CNY per snapshot of a solution `x`, by kind and label, in registration order."""
        out: dict[str, dict[str, np.ndarray]] = {k: {} for k in KINDS}
        for t in self.costs:
            v = t.per_hour(x, self.hours)
            part = out[t.kind]
            part[t.label] = part[t.label] + v if t.label in part else v
        return out

    # ---- rows ---------------------------------------------------------------------------------
    def add_rows(self, name: str, elements: pd.Index | list, lower=-INF, upper=INF, hours: int | None = None) -> Block:
        """Add a block of (hours, elements) rows with bounds lower <= a x <= upper."""
        if name in self.rows:
            raise ValueError(f"row block {name!r} exists")
        b = Block(name, self._nrows, self.hours if hours is None else hours, pd.Index(elements))
        self._row_parts.append((_flat(lower, b), _flat(upper, b)))
        self._nrows += b.size
        self.rows[name] = b
        self._matrix = None
        return b

    def add_coeffs(self, rows, cols, values) -> None:
        """Add coefficients A[rows, cols] += values (arrays broadcast together)."""
        r, c, v = np.broadcast_arrays(np.asarray(rows), np.asarray(cols), np.asarray(values, float))
        keep = v != 0
        self._triplets.append((r[keep].astype(np.int64), c[keep].astype(np.int64), v[keep]))
        self._matrix = None

    def add_constraint(self, name: str, elements, terms: list[tuple[Block | np.ndarray, object]],
                       lower=-INF, upper=INF) -> Block:
        """Rows ``lower <= sum_k coef_k * var_k <= upper`` with each term shaped (hours, elements).

        A term is ``(block_or_index_array, coefficient)``; the index array must have the rows' shape.
        """
        rb = self.add_rows(name, elements, lower, upper)
        ridx = rb.idx
        for var, coef in terms:
            cidx = var.idx if isinstance(var, Block) else var
            self.add_coeffs(ridx, cidx, coef)
        return rb

    # ---- assembly -----------------------------------------------------------------------------
    @property
    def ncols(self) -> int:
        return self._ncols

    @property
    def nrows(self) -> int:
        return self._nrows

    def arrays(self) -> dict[str, np.ndarray]:
        """Bounds and costs as whole arrays. Magnitudes below TINY are taken as zero: a load of 4e-308 MW
        (a subnormal number, which input data can hold) makes HiGHS's interior point code fail."""
        cat = (lambda k, parts: np.concatenate([p[k] for p in parts]) if parts else np.zeros(0))
        out = {"col_lower": cat(0, self._col_parts), "col_upper": cat(1, self._col_parts),
               "col_cost": cat(2, self._col_parts), "row_lower": cat(0, self._row_parts),
               "row_upper": cat(1, self._row_parts)}
        for a in out.values():
            a[np.abs(a) < TINY] = 0.0
        return out

    @property
    def matrix(self) -> sp.csc_matrix:
        """The constraint matrix, assembled once (duplicates summed, explicit zeros dropped)."""
        if self._matrix is None:
            if self._triplets:
                r = np.concatenate([t[0] for t in self._triplets])
                c = np.concatenate([t[1] for t in self._triplets])
                v = np.concatenate([t[2] for t in self._triplets])
            else:
                r = c = np.zeros(0, np.int64)
                v = np.zeros(0)
            m = sp.csc_matrix((v, (r, c)), shape=(self._nrows, self._ncols))
            m.sum_duplicates()
            m.eliminate_zeros()
            self._matrix = m
        return self._matrix

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)

    def ranges(self) -> dict[str, list[float]]:
        """[smallest, largest] absolute non-zero value of matrix, costs, finite bounds and right-hand sides."""
        arr = self.arrays()
        out = {}
        for key, values in (("matrix", self.matrix.data), ("cost", arr["col_cost"]),
                            ("bounds", np.r_[arr["col_lower"], arr["col_upper"]]),
                            ("rhs", np.r_[arr["row_lower"], arr["row_upper"]])):
            v = np.abs(values[np.isfinite(values)])
            v = v[v > 0]
            out[key] = [float(v.min()), float(v.max())] if v.size else [0.0, 0.0]
        return out

    def size_info(self) -> dict[str, int]:
        return {"rows": int(self.nrows), "columns": int(self.ncols), "nonzeros": self.nnz}
