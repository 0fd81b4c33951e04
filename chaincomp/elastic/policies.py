"""Re-planning policies compared over a timeline (issue 11 item 5; SPEC §9).

Each policy answers "which design now?" at the start and after every event (and, for PETALS,
periodically). Designs are placement + allocation on the cluster of the moment.

- ``none``: never re-plan; after an event the surviving chains keep their capacities (the N−1
  rule), joiners stay idle, λ changes are ignored.
- ``scratch``: the tuned GBP-CR + GCA design on the new cluster at every event, not matched to the
  held blocks (what re-planning from scratch does).
- ``recompose``: :func:`chaincomp.elastic.recompose.recompose` (switching-aware, matched, with
  hysteresis) at every event.
- ``petals``: PETALS' placement dynamics (SPEC §4.1/§9, :mod:`chaincomp.heuristics.petals`):
  PETALS' block counts and lexicographic window choice for the initial swarm and for joiners;
  after every departure and every ``period_s`` each server runs PETALS' ``should_choose_other_blocks``
  test (balance_quality 0.75) in random order and moves if it says so. λ changes are ignored.
  The placement is served by GCA + JFFC like the others, so the comparison isolates the placement
  policy (PETALS' own per-request routing is :mod:`chaincomp.sim.routing_petals`, not used here).
"""

from __future__ import annotations

import numpy as np

from chaincomp.core.allocation import Allocation
from chaincomp.core.placement import Placement
from chaincomp.core.solution import Solution
from chaincomp.elastic.design import carry_over
from chaincomp.elastic.events import Event
from chaincomp.elastic.recompose import RecomposeOptions, from_scratch_design, recompose
from chaincomp.errors import UsageError
from chaincomp.heuristics import petals as pt
from chaincomp.heuristics.gca import gca
from chaincomp.problem import Problem

POLICY_NAMES = ("none", "scratch", "recompose", "petals")


class Policy:
    name = "?"
    periodic_s: float | None = None

    def start(self, solution: Solution) -> tuple[Placement, Allocation]:
        self.solution = solution
        return solution.placement, solution.allocation

    def on_event(self, event: Event, new_problem: Problem) -> tuple[Placement, Allocation]:
        raise NotImplementedError

    def periodic(self, problem: Problem) -> tuple[Placement, Allocation] | None:
        return None

    def _set(self, problem: Problem, placement: Placement, allocation: Allocation, method: str):
        self.solution = Solution(problem, method, placement, allocation)
        return placement, allocation


class NoReplan(Policy):
    name = "none"

    def on_event(self, event, new_problem):
        s = self.solution
        pl, al = carry_over(s.problem, s.placement, s.allocation, new_problem)
        return self._set(new_problem, pl, al, "none")


class Scratch(Policy):
    name = "scratch"

    def on_event(self, event, new_problem):
        pl, al, c, _ = from_scratch_design(new_problem)
        return self._set(new_problem, pl, al, "greedy")


class Recompose(Policy):
    name = "recompose"

    def __init__(self, options: RecomposeOptions | None = None):
        self.options = options or RecomposeOptions()
        self.wall_s: list[float] = []

    def on_event(self, event, new_problem):
        step = recompose(self.solution, new_problem, self.options, event)
        self.wall_s.append(step.wall_time_s)
        self.solution = step.solution
        return step.solution.placement, step.solution.allocation


class PetalsRebalance(Policy):
    name = "petals"

    def __init__(self, seed: int = 0, period_s: float | None = 600.0, balance_quality: float = pt.BALANCE_QUALITY):
        self.seed = seed
        self.periodic_s = period_s
        self.balance_quality = balance_quality
        self.rng = np.random.default_rng(seed)
        self.moves = 0

    def _server_state(self, problem: Problem):
        m = pt.petals_block_counts(problem, self.model)
        fwd = pt.server_speeds(problem)["forward_rps"]
        thr = np.array([pt.announced_throughput(float(fwd[j]), int(m[j])) if m[j] > 0 else 0.0
                        for j in range(problem.num_servers)])
        return m, thr

    def _design(self, problem: Problem):
        J = problem.num_servers
        first = np.zeros(J, dtype=np.int64)
        count = np.zeros(J, dtype=np.int64)
        for j, sid in enumerate(problem.server_ids):
            if sid in self.start_of:
                first[j] = self.start_of[sid] + 1
                count[j] = self.m_of[sid]
        pl = Placement(first, count)
        return self._set(problem, pl, gca(problem, pl), "petals")

    def _block_thr(self, problem):
        bt = np.zeros(problem.num_blocks)
        for sid, s in self.start_of.items():
            bt[s:s + self.m_of[sid]] += self.thr_of[sid]
        return bt

    def start(self, solution):
        problem = solution.problem
        self.model, _ = pt.model_from_problem(problem)
        pp = pt.petals_placement(problem, self.seed, self.model)
        m, thr = self._server_state(problem)
        self.start_of, self.m_of, self.thr_of = {}, {}, {}
        for j, sid in enumerate(problem.server_ids):
            if pp.placement.num_blocks[j] > 0:
                self.start_of[sid] = int(pp.placement.first_block[j]) - 1
                self.m_of[sid] = int(m[j])
                self.thr_of[sid] = float(thr[j])
        return self._design(problem)

    def _rebalance(self, problem: Problem) -> bool:
        ids = [sid for sid in problem.server_ids if sid in self.start_of]
        if not ids:
            return False
        start = np.array([self.start_of[s] for s in ids], dtype=np.int64)
        m = np.array([self.m_of[s] for s in ids], dtype=np.int64)
        thr = np.array([self.thr_of[s] for s in ids])
        bt = self._block_thr(problem)
        moved = False
        for x in [int(i) for i in self.rng.permutation(len(ids))]:
            if pt._should_choose_other_blocks(x, start, m, thr, bt, self.balance_quality, self.rng):
                s0 = start[x]
                bt[s0:s0 + m[x]] -= thr[x]
                s = pt.choose_best_start(bt, int(m[x]))
                bt[s:s + m[x]] += thr[x]
                if s != s0:
                    start[x] = s
                    self.start_of[ids[x]] = int(s)
                    self.moves += 1
                    moved = True
        return moved

    def on_event(self, event, new_problem):
        if event.kind in ("leave", "fail"):
            for d in (self.start_of, self.m_of, self.thr_of):
                d.pop(event.server, None)
            self._rebalance(new_problem)
        elif event.kind == "join":
            m, thr = self._server_state(new_problem)
            j = new_problem.server_ids.index(event.server)
            if m[j] > 0:
                bt = self._block_thr(new_problem)
                self.start_of[event.server] = pt.choose_best_start(bt, int(m[j]))
                self.m_of[event.server] = int(m[j])
                self.thr_of[event.server] = float(thr[j])
        return self._design(new_problem)

    def periodic(self, problem):
        if self._rebalance(problem):
            return self._design(problem)
        return None


def make_policy(name: str, seed: int = 0, options: RecomposeOptions | None = None,
                petals_period_s: float | None = 600.0) -> Policy:
    if name == "none":
        return NoReplan()
    if name == "scratch":
        return Scratch()
    if name == "recompose":
        return Recompose(options)
    if name == "petals":
        return PetalsRebalance(seed, petals_period_s)
    raise UsageError(f"unknown timeline policy {name!r}; choose from {', '.join(POLICY_NAMES)}")


__all__ = ["POLICY_NAMES", "make_policy", "Policy"]
