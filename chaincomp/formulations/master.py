"""The restricted master LP of the column generation (:mod:`.colgen`): chain columns, segment
rows added lazily, one-range-per-server rows and the rate row, solved incrementally (warm-started)
with highspy; its duals, adjusted so that every range column is dual feasible, feed the pricing
and the Lagrangian bound. Formulation: the module docstring of :mod:`.colgen`."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from chaincomp.formulations.common import Segments
from chaincomp.problem import Problem

BIG = 1e6  # cost of the rate row's artificial column (feasibility before enough chains exist)

@dataclass
class _LP:
    z: float
    piR: float
    pi: np.ndarray  # per segment (0 for absent rows)
    u: np.ndarray  # per server, adjusted so that every y column is dual feasible
    x: np.ndarray  # per chain column
    y: np.ndarray  # per segment (0 for absent)
    art: float
    dual_obj: float


class _Master:
    """The LP master in highspy (columns and segment rows added incrementally, warm-started)."""

    def __init__(self, problem: Problem, segs: Segments, objective: str) -> None:
        import highspy

        from chaincomp.solvers.highs import new_highs

        self.hp = highspy
        self.problem, self.segs, self.objective = problem, segs, objective
        self.h = h = new_highs()
        h.setOptionValue("output_flag", False)
        J = problem.num_servers
        self.jobs = objective != "throughput"
        if not self.jobs:
            h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        inf = highspy.kHighsInf
        # row 0: rate (jobs) — kept also for throughput as a free row so indices match
        h.addRow(problem.required_rate if self.jobs else -inf, inf, 0, np.array([], np.int32), np.array([]))
        for _ in range(J):
            h.addRow(-inf, 1.0, 0, np.array([], np.int32), np.array([]))
        self.nrows = 1 + J
        self.seg_row = -np.ones(segs.count, np.int64)
        self.seg_col = -np.ones(segs.count, np.int64)
        self.forbidden = np.zeros(segs.count, bool)
        self.fixed: dict[int, int] = {}  # server → segment fixed to 1 (dives)
        self.zeroed: set = set()  # chain indices forced to 0 by fixings
        self.ncols = 0
        self.chains: list[tuple] = []
        self.chain_T: list[float] = []
        self.chain_col: list[int] = []
        self.known: set = set()
        if self.jobs:  # artificial column keeps the LP feasible from the start
            h.addCol(BIG, 0.0, inf, 1, np.array([0], np.int32), np.array([1.0]))
            self.ncols += 1

    def clone(self) -> "_Master":
        m = _Master(self.problem, self.segs, self.objective)
        for p, T in zip(self.chains, self.chain_T):
            m.add_chain(p, T)
        return m

    def _ensure_segment(self, s: int) -> None:
        if self.seg_row[s] >= 0:
            return
        inf = self.hp.kHighsInf
        self.h.addRow(0.0, inf, 0, np.array([], np.int32), np.array([]))
        r = self.nrows
        self.nrows += 1
        self.seg_row[s] = r
        j = int(self.segs.server[s])
        # y ≤ 1 is implied by the one-range row; no column bound, so row duals alone are dual feasible
        ub = 0.0 if self.forbidden[s] else inf
        self.h.addCol(0.0, 0.0, ub, 2, np.array([r, 1 + j], np.int32), np.array([float(self.segs.slots[s]), 1.0]))
        self.seg_col[s] = self.ncols
        self.ncols += 1

    def add_chain(self, path: tuple, T: float) -> bool:
        if path in self.known or self.forbidden[list(path)].any():
            return False
        self.known.add(path)
        for s in path:
            self._ensure_segment(s)
        prev = 0
        idx, val = [], []
        for s in path:
            b = int(self.segs.last[s]) - prev
            prev = int(self.segs.last[s])
            idx.append(int(self.seg_row[s]))
            val.append(-float(b))
        mu = 1.0 / T
        if self.jobs:
            idx.insert(0, 0)
            val.insert(0, mu)
        cost = 1.0 if self.jobs else mu
        self.h.addCol(cost, 0.0, self.hp.kHighsInf, len(idx), np.array(idx, np.int32), np.array(val))
        self.chain_col.append(self.ncols)
        self.ncols += 1
        self.chains.append(path)
        self.chain_T.append(T)
        return True

    def fix(self, s: int) -> None:
        """Dive: server j hosts segment s (y_s = 1), every other segment of j is forbidden."""
        segs = self.segs
        j = int(segs.server[s])
        self._ensure_segment(s)
        self.fixed[j] = s
        others = np.flatnonzero((segs.server == j) & (np.arange(segs.count) != s))
        self.forbidden[others] = True
        for o in others:
            c = self.seg_col[o]
            if c >= 0:
                self.h.changeColBounds(int(c), 0.0, 0.0)
        self.h.changeColBounds(int(self.seg_col[s]), 1.0, 1.0)
        for k, p in enumerate(self.chains):  # chains through forbidden segments: x = 0
            if k not in self.zeroed and self.forbidden[list(p)].any():
                self.h.changeColBounds(int(self.chain_col[k]), 0.0, 0.0)
                self.zeroed.add(k)

    def forbid_servers(self, servers) -> None:
        """Dive: these servers host nothing (all their segments forbidden)."""
        segs = self.segs
        mask = np.isin(segs.server, np.asarray(list(servers), np.int64))
        self.forbidden[mask] = True
        for o in np.flatnonzero(mask):
            c = self.seg_col[o]
            if c >= 0:
                self.h.changeColBounds(int(c), 0.0, 0.0)
        for k, p in enumerate(self.chains):
            if k not in self.zeroed and self.forbidden[list(p)].any():
                self.h.changeColBounds(int(self.chain_col[k]), 0.0, 0.0)
                self.zeroed.add(k)

    def reset_fixings(self) -> None:
        """Undo every :meth:`fix` (the LP basis is kept, so the next solve is warm)."""
        inf = self.hp.kHighsInf
        for s in np.flatnonzero(self.forbidden):
            if self.seg_col[s] >= 0:
                self.h.changeColBounds(int(self.seg_col[s]), 0.0, inf)
        for s in self.fixed.values():
            self.h.changeColBounds(int(self.seg_col[s]), 0.0, inf)
        for k in self.zeroed:
            self.h.changeColBounds(int(self.chain_col[k]), 0.0, inf)
        self.forbidden[:] = False
        self.fixed.clear()
        self.zeroed.clear()

    def solve(self, deadline: float | None = None) -> _LP | None:
        """Solve the LP (warm); None if it did not reach optimality (time limit): no duals to use."""
        if deadline is not None:  # HiGHS compares time_limit with the object's *cumulative* run time
            self.h.setOptionValue("time_limit", self.h.getRunTime() + max(0.05, deadline - time.perf_counter()))
        self.h.run()
        status = self.h.getModelStatus()
        if status == self.hp.HighsModelStatus.kModelEmpty and not self.jobs:
            # throughput before its first column: ν = 0 with all duals 0 (optimal for the empty master),
            # so pricing looks for any chain at all — and proves there is none if it finds nothing
            J = self.problem.num_servers
            return _LP(0.0, 0.0, np.zeros(self.segs.count), np.zeros(J), np.zeros(0), np.zeros(self.segs.count),
                       0.0, 0.0)
        if status != self.hp.HighsModelStatus.kOptimal:
            return None
        sol = self.h.getSolution()
        z = float(self.h.getInfo().objective_function_value)
        y = np.asarray(sol.row_dual, float)
        col = np.asarray(sol.col_value, float)
        sign = 1.0 if self.jobs else -1.0
        segs = self.segs
        pi = np.zeros(segs.count)
        present = self.seg_row >= 0
        pi[present] = np.maximum(sign * y[self.seg_row[present]], 0.0)
        J = self.problem.num_servers
        u = np.maximum(-sign * y[1 : 1 + J], 0.0)
        # rows not (yet) in the master: any π_σ ∈ [0, u_j/S_σ] keeps the y_σ column dual feasible and the
        # duals optimal for the master extended by that row; the largest value prices a new range of
        # server j at its one-range dual instead of for free (far fewer useless columns)
        absent = ~present
        pi[absent] = u[segs.server[absent]] / segs.slots[absent]
        if not self.fixed:
            # present rows too: π_σ ← max(π_σ, u_j/S_σ) is another *optimal* dual solution of this
            # master — every chain's reduced cost only rises, every y column stays dual feasible
            # (u_j − S_σ π_σ ≥ 0) and the dual objective (λ/ρ̄·π_R − Σ u_j) does not involve π_σ.
            # At a degenerate vertex (the greedy's: new ranges of busy servers have y = 0 and dual 0)
            # it prices a new range at its server's one-range dual instead of for free, so pricing
            # stops flooding the master with columns that can only enter at zero level.
            lift = u[segs.server[present]] / segs.slots[present]
            pi[present] = np.maximum(pi[present], lift)
        need = np.zeros(J)
        np.maximum.at(need, segs.server[present], segs.slots[present] * pi[present])
        u = np.maximum(u, need)  # every y column dual feasible (exactly, not up to HiGHS' tolerance)
        piR = max(float(y[0]), 0.0) if self.jobs else 0.0
        yv = np.zeros(segs.count)
        yv[present] = col[self.seg_col[present]]
        x = col[np.asarray(self.chain_col, np.int64)] if self.chains else np.zeros(0)
        art = float(col[0]) if self.jobs and col.size else 0.0
        dual_obj = (self.problem.required_rate * piR - float(u.sum())) if self.jobs else float(u.sum())
        return _LP(z, piR, pi, u, x, yv, art, dual_obj)
