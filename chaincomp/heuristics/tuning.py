"""Tuning the cache reservation c (SPEC §3.5).

For every c in 1..c_max (c_max = ⌊(max_j M_j − s_m)/s_c⌋): GBP-CR (Alg. 1) → GCA (Alg. 2) → score.
A c is skipped when GBP-CR cannot reach λ/(ρ̄ c) (K(c) = ∞) or when the GCA chains give λ ≥ ν.
Scores (smaller is better; ties go to the smaller c):

- ``surrogate``: c·K(c)/λ — the paper's surrogate objective (tends to pick c too small);
- ``lower``: Theorem-4 lower bound on JFFC's mean response time (default; the paper's recommendation);
- ``upper``: Theorem-4 upper bound (tends to pick c too large);
- ``sim``: simulated JFFC mean response time, Poisson/Exp, common random numbers across c.

GCA depends only on the placement, so consecutive c's that give GBP-CR the same placement share
one GCA run (a cache keyed by the placement arrays).

Skipping (issue 14): m_j(c) is non-increasing in c, so Σ_j m_j(c) is too; once it is below L at
some c, no chain can form there or at any larger c. Those c's are reported infeasible with
GBP-CR's own reason ("total memory hosts only X of L blocks at c = …") without running the pass
(their partial placement is built only if read). The sweep keeps GCA's chains as flat arrays
(:class:`~chaincomp.heuristics.gca.GCAResult`); the Allocation with Chain objects is built only for
candidates someone asks for (the chosen one, as a rule).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from chaincomp.analysis.bounds import jffc_bounds
from chaincomp.core.allocation import Allocation
from chaincomp.core.exact import ExactInstance, closed_form_bound, rate_beyond_any_design
from chaincomp.errors import ChaincompError, InfeasibleInstance, NoDesignFound, UsageError
from chaincomp.heuristics.gbp_cr import (
    GreedyPlacement,
    LazyGreedyPlacement,
    MemoryBoundPlacement,
    _gbp_cr_with_blocks,
    blocks_for_reservations,
    gbp_cr,
    hosted_blocks,
)
from chaincomp.heuristics.gca import GCAResult, gca_arrays
from chaincomp.problem import Problem

SCORES = ("lower", "upper", "surrogate", "sim")


@dataclass
class Candidate:
    """One c of the sweep: GBP-CR's placement, GCA's chains (``result``; ``allocation`` builds the
    :class:`Allocation` from them on first use) and the scores."""

    cache_reservation: int
    greedy: GreedyPlacement
    result: GCAResult | None
    reason: str = ""
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.reason

    @property
    def allocation(self) -> Allocation | None:
        return None if self.result is None else self.result.allocation

    def row(self) -> dict:
        """Plain data for tables and JSON."""
        a = self.result
        return {
            "cache_reservation": self.cache_reservation,
            "feasible": self.feasible,
            "reason": self.reason or None,
            "num_groups": self.greedy.num_chains if self.greedy.feasible else None,
            "num_chains": a.num_chains if a is not None else None,
            "service_rate": a.service_rate if a is not None else None,
            **{f"score_{k}": v for k, v in self.scores.items()},
        }


class MemoryBoundCandidate(Candidate):
    """A c with Σ_j m_j(c) < L: infeasible without running GBP-CR (no chain can form). Its GBP-CR
    record (:class:`MemoryBoundPlacement`) and reason are built only when read."""

    def __init__(self, problem: Problem, c: int, hosted: int):
        self.cache_reservation = c
        self.result = None
        self.scores = {}
        self._args = (problem, hosted)

    @property
    def feasible(self) -> bool:
        return False

    @property
    def greedy(self) -> MemoryBoundPlacement:  # type: ignore[override]
        g = self.__dict__.get("_greedy")
        if g is None:
            g = self.__dict__["_greedy"] = MemoryBoundPlacement(self._args[0], self.cache_reservation, self._args[1])
        return g

    @property
    def reason(self) -> str:  # type: ignore[override]
        return self.greedy.reason


@dataclass
class TuningResult:
    score: str
    candidates: list[Candidate]
    best: Candidate

    def ranked(self) -> list[Candidate]:
        """Feasible candidates, best score first (ties: smaller c)."""
        ok = [c for c in self.candidates if c.feasible]
        return sorted(ok, key=lambda c: (c.scores[self.score], c.cache_reservation))


def evaluate_reservation(
    problem: Problem,
    c: int,
    score: str = "lower",
    gca_cache: dict | None = None,
    sim_score: Callable[[Problem, Allocation], float] | None = None,
    order_cache: dict | None = None,
    blocks: np.ndarray | None = None,
) -> Candidate:
    """GBP-CR → GCA → scores for one c. Infeasible c's come back with ``reason`` set.

    ``blocks``: m_j(c) if the caller already has it (from :func:`blocks_for_reservations`)."""
    greedy = gbp_cr(problem, c, order_cache) if blocks is None else _gbp_cr_with_blocks(problem, c, blocks, order_cache)
    if not greedy.feasible:
        # keep K(c), the rate and the reason; the partial placement (J entries) is rebuilt if read
        return Candidate(c, LazyGreedyPlacement(problem, c, greedy.num_chains, greedy.group_rate, greedy.reason), None, greedy.reason)
    placement = greedy.placement
    cached = None
    if gca_cache is not None:
        h = hashlib.blake2b(placement.first_block.tobytes(), digest_size=16)
        h.update(placement.num_blocks.tobytes())
        key = h.digest()  # 16 bytes, not 16·J: the cache lives through the sweep
        cached = gca_cache.get(key)
        if cached is not None and not (
            np.array_equal(cached[0].first_block, placement.first_block)
            and np.array_equal(cached[0].num_blocks, placement.num_blocks)
        ):
            cached = None  # a hash collision: never trust it, recompute (and do not cache)
            key = None
        elif cached is not None:
            greedy = replace(greedy, placement=cached[0])  # identical placements share one copy
    if cached is None:
        result = gca_arrays(problem, placement)
        cached = [placement, result, None]  # GCA's chains and their Theorem-4 bounds (same chains, same λ → same bounds)
        if gca_cache is not None and key is not None:
            gca_cache[key] = cached
    result = cached[1]
    nu = result.service_rate
    lam = problem.arrival_rate
    if lam >= nu:
        return Candidate(c, greedy, result, f"λ = {lam:.4g} ≥ ν = {nu:.4g} of the GCA chains at c = {c}")
    if cached[2] is None:
        cached[2] = jffc_bounds(lam, result.rates, result.capacities)
    bounds = cached[2]
    scores = {"surrogate": c * greedy.num_chains / lam, "lower": bounds.lower_s, "upper": bounds.upper_s}
    if score == "sim":
        if sim_score is None:
            raise UsageError("score 'sim' needs a simulator scoring function")
        scores["sim"] = float(sim_score(problem, result.allocation))
    return Candidate(c, greedy, result, "", scores)


def tune(
    problem: Problem,
    score: str = "lower",
    reservations: list[int] | None = None,
    sim_jobs: int = 20000,
    seed: int = 0,
    on_step: Callable[[int, int], None] | None = None,
) -> TuningResult:
    """Sweep c (default 1..c_max) and pick the best by ``score``.

    Raises :class:`InfeasibleInstance` with the reason when no c works.
    """
    if score not in SCORES:
        raise UsageError(f"unknown tuning score {score!r}; choose one of {', '.join(SCORES)}")
    c_max = problem.max_cache_reservation
    if reservations is None:
        reservations = list(range(1, c_max + 1))
    sim_score = None
    if score == "sim":
        from chaincomp.sim.tuning import simulated_mean_response_time

        def sim_score(pr: Problem, alloc: Allocation) -> float:
            return simulated_mean_response_time(pr, alloc, num_jobs=sim_jobs, seed=seed)

    cache: dict = {}
    order_cache: dict = {}
    candidates = []
    hosted = hosted_blocks(problem, reservations).tolist() if reservations else []
    L = problem.num_blocks
    head = [c for c, h in zip(reservations, hosted) if h >= L]
    # m_j(c) of the c's to evaluate in one vectorized step while the (c × J) block stays small
    blocks = dict(zip(head, blocks_for_reservations(problem, head))) if head and len(head) * problem.num_servers <= 2_000_000 else {}
    for i, c in enumerate(reservations):
        if hosted[i] < L:  # no chain can form (and, Σ m_j(c) being non-increasing, none at larger c)
            candidates.append(MemoryBoundCandidate(problem, c, hosted[i]))
        else:
            candidates.append(evaluate_reservation(problem, c, score, cache, sim_score, order_cache, blocks.get(c)))
        if on_step is not None:
            on_step(i + 1, len(reservations))
    feasible = [cand for cand in candidates if cand.feasible]
    if not feasible:
        raise _no_c_works(problem, candidates, c_max)
    best = min(feasible, key=lambda cand: (cand.scores[score], cand.cache_reservation))
    return TuningResult(score, candidates, best)


def _no_c_works(problem: Problem, candidates: list[Candidate], c_max: int) -> ChaincompError:
    """Why no c works. Memory (not all L blocks hostable, or no server holds a block and a slot) is a
    proof: :class:`InfeasibleInstance`. A rate GBP-CR + GCA cannot reach is a proof only when λ/ρ̄
    also exceeds the closed-form ν bound of any design (core/exact.py ``rate_upper_bound``);
    otherwise it is the heuristic's limit — :class:`NoDesignFound` (exit 3), not "infeasible"."""
    if c_max < 1:
        return InfeasibleInstance(
            f"no server can host one block with one cache slot: max memory {float(problem.memory_gb.max()):.4g} GB "
            f"< s_m + s_c = {problem.block_size_gb + problem.cache_size_gb:.4g} GB"
        )
    if not candidates:
        return InfeasibleInstance("no cache reservation c was tried")
    formed = [c for c in candidates if c.greedy.num_chains > 0]
    if not formed:
        return InfeasibleInstance(candidates[0].reason)  # c = 1 hosts the most blocks: "total memory hosts only X of L blocks"
    # rate: the most any c reaches — GBP-CR's groups give c·Σ(Σt)⁻¹ (Lemma 1), GCA's chains ν
    best_rate, best_c = 0.0, formed[0].cache_reservation
    for cand in formed:
        rate = cand.result.service_rate if cand.result is not None else cand.cache_reservation * cand.greedy.group_rate
        if rate > best_rate:
            best_rate, best_c = rate, cand.cache_reservation
    need = (f"λ/ρ̄ = {problem.required_rate:.4g} job/s (λ = {problem.arrival_rate:.4g}, "
            f"ρ̄ = {problem.target_load:.4g})")
    reached = f"the largest service rate GBP-CR + GCA reach over c = 1..{c_max} is ν = {best_rate:.4g} job/s (at c = {best_c})"
    proof, nu_max = rate_beyond_any_design(problem)
    if proof is not None:
        return InfeasibleInstance(f"{proof}; {reached}")
    return NoDesignFound(
        f"no design found: GBP-CR + GCA reach {need} at no c — {reached}. This is the heuristic's limit, not a "
        f"proof of infeasibility (the closed-form bound allows ν ≤ {nu_max:.4g} job/s): `--method milp` "
        "searches further and may find a design or prove there is none",
        closed_form_bound(ExactInstance.of(problem)))


def check_reservation(problem: Problem, c: int) -> None:
    """Refuse a fixed c outside 1..c_max (c_max: the largest c at which a server holds a block)."""
    c_max = problem.max_cache_reservation
    if c < 1 or c > max(c_max, 1):
        raise UsageError(f"cache reservation c must be in 1..{c_max} for this instance, got {c}")


def best_fixed(problem: Problem, c: int) -> Candidate:
    """Evaluate one fixed c; raise :class:`InfeasibleInstance` if it does not work."""
    check_reservation(problem, c)
    cand = evaluate_reservation(problem, c, "lower")
    if not cand.feasible:
        raise InfeasibleInstance(cand.reason)
    return cand

