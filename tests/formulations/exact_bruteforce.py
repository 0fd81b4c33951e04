"""Exact *rational* brute-force oracle for tiny BPCA instances (issue 10 item 1; SPEC §8).

Independent of the library (it imports nothing from chaincomp): every number of the instance is
read as the decimal that round-trips its float (``Fraction(repr(x))``), memory is counted in slots
⌊(M_j − s_m m)/s_c + 10⁻⁹⌋ (the documented floor rule), T_k and ν are exact rationals, and a design
reaches the target iff ν ≥ (λ/ρ̄)(1 − 10⁻¹²). All placements (every server unused or any range with at
least one slot) × all chains (DFS over the chain rule) × an exact depth-first search over integer
capacities (fastest chain first, pruned by the rate still missing).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

TOL = Fraction(1, 10**12)
SLOT_TOL = Fraction(1, 10**9)


def F(x) -> Fraction:
    return Fraction(repr(float(x)))


def exact_numbers(problem):
    return {
        "M": [F(v) for v in problem.memory_gb.tolist()],
        "tc": [F(v) for v in problem.tau_comm_s.tolist()],
        "tp": [F(v) for v in problem.tau_comp_s.tolist()],
        "sm": F(problem.block_size_gb),
        "sc": F(problem.cache_size_gb),
        "R": F(problem.arrival_rate) / F(problem.target_load),
        "L": int(problem.num_blocks),
    }


def slots(n, j, m) -> int:
    return math.floor((n["M"][j] - n["sm"] * m) / n["sc"] + SLOT_TOL)


def _options(n, j):
    L = n["L"]
    opts = [None]
    for m in range(1, L + 1):
        if slots(n, j, m) >= 1:
            opts += [(a, a + m - 1) for a in range(1, L - m + 2)]
    return opts


def _chains(n, ranges):
    L = n["L"]
    used = [j for j, r in enumerate(ranges) if r is not None]
    out = []

    def dfs(path, e, T, w):
        if e == L:
            out.append((tuple(path), T, dict(w)))
            return
        for j in used:
            a, b = ranges[j]
            if j in path or not (a <= e + 1 <= b):
                continue
            path.append(j)
            w[j] = b - e
            dfs(path, b, T + n["tc"][j] + n["tp"][j] * (b - e), w)
            del w[j]
            path.pop()

    dfs([], 0, Fraction(0), {})
    return out


def _min_job_servers(n, ranges, chains, best):
    need0 = n["R"] * (1 - TOL)
    free0 = {j: (slots(n, j, r[1] - r[0] + 1) if r is not None else 0) for j, r in enumerate(ranges)}
    chains = sorted(chains, key=lambda c: c[1])
    found = [best]

    def dfs(k, need, count, free):
        if need <= 0:
            found[0] = min(found[0], count)
            return
        if k == len(chains):
            return
        T = chains[k][1]
        lower = math.ceil(need * T)  # even all job servers on the fastest remaining chain
        if count + lower >= found[0]:
            return
        w = chains[k][2]
        cmax = min(min(free[j] // b for j, b in w.items()), lower)
        for c in range(cmax, -1, -1):
            nf = dict(free)
            for j, b in w.items():
                nf[j] -= b * c
            dfs(k + 1, need - Fraction(c) / T, count + c, nf)

    dfs(0, need0, 0, free0)
    return found[0] if found[0] < best else None


def exact_brute_force(problem, limit: int = 40):
    """Optimal job-server count in exact arithmetic, or None when infeasible (or > ``limit``)."""
    n = exact_numbers(problem)
    best = limit + 1
    for ranges in itertools.product(*[_options(n, j) for j in range(problem.num_servers)]):
        chains = _chains(n, ranges)
        if chains:
            v = _min_job_servers(n, list(ranges), chains, best)
            if v is not None:
                best = v
    return best if best <= limit else None


def fastest_chain_time(problem) -> Fraction | None:
    """min T_k over every placement's chains that can carry one job (exact): the near-tie instances aim
    λ/ρ̄ at c/T of it."""
    n = exact_numbers(problem)
    best = None
    for ranges in itertools.product(*[_options(n, j) for j in range(problem.num_servers)]):
        for _, T, w in _chains(n, ranges):
            if all(slots(n, j, ranges[j][1] - ranges[j][0] + 1) >= b for j, b in w.items()):
                best = T if best is None or T < best else best
    return best
