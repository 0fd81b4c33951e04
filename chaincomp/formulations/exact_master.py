"""The integer master over an enumerated column pool, decided in exact rational arithmetic.

Used by the milp at a *near tie* (issue 10 item 1): the float solver proved that no design has fewer
than v job servers (a valid bound), but its design with v job servers misses λ/ρ̄ by 1e-7…1e-10 in
exact arithmetic. Is there an exactly feasible design with v job servers, or is the optimum ≥ v + 1?

With the converged, dual-feasible duals of column generation (:mod:`.colgen`, step 4) every chain a
design with Σx ≤ v can use has reduced cost ≤ v − z' (z' the Lagrangian bound), so
:meth:`Pricer.enumerate` lists them all (or reports that there are too many). Over that finite pool
this module runs a depth-first search over integer capacities — chains by increasing exact T_k,
each server restricted to one hosted range (segment), exact slots ⌊(M_j − s_m m)/s_c + 10⁻⁹⌋ per
segment, the rate row ν ≥ (λ/ρ̄)(1 − 10⁻¹²) in rationals (:mod:`chaincomp.core.exact`), pruned by
⌈need·T_k⌉ (no remaining chain is faster). Exhausting it proves that no design with ≤ v job servers
exists (the bound rises to v + 1); finding one gives an exactly feasible design at the bound.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.exact import RATE_REL_TOL, ExactInstance
from chaincomp.core.placement import Placement

POOL_LIMIT = 2_000
NODE_LIMIT = 2_000_000


def exact_search(problem, segs, pricer, best, v: int, deadline: float):
    """Look for an exactly feasible design with at most ``v`` job servers.

    Returns ``(placement, allocation)`` if one exists, ``False`` if the search proved there is none,
    ``None`` if it could not decide (pool too large, node limit or deadline)."""
    pool = pricer.enumerate(best.pi, best.piR, v - best.value + 1e-6, POOL_LIMIT, deadline=deadline)
    if pool is None:
        return None
    inst = ExactInstance.of(problem)
    cols = []
    for path in pool:
        servers = [int(segs.server[s]) for s in path]
        if len(set(servers)) != len(servers):
            continue  # not simple: cannot carry integer capacity
        ends = [int(segs.last[s]) for s in path]
        blocks = [e - p for e, p in zip(ends, [0] + ends[:-1])]
        cols.append((inst.chain_time(servers, blocks), tuple(path), tuple(servers), tuple(blocks)))
    cols.sort(key=lambda c: c[0])
    free: dict[int, int] = {}
    for _, path, servers, _ in cols:
        for s, j in zip(path, servers):
            if s not in free:
                free[s] = inst.slots(j, int(segs.last[s] - segs.first[s] + 1))
    choice: dict[int, int] = {}  # server → chosen segment
    caps = [0] * len(cols)
    nodes = [0]
    need0 = inst.target * (1 - RATE_REL_TOL)

    def dfs(k: int, need: Fraction, count: int):
        if need <= 0:
            return True
        if k == len(cols):
            return False
        nodes[0] += 1
        if nodes[0] > NODE_LIMIT or (nodes[0] % 4096 == 0 and time.perf_counter() > deadline):
            raise TimeoutError
        T, path, servers, blocks = cols[k]
        if count + math.ceil(need * T) > v:
            return False  # even v − count job servers on the fastest remaining chain fall short
        cmax = v - count
        for s, j, b in zip(path, servers, blocks):
            if choice.get(j, s) != s:
                cmax = 0
                break
            cmax = min(cmax, free[s] // b)
        for c in range(cmax, -1, -1):
            newly = []
            if c:
                for s, j, b in zip(path, servers, blocks):
                    if j not in choice:
                        choice[j] = s
                        newly.append(j)
                    free[s] -= b * c
            caps[k] = c
            if dfs(k + 1, need - Fraction(c) / T, count + c):
                return True
            caps[k] = 0
            if c:
                for s, b in zip(path, blocks):
                    free[s] += b * c
                for j in newly:
                    del choice[j]
        return False

    try:
        ok = dfs(0, need0, 0)
    except TimeoutError:
        return None
    if not ok:
        return False
    a = np.zeros(problem.num_servers, np.int64)
    m = np.zeros(problem.num_servers, np.int64)
    for j, s in choice.items():
        a[j] = segs.first[s]
        m[j] = segs.last[s] - segs.first[s] + 1
    chains = [Chain.build(problem, servers, blocks) for (_, _, servers, blocks), c in zip(cols, caps) if c > 0]
    return Placement(a, m), Allocation(tuple(chains), tuple(c for c in caps if c > 0))
