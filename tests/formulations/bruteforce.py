"""Brute-force oracle for tiny BPCA instances (SPEC §8): all placements × exact allocation.

Independent of the formulations: placements are enumerated server by server (unused, or any range
a..e leaving at least one cache slot), chains by DFS over the chain rule, and the allocation by an
exact depth-first search over integer capacities (fastest chain first, pruned by the rate still
missing divided by the current chain's rate). Memory in slot units with the tolerant floor.
"""

from __future__ import annotations

import itertools
import math



def _slots(problem, j, m):
    return math.floor((float(problem.memory_gb[j]) - problem.block_size_gb * m) / problem.cache_size_gb + 1e-9)


def _options(problem, j):
    L = problem.num_blocks
    opts = [None]
    for m in range(1, L + 1):
        if _slots(problem, j, m) >= 1:
            opts += [(a, a + m - 1) for a in range(1, L - m + 2)]
    return opts


def _chains(problem, ranges):
    L = problem.num_blocks
    used = [j for j, r in enumerate(ranges) if r is not None]
    out = []

    def dfs(path, e, T):
        if e == L:
            out.append((tuple(path), T))
            return
        for j in used:
            a, b = ranges[j]
            if j in path or not (a <= e + 1 <= b):
                continue
            path.append(j)
            dfs(path, b, T + float(problem.tau_comm_s[j]) + float(problem.tau_comp_s[j]) * (b - e))
            path.pop()

    dfs([], 0, 0.0)
    return out


def _min_job_servers(problem, ranges, chains, best):
    """Exact min Σc s.t. Σ c/T ≥ R and slots; returns value < best or None."""
    R = problem.required_rate
    slots = [(_slots(problem, j, r[1] - r[0] + 1) if r is not None else 0) for j, r in enumerate(ranges)]
    chains = sorted(chains, key=lambda c: c[1])
    uses = []
    for path, T in chains:
        w, e = {}, 0
        for j in path:
            w[j] = ranges[j][1] - e
            e = ranges[j][1]
        uses.append(w)
    found = [best]
    tol = 1e-12 * max(1.0, R)

    def dfs(k, need, count, free):
        if need <= tol:
            if count < found[0]:
                found[0] = count
            return
        if k == len(chains):
            return
        mu = 1.0 / chains[k][1]
        if count + math.ceil(need / mu - 1e-9) >= found[0]:
            return  # even all-fastest cannot beat the best
        cmax = min(free[j] // b for j, b in uses[k].items())
        cmax = min(cmax, math.ceil(need / mu - 1e-9))
        for c in range(cmax, -1, -1):
            nf = dict(free)
            for j, b in uses[k].items():
                nf[j] -= b * c
            dfs(k + 1, need - c * mu, count + c, nf)

    dfs(0, R, 0, {j: slots[j] for j in range(len(ranges))})
    return found[0] if found[0] < best else None


def brute_force(problem, limit: int = 60):
    """Optimal job-server count over all placements (or None if > ``limit`` / infeasible)."""
    best = limit + 1
    J = problem.num_servers
    for ranges in itertools.product(*[_options(problem, j) for j in range(J)]):
        chains = _chains(problem, ranges)
        if not chains:
            continue
        v = _min_job_servers(problem, list(ranges), chains, best)
        if v is not None:
            best = v
    return best if best <= limit else None


def _max_rate(problem, ranges, chains):
    """Exact max Σ c/T s.t. slots (integer c), by DFS with the bound (free slots / L)·μ_max."""
    L = problem.num_blocks
    slots = [(_slots(problem, j, r[1] - r[0] + 1) if r is not None else 0) for j, r in enumerate(ranges)]
    chains = sorted(chains, key=lambda c: c[1])
    uses = []
    for path, _ in chains:
        w, e = {}, 0
        for j in path:
            w[j] = ranges[j][1] - e
            e = ranges[j][1]
        uses.append(w)
    best = [0.0]

    def dfs(k, rate, free):
        if rate > best[0]:
            best[0] = rate
        if k == len(chains):
            return
        mu = 1.0 / chains[k][1]  # chains sorted fastest first: the best remaining rate per job server
        if rate + sum(free.values()) / L * mu <= best[0] * (1 + 1e-12):
            return
        cmax = min(free[j] // b for j, b in uses[k].items())
        for c in range(cmax, -1, -1):
            nf = dict(free)
            for j, b in uses[k].items():
                nf[j] -= b * c
            dfs(k + 1, rate + c * mu, nf)

    dfs(0, 0.0, {j: slots[j] for j in range(len(ranges))})
    return best[0]


def brute_force_throughput(problem):
    """Optimal total service rate ν over all placements and integer allocations (0.0 if no chain)."""
    best = 0.0
    J = problem.num_servers
    for ranges in itertools.product(*[_options(problem, j) for j in range(J)]):
        chains = _chains(problem, ranges)
        if chains:
            best = max(best, _max_rate(problem, list(ranges), chains))
    return best
