"""Failure-robust designs: ``chaincomp solve --robust 1`` (SPEC §9 "N−1"; issue 11).

A design is N−1 robust when, for every server j, the chains not through j still give
ν − Σ_{k∋j} μ_k c_k ≥ λ/ρ̄ (capacities kept, no re-planning — exactly what
:mod:`chaincomp.elastic.whatif` checks).

Greedy construction. For each cache reservation c = 1..c_max, Algorithm 1's pass (GBP-CR's server
order by t̃_j(c), the same chain-cutting rule) is run *without* its stopping rule, which lists the
server groups it would form one after another. The design with the first K groups (servers after
them host nothing) is completed by GCA (Alg. 2); K grows from GBP-CR's own K(c) until the N−1
worst case meets λ/ρ̄ — with GCA's chains, or with the groups themselves as disjoint chains
(:func:`disjoint_chains`; a failure then removes one chain only). Among the robust (c, K) the one with the smallest Theorem-4 lower bound
(at λ, no failure) wins — the same score ``solve`` tunes c by. If no (c, K) is robust — even with
every group — the design that maximizes the worst-case ν is returned and flagged
(``extra.robust.robust = false``), with a warning in the CLI.

The extra cost over the plain design (``chaincomp solve``'s) is stated in ``extra.robust``:
job servers, total capacity Σc, servers used and the predicted response (Theorem-4 lower bound).
"""

from __future__ import annotations

import math
import time

import numpy as np

from chaincomp.analysis.bounds import jffc_bounds
from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.exact import rate_beyond_any_design
from chaincomp.core.placement import Placement
from chaincomp.core.solution import Solution
from chaincomp.errors import InfeasibleInstance, NoDesignFound, UsageError
from chaincomp.heuristics.gbp_cr import amortized_times
from chaincomp.heuristics.gca import gca
from chaincomp.problem import Problem


def greedy_groups(problem: Problem, c: int) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
    """Algorithm 1's pass over all servers (no stopping rule): (first, count, groups in order)."""
    m_c, _, amort = amortized_times(problem, c)
    L = problem.num_blocks
    J = problem.num_servers
    first = np.zeros(J, dtype=np.int64)
    count = np.zeros(J, dtype=np.int64)
    groups, cur, a = [], [], 1
    for j in np.argsort(amort, kind="stable").tolist():
        mj = int(m_c[j])
        if mj == 0:
            continue
        first[j] = min(a, L - mj + 1)
        count[j] = mj
        cur.append(j)
        a = min(a + mj - 1, L) + 1
        if a > L:
            groups.append(cur)
            cur, a = [], 1
    return first, count, groups


def disjoint_chains(problem: Problem, placement: Placement, groups: list[list[int]]) -> Allocation:
    """Each GBP-CR group as one chain (Lemma 1), capacity min_j ⌊M̃_j / m_ij⌋ — disjoint chains, so a
    failure removes exactly one. The alternative to GCA's crossing chains for N−1 robustness."""
    slots = problem.residual_slots(placement.num_blocks)
    last = placement.last_block
    chains, caps = [], []
    for g in groups:
        ends = [int(last[j]) for j in g]
        blocks = [e - p for e, p in zip(ends, [0] + ends[:-1])]
        cap = min(int(slots[j]) // b for j, b in zip(g, blocks))
        if cap >= 1:
            chains.append(Chain.build(problem, g, blocks))
            caps.append(cap)
    return Allocation(tuple(chains), tuple(caps))


def worst_single_failure(problem: Problem, allocation: Allocation) -> tuple[float, str | None]:
    """min over servers j of ν − Σ_{k∋j} μ_k c_k, and the server attaining it."""
    nu = allocation.service_rate
    lost = np.zeros(problem.num_servers)
    for ch, c in zip(allocation.chains, allocation.capacities):
        for j in ch.servers:
            lost[j] += c / ch.service_time_s
    if problem.num_servers == 0:
        return nu, None
    j = int(np.argmax(lost))
    return nu - float(lost[j]), problem.server_ids[j]


def robust_design(problem: Problem, level: int = 1) -> Solution:
    """The N−1 robust greedy design (module docstring). Only ``level`` = 1 is implemented."""
    if level != 1:
        raise UsageError(f"--robust supports only 1 (any single server failure), got {level}")
    from chaincomp.heuristics.pipeline import solve_greedy

    t0 = time.perf_counter()
    need = problem.required_rate
    lam = problem.arrival_rate
    best = None  # (score, c, K, placement, allocation, worst_nu, worst_server)
    fallback = None  # (worst_nu, ...)
    for c in range(1, max(problem.max_cache_reservation, 0) + 1):
        first, count, groups = greedy_groups(problem, c)
        if not groups:
            continue
        t_c = problem.tau_comm_s + problem.tau_comp_s * problem.blocks_at_reservation(c)
        group_rate = np.cumsum([1.0 / sum(t_c[j] for j in g) for g in groups])
        k0 = int(np.searchsorted(group_rate * c, need * (1 - 1e-12)))  # GBP-CR's K(c) − 1 (Lemma 1)
        for K in range(min(max(k0 + 1, 1), len(groups)), len(groups) + 1):
            keep = [j for g in groups[:K] for j in g]
            f = np.zeros_like(first)
            m = np.zeros_like(count)
            f[keep], m[keep] = first[keep], count[keep]
            pl = Placement(f, m)
            found = False
            for alloc in (gca(problem, pl), disjoint_chains(problem, pl, groups[:K])):
                worst, who = worst_single_failure(problem, alloc)
                # the fallback (no design survives every failure) must still reach λ/ρ̄ with no failure
                if K == len(groups) and alloc.service_rate >= need * (1 - 1e-12) and (fallback is None or worst > fallback[0]):
                    fallback = (worst, c, K, pl, alloc, who)
                if worst >= need * (1 - 1e-12) and lam < worst:
                    score = jffc_bounds(lam, alloc.rates, alloc.capacity_array).lower_s
                    if best is None or score < best[0]:
                        best = (score, c, K, pl, alloc, worst, who)
                    found = True
            if found:
                break
    if best is None and fallback is None:
        proof = rate_beyond_any_design(problem)[0]
        if proof is not None:
            raise InfeasibleInstance(proof)
        raise NoDesignFound(
            f"no design found: the N−1 construction (GBP-CR's groups with GCA's or disjoint chains, every c) reaches "
            f"λ/ρ̄ = {need:.4g} job/s at no c even without a failure — not a proof of infeasibility; "
            "`chaincomp solve --method milp` may find a (not N−1 robust) design")
    robust = best is not None
    if robust:
        _, c, K, pl, alloc, worst, who = best
    else:
        worst, c, K, pl, alloc, who = fallback
    wall = time.perf_counter() - t0
    try:
        plain = solve_greedy(problem)
        pm = plain.metrics
        plain_info = {"cache_reservation": plain.parameters.get("cache_reservation"), "job_servers": pm["job_servers"],
                      "total_capacity": pm["total_capacity"], "servers_used": int(plain.placement.used.size),
                      "response_time_lower_s": pm["response_time_lower_s"],
                      "worst_single_failure_service_rate": worst_single_failure(problem, plain.allocation)[0]}
    except (InfeasibleInstance, NoDesignFound) as exc:  # no plain greedy design to compare with
        plain_info = {"infeasible": str(exc)}
    sol = Solution.create(problem, "greedy-robust", pl, alloc,
                          parameters={"cache_reservation": c, "robust": level, "groups": K}, wall_time_s=wall)
    rm = sol.metrics

    def diff(key):
        a, b = rm.get(key), plain_info.get(key)
        return None if a is None or b is None else a - b

    sol.extra["robust"] = {
        "level": level,
        "robust": robust,
        "worst_single_failure": {"server": who, "service_rate": worst, "required_rate": need},
        "servers_used": int(pl.used.size),
        "plain": plain_info,
        "extra_cost": {"job_servers": diff("job_servers"), "total_capacity": diff("total_capacity"),
                       "servers_used": None if "servers_used" not in plain_info else int(pl.used.size) - plain_info["servers_used"],
                       "response_time_lower_s": diff("response_time_lower_s")},
        "note": None if robust else (
            "no design of this construction survives every single failure; this one maximizes the worst-case ν"),
    }
    if not math.isfinite(worst):
        sol.extra["robust"]["worst_single_failure"]["service_rate"] = None
    return sol
