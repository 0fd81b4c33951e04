"""BPRR baseline: CG-BP block placement for a design concurrency |R| (SPEC §4.2).

BPRR = Sun, He, Ji, Parag, "Optimizing Resource Allocation for Geographically-Distributed Inference
by Large Language Models" (IFIP Performance 2025, arXiv 2512.21884), Algorithm 1 (CG-BPRR) steps 1–3
and its online form CG-BP + WS-RR (the routing lives in :mod:`chaincomp.sim.routing_bprr`).

Step 1 — conservative block count
    m_j = min(⌊M_j / (s_m + s_c·|R|)⌋, L): every hosted block keeps cache for |R| concurrent
    requests, so the placement stays feasible even if all |R| requests cross server j.
    Check (BPRR's testbed, BLOOM-176B NF4, s_m = 1.324 GB, l_in + l_out = 20 + 128 tokens): the
    cache of one request per block is 2·hidden·148 tokens·2 B = 57 344 B/token × 148 = 8.49 MB,
    so at |R| = 87: 85.1/(1.324 + 87·0.00849) = 41.3 → **41** blocks on an A100 and 8.2/2.062 = 3.98
    → **3** on an 8.2 GB MIG slice — the numbers BPRR reports. Here s_c is the instance's
    ``cache_size_gb`` (one job's cache per block); set it for the request length BPRR designs for.

Step 2 — greedy placement (CG-BP)
    Servers sorted by amortized time t̃_j = τ^p_j + τ^c_j/m_j (BPRR's τ_j + max_c t_cj/m_j with
    the single orchestrator as the only client, on per-job totals; stable sort, m_j = 0 skipped).
    *Phase 1 (tiling)*: BPRR starts every block with a dummy server of huge time, so the first
    servers always take the blocks still served only by the dummy: they tile 1..L in order, and the
    server that completes the tiling (the K-th) is pushed back to end at L (a_j = L − m_j + 1).
    *Phase 2 (redundancy)*: every further server takes, PETALS-style, the window whose
    ascending-sorted vector of per-block service rates is lexicographically smallest (ties: lowest
    start), where a server contributes rate r_j = 1/(τ^c_j + τ^p_j m_j) to each block it hosts
    (the rate at which it completes requests that use all its blocks). This is the toolkit's
    reading of "blocks that need service the most"; the exact bookkeeping of BPRR's (C_b, T_b) is
    not reproduced.
    If the servers cannot tile 1..L the instance is infeasible for that |R|
    (Corollary 1: feasible iff Σ_j m_j ≥ L).

Step 3 — routing
    Offline (CG-BPRR): every request from the single client takes the shortest path
    (link cost τ^c_j + τ^p_j m_ij). The solution records that path as its one chain with capacity
    |R| — memory-feasible by Step 1 and checked by the verifier. Online the simulator routes with
    WS-RR instead (waiting-penalised shortest path), see :mod:`chaincomp.sim.routing_bprr`.

Design concurrency |R|
    As BPRR's authors size it: mean plus one standard deviation of the number of requests in
    system. With Poisson arrivals and no waiting that number is Poisson(λT) (M/G/∞), so
    |R| = ⌈λT + √(λT)⌉ with T the single-request service time (shortest path) under the
    placement for |R| itself; the toolkit iterates R ← ⌈λT(R) + √(λT(R))⌉ from R = 1 until it
    stops growing (at most 50 steps), capped by the memory bound R_max = the largest |R| for which
    Σ_j m_j(|R|) ≥ L. A user-given |R| (``design_concurrency``) is used as is (an error if > R_max).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.placement import Placement
from chaincomp.errors import InfeasibleInstance, UsageError
from chaincomp.heuristics.petals import choose_best_start
from chaincomp.problem import Problem, safe_floor


def conservative_block_counts(problem: Problem, design_concurrency: int) -> np.ndarray:
    """m_j = min(⌊M_j/(s_m + s_c|R|)⌋, L) (CG-BPRR step 1)."""
    return problem.blocks_at_reservation(int(design_concurrency))


def max_design_concurrency(problem: Problem) -> int:
    """R_max: the largest |R| ≥ 1 with Σ_j m_j(|R|) ≥ L (0 if even |R| = 1 cannot host all blocks)."""
    L = problem.num_blocks

    def ok(r: int) -> bool:
        return int(conservative_block_counts(problem, r).sum()) >= L

    if not ok(1):
        return 0
    hi = max(1, problem.max_cache_reservation)
    if ok(hi):
        return hi
    lo = 1  # ok(lo), not ok(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


@dataclass
class BprrPlacement:
    design_concurrency: int
    placement: Placement
    order: list[int]  # servers by increasing amortized time (m_j > 0 only)
    phase: dict[int, int]  # server → 1 (tiling) or 2 (redundancy)
    block_counts: np.ndarray
    amortized_time: np.ndarray
    block_rate: np.ndarray = field(default_factory=lambda: np.zeros(0))


def bprr_placement(problem: Problem, design_concurrency: int) -> BprrPlacement:
    """CG-BP (CG-BPRR steps 1–2) for a given |R|. Raises InfeasibleInstance if 1..L cannot be tiled."""
    R = int(design_concurrency)
    if R < 1:
        raise UsageError("BPRR design concurrency |R| must be ≥ 1")
    L, J = problem.num_blocks, problem.num_servers
    m = conservative_block_counts(problem, R)
    with np.errstate(divide="ignore", invalid="ignore"):
        amort = np.where(m > 0, problem.tau_comp_s + problem.tau_comm_s / np.maximum(m, 1), np.inf)
    order = [int(j) for j in np.argsort(amort, kind="stable") if m[j] > 0]
    if int(m.sum()) < L:
        raise InfeasibleInstance(
            f"BPRR at |R| = {R}: servers host only {int(m.sum())} of {L} blocks "
            f"(m_j = ⌊M_j/(s_m + s_c|R|)⌋); lower |R| (max feasible: {max_design_concurrency(problem)})"
        )
    first = np.zeros(J, dtype=np.int64)
    count = np.zeros(J, dtype=np.int64)
    rate = np.zeros(L)
    phase: dict[int, int] = {}
    a = 1
    for j in order:
        mj = int(m[j])
        r_j = 1.0 / (problem.tau_comm_s[j] + problem.tau_comp_s[j] * mj)
        if a <= L:  # phase 1: tile 1..L, the last server pushed back to end at L
            s = min(a, L - mj + 1)
            a = s + mj
            phase[j] = 1
        else:  # phase 2: PETALS-style weakest window of per-block service rates
            s = choose_best_start(rate, mj) + 1
            phase[j] = 2
        first[j], count[j] = s, mj
        rate[s - 1 : s - 1 + mj] += r_j
    return BprrPlacement(R, Placement(first, count), order, phase, m, amort, rate)


def shortest_chain(
    problem: Problem,
    placement: Placement,
    extra_cost: Callable[[int, np.ndarray], np.ndarray] | None = None,
) -> tuple[tuple[int, ...], tuple[int, ...], float] | None:
    """Shortest j₀ → j_{J+1} path in 𝒢_{a,m}, link cost τ^c_j + τ^p_j m_ij (+ ``extra_cost``).

    ``extra_cost(j, needed)`` returns, for server j and an array of block counts m_ij, an extra cost
    per option (``inf`` = link unusable) — WS-RR passes its waiting times here. DAG order: servers by
    last block; ties between equal-cost predecessors go to the smaller last block, then the smaller
    server index; among equal-cost ends to the smaller server index. Returns (servers, blocks, cost)
    or None when no finite path exists.
    """
    L = problem.num_blocks
    used = placement.used
    if used.size == 0:
        return None
    a = placement.first_block
    e = placement.last_block
    nodes = sorted(used.tolist(), key=lambda j: (int(e[j]), j))
    ends = np.array([int(e[j]) for j in nodes])
    dist = np.full(len(nodes), np.inf)
    pred = np.full(len(nodes), -2, dtype=np.int64)
    tc, tp = problem.tau_comm_s, problem.tau_comp_s
    for k, v in enumerate(nodes):
        ev, av = int(e[v]), int(a[v])
        best, bp = np.inf, -2
        if av == 1:
            need = np.array([ev])
            c = tc[v] + tp[v] * ev + (extra_cost(v, need)[0] if extra_cost else 0.0)
            if c < best:
                best, bp = c, -1
        lo = np.searchsorted(ends, av - 1, side="left")
        hi = np.searchsorted(ends, ev - 1, side="right")
        if hi > lo:
            cand = np.arange(lo, hi)
            cand = cand[np.isfinite(dist[cand])]
            if cand.size:
                need = ev - ends[cand]
                cost = dist[cand] + tc[v] + tp[v] * need
                if extra_cost is not None:
                    cost = cost + extra_cost(v, need)
                i = int(np.argmin(cost))
                if cost[i] < best:
                    best, bp = float(cost[i]), int(cand[i])
        dist[k], pred[k] = best, bp
    ends_at_L = [k for k in range(len(nodes)) if ends[k] == L and np.isfinite(dist[k])]
    if not ends_at_L:
        return None
    kbest = min(ends_at_L, key=lambda k: (dist[k], nodes[k]))
    path = []
    k = kbest
    while k >= 0:
        path.append(k)
        k = int(pred[k])
    path.reverse()
    servers = tuple(nodes[k] for k in path)
    blocks, prev = [], 0
    for k in path:
        blocks.append(int(ends[k]) - prev)
        prev = int(ends[k])
    return servers, tuple(blocks), float(dist[kbest])


def single_request_time(problem: Problem, placement: Placement) -> float:
    """Service time of one request on the shortest path (Eq. 2 along it)."""
    sp = shortest_chain(problem, placement)
    if sp is None:
        return math.inf
    return Chain.build(problem, sp[0], sp[1]).service_time_s


def design_concurrency(problem: Problem, max_steps: int = 50) -> tuple[int, dict]:
    """|R| = ⌈λT + √(λT)⌉ iterated to a fixed point, capped by R_max (see the module docstring)."""
    r_max = max_design_concurrency(problem)
    if r_max == 0:
        raise InfeasibleInstance(
            f"BPRR: even |R| = 1 hosts only {int(conservative_block_counts(problem, 1).sum())} of "
            f"{problem.num_blocks} blocks"
        )
    lam = problem.arrival_rate
    R, history = 1, []
    for _ in range(max_steps):
        T = single_request_time(problem, bprr_placement(problem, R).placement)
        load = lam * T
        nxt = max(1, math.ceil(load + math.sqrt(load) - 1e-9))
        history.append({"design_concurrency": R, "single_request_time_s": T, "mean_in_system": load,
                        "next": nxt})
        nxt = min(nxt, r_max)
        if nxt <= R:
            break
        R = nxt
    info = {"rule": "ceil(λT + sqrt(λT)) fixed point, capped by memory", "memory_cap": r_max,
            "capped": R == r_max, "iterations": history}
    return R, info


def bprr_solution(problem: Problem, design_concurrency_value: int | None = None):
    """CG-BPRR: placement for |R| plus the offline shortest-path chain with capacity |R|."""
    from chaincomp.core.solution import Solution

    t0 = time.perf_counter()
    if design_concurrency_value is None:
        R, rinfo = design_concurrency(problem)
    else:
        R = int(design_concurrency_value)
        r_max = max_design_concurrency(problem)
        if R > r_max:
            raise InfeasibleInstance(f"BPRR at |R| = {R}: above the memory bound R_max = {r_max}")
        rinfo = {"rule": "user-set", "memory_cap": r_max}
    bp = bprr_placement(problem, R)
    sp = shortest_chain(problem, bp.placement)
    if sp is None:  # cannot happen once 1..L is tiled, kept as a guard
        raise InfeasibleInstance("BPRR placement has no complete chain")
    chain = Chain.build(problem, sp[0], sp[1])
    wall = time.perf_counter() - t0
    sol = Solution.create(problem, "bprr", bp.placement, Allocation((chain,), (R,)),
                          parameters={"design_concurrency": R}, wall_time_s=wall)
    sol.extra = {
        "routing": "online: WS-RR (waiting-penalised shortest path, chaincomp.sim.routing_bprr); the one "
                   "chain listed is CG-BPRR's offline shortest path carrying |R| requests",
        "bprr": {
            "design_concurrency": R,
            "design_concurrency_info": rinfo,
            "block_counts": bp.block_counts.tolist(),
            "order": [problem.server_ids[j] for j in bp.order],
            "phase": {problem.server_ids[j]: ph for j, ph in bp.phase.items()},
            "block_rate": bp.block_rate.tolist(),
        },
    }
    return sol


def residual_slots(problem: Problem, placement: Placement) -> np.ndarray:
    """Physical cache slots ⌊(M_j − s_m m_j)/s_c⌋ (WS-RR tracks these)."""
    return np.asarray(safe_floor((problem.memory_gb - problem.block_size_gb * placement.num_blocks) / problem.cache_size_gb))
