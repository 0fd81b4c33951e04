"""Re-composition after an event: the next design D′ (SPEC §3.6, §9; issue 11).

    minimize   Ω(D′; λ) + δ · ω(D, D′)     subject to ν(D′) ≥ λ/ρ̄ when some candidate reaches it

Ω is the Theorem-4 lower bound on JFFC's mean response time (objective ``response``, seconds) or
the job servers needed (``job-servers``); ω the switching cost of :mod:`chaincomp.elastic.switching`
(seconds of loading); δ (``delta``) converts: seconds of predicted response (or job servers) per
second of switching. Default δ = 1e-3: a from-scratch BLOOM re-plan that loads ~700 blocks
(≈ 900 s at 1 GB/s) must buy ≥ 0.9 s of predicted response to be worth it.

Candidates (every one a placement + a GCA allocation, or the surviving chains as they are):

- ``keep``: the surviving chains with their capacities (zero reload; the N−1 design);
- ``keep+gca``: GCA (Alg. 2) re-run on the surviving placement (zero reload);
- ``repair``: :func:`chaincomp.elastic.repair.local_repair` (fill / widen neighbours / extend) + GCA;
- ``gbp-cr c=…``: GBP-CR (Alg. 1) re-plans on the new cluster for every feasible c, each matched to
  the held blocks by Kuhn–Munkres (:mod:`chaincomp.elastic.matching`), then GCA;
- ``from-scratch``: the tuned GBP-CR + GCA design of ``chaincomp solve`` on the new cluster, *not*
  matched (what re-planning from scratch does); reported separately as ``from_scratch``.

(The MILP re-plan the issue lists as optional is not a candidate: ``--method milp`` runs take
seconds to minutes at BLOOM scale, outside the < 1 s budget.)

Selection: among candidates with at most ``max_moved`` moved servers (servers whose range
changes), those meeting λ/ρ̄ compete on the score. Hysteresis: when a zero-move candidate meets the
target, another is taken only if its score is lower by more than ``hysteresis`` × that candidate's Ω
(relative; default 0.02). When no candidate reaches λ/ρ̄ (the remaining cluster cannot, by any c of
GBP-CR, the repair or the surviving design), the step says so and takes the largest ν (ties: score).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from chaincomp.core.allocation import Allocation
from chaincomp.core.placement import Placement
from chaincomp.core.solution import Solution
from chaincomp.core.exact import check as exact_check
from chaincomp.core.verify import assert_valid
from chaincomp.elastic.design import OBJECTIVES, carry_over, design_reservation, meets_target, predicted
from chaincomp.elastic.events import Event, Timeline, apply_event
from chaincomp.elastic.matching import match_roles, server_classes
from chaincomp.elastic.repair import local_repair
from chaincomp.elastic.switching import SwitchCost, held_ranges, load_bandwidths, switching_cost
from chaincomp.errors import InfeasibleInstance, NoDesignFound, UsageError
from chaincomp.io import limits
from chaincomp.heuristics import tuning
from chaincomp.heuristics.gbp_cr import gbp_cr
from chaincomp.heuristics.gca import gca
from chaincomp.problem import Problem

DEFAULT_DELTA = 1e-3
DEFAULT_HYSTERESIS = 0.02


@dataclass(frozen=True)
class RecomposeOptions:
    """Options of :func:`recompose` (see the module docstring)."""

    delta: float = DEFAULT_DELTA
    max_moved: int | None = None
    hysteresis: float = DEFAULT_HYSTERESIS
    objective: str = "response"
    load_bandwidth: float | None = None
    match_by: str = "memory+compute"

    def check(self) -> None:
        if self.objective not in OBJECTIVES:
            raise UsageError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        limits.bounded_option(self.delta, "--delta", 0.0, 1e12)
        limits.bounded_option(self.hysteresis, "--hysteresis", 0.0, 1e12)
        limits.check_load_bandwidth(self.load_bandwidth)
        if self.max_moved is not None and self.max_moved < 0:
            raise UsageError(f"--max-moved must be ≥ 0, got {self.max_moved}")

    def to_dict(self) -> dict[str, Any]:
        return {"delta": self.delta, "max_moved": self.max_moved, "hysteresis": self.hysteresis,
                "objective": self.objective, "load_bandwidth_gb_s": self.load_bandwidth, "match_by": self.match_by}


@dataclass
class Candidate:
    name: str
    placement: Placement
    allocation: Allocation
    cost: SwitchCost
    predicted: float  # Ω
    score: float
    meets: bool
    service_rate: float
    cache_reservation: int | None
    notes: list = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {"name": self.name, "meets_target": self.meets, "service_rate": self.service_rate,
                "predicted": _fin(self.predicted), "score": _fin(self.score),
                "moved_servers": len(self.cost.moved_servers), "reloaded_blocks": self.cost.reloaded_blocks,
                "switching_cost_s": float(self.cost.omega_s)}


def _fin(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass
class Step:
    """One re-composition: the chosen design, the from-scratch comparison and every candidate."""

    event: Event | None
    chosen: Candidate
    solution: Solution
    from_scratch: Candidate
    from_scratch_solution: Solution
    candidates: list[Candidate]
    reachable: bool
    message: str
    wall_time_s: float

    def fields(self, cand: Candidate, sol: Solution) -> dict[str, Any]:
        return {
            "candidate": cand.name,
            "moved_servers": cand.cost.moved_servers,
            "reloaded_blocks": cand.cost.reloaded_blocks,
            "reload_gb": cand.cost.reload_gb,
            "reload_time_s": cand.cost.reload_time_s,
            "reload_makespan_s": cand.cost.reload_makespan_s,
            "dropped_jobs_expected": cand.cost.dropped_jobs,
            "switching_cost_s": cand.cost.omega_s,
            "response_time_lower_s": sol.metrics.get("response_time_lower_s"),
            "response_time_upper_s": sol.metrics.get("response_time_upper_s"),
            "job_servers": sol.metrics.get("job_servers"),
            "service_rate": sol.metrics.get("service_rate"),
            "meets_target": cand.meets,
            "moves": cand.cost.per_server,
        }

    def to_dict(self) -> dict[str, Any]:
        out = {"event": self.event.to_dict() if self.event else None,
               "arrival_rate": self.solution.problem.arrival_rate,
               "required_rate": self.solution.problem.required_rate,
               "target_reachable": self.reachable, "message": self.message,
               "wall_time_s": self.wall_time_s}
        out |= self.fields(self.chosen, self.solution)
        out["solution"] = self.solution.to_dict()
        fs = self.fields(self.from_scratch, self.from_scratch_solution)
        fs["solution"] = self.from_scratch_solution.to_dict()
        out["from_scratch"] = fs
        out["candidates"] = [c.row() for c in self.candidates]
        return out


def _candidate(name, old: Solution, new_problem: Problem, placement: Placement, allocation: Allocation,
               opts: RecomposeOptions, c: int | None, notes=None, bandwidths=None) -> Candidate:
    cost = switching_cost(old.problem, old.placement, old.allocation, new_problem, placement, opts.load_bandwidth,
                          bandwidths)
    omega = predicted(new_problem, allocation, opts.objective)
    return Candidate(name, placement, allocation, cost, omega, omega + opts.delta * cost.omega_s,
                     meets_target(new_problem, allocation), allocation.service_rate, c, list(notes or []))


def from_scratch_design(problem: Problem) -> tuple[Placement, Allocation, int, list]:
    """The tuned GBP-CR + GCA design (``chaincomp solve``); if no c reaches λ/ρ̄, the c whose
    GBP-CR pass (all servers) + GCA gives the largest ν. Returns (placement, allocation, c, tuning candidates)."""
    if problem.num_servers == 0:
        return Placement.empty(0), Allocation((), ()), 1, []
    try:
        res = tuning.tune(problem, score="lower")
        best = res.best
        return best.greedy.placement, best.allocation, best.cache_reservation, [x for x in res.candidates if x.feasible]
    except (InfeasibleInstance, NoDesignFound):  # no c reaches λ/ρ̄: the largest-ν GBP-CR pass instead
        best = None
        for c in range(1, max(problem.max_cache_reservation, 1) + 1):
            g = gbp_cr(problem, c)
            if g.num_chains == 0:
                continue
            a = gca(problem, g.placement)
            if best is None or a.service_rate > best[1].service_rate:
                best = (g.placement, a, c)
        if best is None:
            return Placement.empty(problem.num_servers), Allocation((), ()), 1, []
        return best[0], best[1], best[2], []


def recompose(current: Solution, new_problem: Problem, options: RecomposeOptions | None = None,
              event: Event | None = None) -> Step:
    """The next design on ``new_problem`` (the cluster/workload after ``event``) from ``current``."""
    opts = options or RecomposeOptions()
    opts.check()
    t0 = time.perf_counter()
    old_p = current.problem
    held = held_ranges(old_p, current.placement)
    c_design = design_reservation(old_p, current.placement, current.parameters)
    cands: list[Candidate] = []
    bws = load_bandwidths(new_problem, opts.load_bandwidth)
    classes = server_classes(new_problem, opts.match_by)

    def add(name, pl, al, c, notes=None):
        cand = _candidate(name, current, new_problem, pl, al, opts, c, notes, bws)
        cands.append(cand)
        return cand

    keep_pl, keep_al = carry_over(old_p, current.placement, current.allocation, new_problem)
    add("keep", keep_pl, keep_al, c_design)
    if keep_pl.used.size:
        add("keep+gca", keep_pl, gca(new_problem, keep_pl), c_design)
    bw = float(bws.mean()) if new_problem.num_servers else 1.0
    rep_pl, log = local_repair(old_p, current.placement, current.allocation, new_problem, c_design, opts.objective,
                               opts.delta * new_problem.block_size_gb / bw)
    add("repair", rep_pl, gca(new_problem, rep_pl), c_design, log)
    fs_pl, fs_al, fs_c, tuned = from_scratch_design(new_problem)
    scratch = add("from-scratch", fs_pl, fs_al, fs_c)
    for cand in tuned:
        pl, _ = match_roles(new_problem, cand.greedy.placement, held, cand.allocation, classes=classes)
        add(f"gbp-cr c={cand.cache_reservation} matched", pl, gca(new_problem, pl), cand.cache_reservation)
    if not tuned and fs_pl.used.size:
        pl, _ = match_roles(new_problem, fs_pl, held, fs_al, classes=classes)
        add(f"gbp-cr c={fs_c} matched", pl, gca(new_problem, pl), fs_c)

    allowed = [x for x in cands if opts.max_moved is None or len(x.cost.moved_servers) <= opts.max_moved]
    meeting = [x for x in allowed if x.meets]
    if meeting:
        chosen = min(meeting, key=lambda x: x.score)
        base = [x for x in meeting if not x.cost.moved_servers]
        if base:
            b = min(base, key=lambda x: x.score)
            if chosen is not b and (b.score - chosen.score) <= opts.hysteresis * b.predicted:
                chosen = b
        reachable = True
        message = f"meets λ/ρ̄ = {new_problem.required_rate:.4g} job/s with ν = {chosen.service_rate:.4g} ({chosen.name})"
    else:
        reachable = False
        chosen = max(allowed, key=lambda x: (x.service_rate, -x.score))
        message = (f"the remaining cluster cannot reach λ/ρ̄ = {new_problem.required_rate:.4g} job/s with any candidate"
                   f"{'' if opts.max_moved is None else f' moving ≤ {opts.max_moved} servers'}; "
                   f"maximizing ν: {chosen.service_rate:.4g} job/s ({chosen.name})")
    wall = time.perf_counter() - t0
    params = {"cache_reservation": chosen.cache_reservation, "candidate": chosen.name, **opts.to_dict()}
    sol = Solution.create(new_problem, "recompose", chosen.placement, chosen.allocation, parameters=params,
                          wall_time_s=wall, extra={"recompose": {"from": current.method, "repair_log": log,
                                                                 "event": event.to_dict() if event else None}})
    fs_sol = Solution.create(new_problem, "greedy", scratch.placement, scratch.allocation,
                             parameters={"cache_reservation": fs_c, "tuned": True, "tune": "lower"})
    for design in (sol, fs_sol):  # the exact rate check (core/exact.py) decides, not the float screen
        met = exact_check(new_problem, design.placement, design.allocation).rate_met
        if not met:
            design.extra["status"] = "rate_target_missed"
        assert_valid(design, allow_rate_miss=not met)
    if reachable and sol.extra.get("status") == "rate_target_missed":
        reachable = False
        message = (f"no candidate meets λ/ρ̄ = {new_problem.required_rate:.4g} job/s in exact arithmetic "
                   f"(ν = {chosen.service_rate:.12g} misses it by a rounding margin; {chosen.name})")
    return Step(event, chosen, sol, scratch, fs_sol, cands, reachable, message, wall)


def recompose_timeline(current: Solution, timeline: Timeline, options: RecomposeOptions | None = None,
                       on_step=None) -> list[Step]:
    """Apply every event of ``timeline`` in order, re-composing after each."""
    steps = []
    for i, ev in enumerate(timeline.events):
        new_problem = apply_event(current.problem, ev)
        step = recompose(current, new_problem, options, ev)
        steps.append(step)
        current = step.solution
        if on_step is not None:
            on_step(i + 1, len(timeline.events))
    return steps
