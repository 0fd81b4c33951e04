"""A solver-neutral MILP container: named variable blocks, sparse rows, bounds, integrality, start.

The formulations in :mod:`chaincomp.formulations` build a :class:`MilpModel`; the backends in
:mod:`chaincomp.solvers` (HiGHS, Gurobi) solve it. No modelling framework and no scipy: rows are kept
as COO triplets (numpy arrays) and converted to CSR once, in :meth:`MilpModel.csr`.

Conventions
-----------
- Every variable belongs to a named block (``model.block("x")`` gives its index array, in the shape
  it was created with). Every row belongs to a named row block (for diagnostics).
- Row ``i`` means ``row_lower[i] ≤ Σ_j A[i, j] x_j ≤ row_upper[i]`` (±inf for a missing side).
- ``sense`` is ``"min"`` or ``"max"``; ``objective_offset`` is added to the objective.
- ``start`` (optional) is a full primal vector handed to the solver as a MIP start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INF = float("inf")


@dataclass(frozen=True)
class Block:
    """A named contiguous range of variables (or rows) with its original shape."""

    name: str
    start: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def indices(self) -> np.ndarray:
        return np.arange(self.start, self.start + self.size).reshape(self.shape)


class MilpModel:
    """A mixed-integer linear program in matrix form (see module docstring)."""

    def __init__(self, name: str = "model", sense: str = "min") -> None:
        if sense not in ("min", "max"):
            raise ValueError("sense must be 'min' or 'max'")
        self.name = name
        self.sense = sense
        self.objective_offset = 0.0
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._obj: list[np.ndarray] = []
        self.var_blocks: dict[str, Block] = {}
        self.row_blocks: dict[str, Block] = {}
        self.num_cols = 0
        self.num_rows = 0
        self._ri: list[np.ndarray] = []
        self._ci: list[np.ndarray] = []
        self._v: list[np.ndarray] = []
        self._rlo: list[np.ndarray] = []
        self._rup: list[np.ndarray] = []
        self.start: np.ndarray | None = None

    # -- variables -----------------------------------------------------------------------------
    def add_vars(self, name: str, shape, lb=0.0, ub=INF, integer: bool = False, obj=0.0) -> np.ndarray:
        """Add a block of variables; returns their indices in ``shape``."""
        if name in self.var_blocks:
            raise ValueError(f"variable block {name!r} exists")
        shape = (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)
        n = int(np.prod(shape)) if shape else 1
        blk = Block(name, self.num_cols, shape)
        self.var_blocks[name] = blk
        self._lb.append(np.broadcast_to(np.asarray(lb, float), shape).reshape(-1).copy())
        self._ub.append(np.broadcast_to(np.asarray(ub, float), shape).reshape(-1).copy())
        self._int.append(np.full(n, bool(integer)))
        self._obj.append(np.broadcast_to(np.asarray(obj, float), shape).reshape(-1).copy())
        self.num_cols += n
        return blk.indices

    def block(self, name: str) -> np.ndarray:
        """Indices of a variable block, in its shape."""
        return self.var_blocks[name].indices

    # -- rows ----------------------------------------------------------------------------------
    def add_rows(self, name: str, row, col, val, lower, upper) -> np.ndarray:
        """Add a block of rows from COO triplets.

        ``row`` holds local row numbers 0..n−1 of the new block (n = len(lower)); ``col`` global
        variable indices; ``lower``/``upper`` the row bounds (use ±inf for a free side).
        Duplicate (row, col) entries are summed.
        """
        lower = np.atleast_1d(np.asarray(lower, float))
        upper = np.broadcast_to(np.asarray(upper, float), lower.shape).copy()
        n = lower.size
        row = np.asarray(row, np.int64).reshape(-1)
        col = np.asarray(col, np.int64).reshape(-1)
        val = np.broadcast_to(np.asarray(val, float), row.shape).reshape(-1)
        if row.size and (row.min() < 0 or row.max() >= n):
            raise ValueError(f"row block {name!r}: local row index out of range")
        if col.size and (col.min() < 0 or col.max() >= self.num_cols):
            raise ValueError(f"row block {name!r}: column index out of range")
        base = self.num_rows
        name_ = name
        k = 1
        while name_ in self.row_blocks:
            k += 1
            name_ = f"{name}#{k}"
        self.row_blocks[name_] = Block(name_, base, (n,))
        self._ri.append(row + base)
        self._ci.append(col)
        self._v.append(val.astype(float))
        self._rlo.append(lower)
        self._rup.append(upper)
        self.num_rows += n
        return np.arange(base, base + n)

    def add_row(self, name: str, cols, vals, lower=-INF, upper=INF) -> int:
        """Add one row ``lower ≤ Σ vals·x[cols] ≤ upper``."""
        cols = np.asarray(cols, np.int64).reshape(-1)
        return int(self.add_rows(name, np.zeros(cols.size, np.int64), cols, vals, [lower], [upper])[0])

    # -- arrays --------------------------------------------------------------------------------
    @property
    def col_lower(self) -> np.ndarray:
        return np.concatenate(self._lb) if self._lb else np.zeros(0)

    @property
    def col_upper(self) -> np.ndarray:
        return np.concatenate(self._ub) if self._ub else np.zeros(0)

    @property
    def integrality(self) -> np.ndarray:
        return np.concatenate(self._int) if self._int else np.zeros(0, bool)

    @property
    def objective(self) -> np.ndarray:
        return np.concatenate(self._obj) if self._obj else np.zeros(0)

    @property
    def row_lower(self) -> np.ndarray:
        return np.concatenate(self._rlo) if self._rlo else np.zeros(0)

    @property
    def row_upper(self) -> np.ndarray:
        return np.concatenate(self._rup) if self._rup else np.zeros(0)

    @property
    def num_integers(self) -> int:
        return int(self.integrality.sum())

    def coo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._ri:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(self._ri), np.concatenate(self._ci), np.concatenate(self._v)

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, indices, data) of the row matrix, duplicates summed, zeros dropped."""
        r, c, v = self.coo()
        key = r * max(self.num_cols, 1) + c
        order = np.argsort(key, kind="stable")
        key, v = key[order], v[order]
        uniq, first = np.unique(key, return_index=True)
        data = np.add.reduceat(v, first) if v.size else v
        keep = data != 0.0
        uniq, data = uniq[keep], data[keep]
        rows = uniq // max(self.num_cols, 1)
        cols = uniq % max(self.num_cols, 1)
        indptr = np.zeros(self.num_rows + 1, np.int64)
        np.add.at(indptr, rows + 1, 1)
        return np.cumsum(indptr), cols.astype(np.int64), data

    def set_start(self, values: np.ndarray) -> None:
        """A full primal start (one value per column)."""
        values = np.asarray(values, float)
        if values.shape != (self.num_cols,):
            raise ValueError(f"start must have {self.num_cols} values, got {values.shape}")
        self.start = values

    # -- checks --------------------------------------------------------------------------------
    def violation(self, x: np.ndarray, tol: float = 1e-6) -> float:
        """Largest violation of bounds, rows and integrality by ``x`` (0 if feasible)."""
        x = np.asarray(x, float)
        viol = max(0.0, float(np.max(self.col_lower - x, initial=0.0)), float(np.max(x - self.col_upper, initial=0.0)))
        r, c, v = self.coo()
        act = np.bincount(r, weights=v * x[c], minlength=self.num_rows) if r.size else np.zeros(self.num_rows)
        viol = max(viol, float(np.max(self.row_lower - act, initial=0.0)), float(np.max(act - self.row_upper, initial=0.0)))
        xi = x[self.integrality]
        viol = max(viol, float(np.max(np.abs(xi - np.round(xi)), initial=0.0)))
        return viol

    def objective_value(self, x: np.ndarray) -> float:
        return float(self.objective @ np.asarray(x, float)) + self.objective_offset

    def size(self) -> dict:
        return {"rows": self.num_rows, "columns": self.num_cols, "integers": self.num_integers, "nonzeros": int(self.coo()[2].size)}
