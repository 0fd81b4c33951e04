"""Pieces shared by the formulations: segments, the greedy warm start, rebuilding a Solution.

A *segment* σ = (j, a, e) means "server j hosts blocks a..e" (1-based, inclusive). Only segments
that leave at least one cache slot are admissible: S_σ = ⌊(M_j − s_m (e − a + 1))/s_c⌋ ≥ 1 (the
floor is taken with :func:`chaincomp.problem.safe_floor`'s tolerance, like the verifier).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.placement import Placement
from chaincomp.heuristics.gbp_cr import gbp_cr
from chaincomp.heuristics.gca import gca
from chaincomp.problem import Problem


@dataclass(frozen=True)
class Segments:
    """All admissible segments, and a dense lookup ``index[j, a, e]`` (−1 where absent)."""

    server: np.ndarray
    first: np.ndarray
    last: np.ndarray
    slots: np.ndarray
    index: np.ndarray  # (J, L+2, L+2)

    @property
    def count(self) -> int:
        return int(self.server.size)

    @property
    def length(self) -> np.ndarray:
        return self.last - self.first + 1


def segments(problem: Problem) -> Segments:
    J, L = problem.num_servers, problem.num_blocks
    lengths = np.arange(1, L + 1)
    srv, fst, lst, slt = [], [], [], []
    index = -np.ones((J, L + 2, L + 2), dtype=np.int64)
    slots_by_len = np.stack([problem.residual_slots(np.full(J, m)) for m in lengths], axis=1)  # (J, L)
    for j in range(J):
        for m in lengths:
            S = int(slots_by_len[j, m - 1])
            if S < 1:
                continue
            for a in range(1, L - m + 2):
                index[j, a, a + m - 1] = len(srv)
                srv.append(j)
                fst.append(a)
                lst.append(a + m - 1)
                slt.append(S)
    return Segments(
        np.asarray(srv, np.int64), np.asarray(fst, np.int64), np.asarray(lst, np.int64), np.asarray(slt, np.int64), index
    )


def truncate(problem: Problem, allocation: Allocation) -> Allocation:
    """Keep only the job servers GCA's objective counts (SPEC §3.2): fastest chains first, the last
    one partly, until Σ μ c ≥ λ/ρ̄. Σ c of the result equals ``allocation.job_servers_needed``."""
    need = allocation.job_servers_needed(problem.required_rate)
    if need is None:
        return allocation
    chains, caps, left = [], [], need
    for ch, c in zip(allocation.chains, allocation.capacities):
        if left <= 0:
            break
        take = min(c, left)
        chains.append(ch)
        caps.append(take)
        left -= take
    return Allocation(tuple(chains), tuple(caps))


@dataclass
class GreedyStart:
    """GBP-CR + GCA over every c (SPEC §3.5 sweep), judged by job servers (Σ c after truncation)."""

    cache_reservation: int
    placement: Placement
    allocation: Allocation  # truncated: Σ c = job_servers
    job_servers: int
    per_c: dict  # c → job servers (None if infeasible); throughput_start: c → best ν
    candidates: list  # (c, placement, truncated allocation) of every feasible c; throughput_start: full allocations


def greedy_start(problem: Problem, deadline: float | None = None) -> GreedyStart | None:
    """Best GBP-CR + GCA design over c = 1..c_max by job servers (ties: smaller c); None if none.

    ``deadline`` (a ``time.perf_counter()`` value): stop the sweep there, keeping the best so far
    (``per_c`` then lacks the c's not tried)."""
    import time

    best = None
    per_c: dict = {}
    cands = []
    cache: dict = {}
    for c in range(1, problem.max_cache_reservation + 1):
        if deadline is not None and c > 1 and time.perf_counter() > deadline:
            break
        g = gbp_cr(problem, c)
        if not g.feasible:
            per_c[c] = None
            continue
        key = (g.placement.first_block.tobytes(), g.placement.num_blocks.tobytes())
        alloc = cache.get(key)
        if alloc is None:
            alloc = cache[key] = gca(problem, g.placement)
        js = alloc.job_servers_needed(problem.required_rate)
        per_c[c] = js
        if js is None:
            continue
        t = truncate(problem, alloc)
        cands.append((c, g.placement, t))
        if best is None or js < best.job_servers:
            best = GreedyStart(c, g.placement, t, js, per_c, cands)
    if best is not None:
        best.per_c = per_c
        best.candidates = cands
    return best


def throughput_start(problem: Problem, deadline: float | None = None) -> GreedyStart | None:
    """The throughput objective's warm start: GBP-CR + GCA's full allocation for every c, best ν.

    λ/ρ̄ plays no part in this objective, but GBP-CR stops placing servers once its groups reach
    λ/(ρ̄c); so every c is also run with an unreachable target, where the pass places every server it
    can (``GreedyPlacement.placement`` of an infeasible pass). Candidates: (c, placement, full GCA
    allocation) with ν > 0; ``job_servers`` = Σ c of the best one (its total capacity). None when
    no placement forms a chain."""
    import time

    unbounded = problem.with_workload(arrival_rate=1e12 * max(problem.arrival_rate, 1.0))
    per_c: dict = {}
    cands = []
    seen: set = set()
    best = None
    for c in range(1, problem.max_cache_reservation + 1):
        if deadline is not None and c > 1 and time.perf_counter() > deadline:
            break
        per_c[c] = None
        for q in (problem, unbounded):
            pl = gbp_cr(q, c).placement
            key = (pl.first_block.tobytes(), pl.num_blocks.tobytes())
            if key in seen or not len(pl.used):
                continue
            seen.add(key)
            alloc = gca(problem, pl)
            if not alloc.chains or alloc.service_rate <= 0:
                continue
            cands.append((c, pl, alloc))
            per_c[c] = max(per_c[c] or 0.0, alloc.service_rate)
            if best is None or alloc.service_rate > best[2].service_rate:
                best = (c, pl, alloc)
    if best is None:
        return None
    return GreedyStart(best[0], best[1], best[2], int(sum(best[2].capacities)), per_c, cands)


def chain_from_segments(problem: Problem, segs: Segments, seg_ids) -> Chain:
    """The chain visiting the given segments in order (blocks per hop = e_h − e_{h−1})."""
    servers = [int(segs.server[s]) for s in seg_ids]
    ends = [int(segs.last[s]) for s in seg_ids]
    blocks = np.diff(np.concatenate(([0], ends)))
    return Chain.build(problem, servers, blocks)


def placement_from_segments(problem: Problem, segs: Segments, chosen) -> Placement:
    a = np.zeros(problem.num_servers, np.int64)
    m = np.zeros(problem.num_servers, np.int64)
    for s in chosen:
        j = int(segs.server[s])
        if m[j]:
            raise RuntimeError(f"two segments chosen for server {problem.server_ids[j]}")
        a[j] = segs.first[s]
        m[j] = segs.length[s]
    return Placement(a, m)


def chain_segments(segs: Segments, placement: Placement, chain: Chain) -> tuple[int, ...]:
    """Segment ids a chain of ``placement`` visits (its servers' hosted ranges)."""
    out = []
    for j in chain.servers:
        s = int(segs.index[j, placement.first_block[j], placement.last_block[j]])
        if s < 0:
            raise ValueError("placement uses a segment without a free cache slot")
        out.append(s)
    return tuple(out)
