"""Local repair of a placement after servers leave or fail, or λ grows (SPEC §9, issue 11).

Start from the surviving placement (every present server keeps its range). For every chain of the
old design that went through a departed server (fastest chain first) and every maximal run of
departed servers on it, the *segment* of blocks e_prev+1 .. e_last that run processed must be
hosted again so the chain's surviving predecessor (ending at e_prev, or the dummy source) can reach
its surviving successor (which accepted block e_last + 1). Three options, each scored by GCA on the
tentative placement (Ω = Theorem-4 lower bound, or job servers) + δ·(s_m·new blocks / b̄):

- ``fill``: free servers (hosting nothing: unused or newly joined) host the segment — the single
  free server with the smallest τ^c + τ^p·n if one can hold all n blocks at the design's cache
  reservation c (m_j(c) ≥ n, Eq. 6), else free servers in GBP-CR order (increasing t̃_j(c), Eq. 8),
  each taking min(m_j(c), blocks left);
- ``widen-pred``: the predecessor extends its range to end at e_last (if m ≤ m_j(c));
- ``widen-succ``: the successor extends its range back to start at e_prev + 1 (if m ≤ m_j(c)).

Then, while GCA's ν falls short of λ/ρ̄, *extend*: GBP-CR (Alg. 1) at reservation c over the
still-free servers forms new chains for the deficit (tried with growing targets until ν suffices
or no free server is left). Servers that held blocks keep them, so only fillers, widened
neighbours and new chains load anything. Segments repeat across chains sharing a departed server
only when the chains entered it at different blocks.
"""

from __future__ import annotations

import numpy as np

from chaincomp.core.allocation import Allocation
from chaincomp.core.placement import Placement
from chaincomp.elastic.design import predicted, surviving_ranges
from chaincomp.heuristics.gbp_cr import amortized_times, chain_cut
from chaincomp.heuristics.gca import gca
from chaincomp.problem import Problem


def _score(problem: Problem, first, count, objective: str) -> tuple[float, float, Allocation]:
    pl = Placement(first, count)
    alloc = gca(problem, pl)
    return predicted(problem, alloc, objective), alloc.service_rate, alloc


def local_repair(
    old_problem: Problem,
    old_placement: Placement,
    old_allocation: Allocation,
    new_problem: Problem,
    cache_reservation: int,
    objective: str = "response",
    delta_per_block: float = 0.0,
) -> tuple[Placement, list[dict]]:
    """The repaired placement on ``new_problem`` and a log of the actions taken."""
    index = {sid: j for j, sid in enumerate(new_problem.server_ids)}
    J = new_problem.num_servers
    first, count = surviving_ranges(old_problem, old_placement, new_problem)
    c = int(cache_reservation)
    m_c, _, amort = amortized_times(new_problem, c)
    log: list[dict] = []
    done: set[tuple[int, int]] = set()

    def free_servers() -> list[int]:
        f = [j for j in range(J) if count[j] == 0 and m_c[j] > 0]
        return sorted(f, key=lambda j: (amort[j], j))

    for ch in old_allocation.chains:
        ids = [old_problem.server_ids[j] for j in ch.servers]
        ends = np.cumsum(ch.blocks)
        gone = [i not in index for i in ids]
        h = 0
        while h < len(ids):
            if not gone[h]:
                h += 1
                continue
            h1 = h
            while h1 + 1 < len(ids) and gone[h1 + 1]:
                h1 += 1
            e_prev = int(ends[h - 1]) if h > 0 else 0
            e_last = int(ends[h1])
            pred = index[ids[h - 1]] if h > 0 else None
            succ = index[ids[h1 + 1]] if h1 + 1 < len(ids) else None
            h = h1 + 1
            if (e_prev, e_last) in done:
                continue
            done.add((e_prev, e_last))
            options = []
            n = e_last - e_prev
            # fill
            free = free_servers()
            whole = [j for j in free if m_c[j] >= n]
            fillers: list[tuple[int, int, int]] = []
            if whole:
                j = min(whole, key=lambda j: (new_problem.tau_comm_s[j] + new_problem.tau_comp_s[j] * n, j))
                fillers = [(j, e_prev + 1, n)]
            else:
                at, left = e_prev + 1, n
                for j in free:
                    if left <= 0:
                        break
                    take = int(min(m_c[j], left))
                    fillers.append((j, at, take))
                    at += take
                    left -= take
                if left > 0:
                    fillers = []
            if fillers:
                f2, c2 = first.copy(), count.copy()
                for j, a, k in fillers:
                    f2[j], c2[j] = a, k
                options.append(("fill", f2, c2, n, [new_problem.server_ids[j] for j, _, _ in fillers]))
            if pred is not None and e_last - first[pred] + 1 <= m_c[pred]:
                f2, c2 = first.copy(), count.copy()
                c2[pred] = e_last - first[pred] + 1
                options.append(("widen-pred", f2, c2, int(c2[pred] - count[pred]), [new_problem.server_ids[pred]]))
            if succ is not None and count[succ] > 0:
                e_s = int(first[succ] + count[succ] - 1)
                if e_s - e_prev <= m_c[succ] and first[succ] > e_prev + 1:
                    f2, c2 = first.copy(), count.copy()
                    f2[succ], c2[succ] = e_prev + 1, e_s - e_prev
                    options.append(("widen-succ", f2, c2, int(c2[succ] - count[succ]), [new_problem.server_ids[succ]]))
            if not options:
                log.append({"action": "unrepaired", "blocks": [e_prev + 1, e_last],
                            "reason": "no free server or neighbour can host the segment at the design's reservation"})
                continue
            best = None
            for name, f2, c2, loaded, who in options:
                omega, _, _ = _score(new_problem, f2, c2, objective)
                s = omega + delta_per_block * loaded
                if best is None or s < best[0]:
                    best = (s, name, f2, c2, loaded, who)
            _, name, first, count, loaded, who = best
            log.append({"action": name, "blocks": [e_prev + 1, e_last], "servers": who, "load_blocks": loaded})

    # extend with new chains from free servers while ν < λ/ρ̄
    need = new_problem.required_rate
    _, nu, _ = _score(new_problem, first, count, objective)
    factor = 1.0
    while nu < need * (1 - 1e-12):
        free = free_servers()
        if not free:
            break
        sub = new_problem.subset(free)
        deficit = (need - nu) * factor
        greedy = chain_cut(sub.with_workload(arrival_rate=deficit * new_problem.target_load), c,
                           np.argsort(amort[free], kind="stable"))
        if greedy.num_chains == 0:
            break
        f2, c2 = first.copy(), count.copy()
        added = []
        for x, j in enumerate(free):
            if greedy.placement.num_blocks[x] > 0:
                f2[j], c2[j] = greedy.placement.first_block[x], greedy.placement.num_blocks[x]
                added.append(new_problem.server_ids[j])
        _, nu2, _ = _score(new_problem, f2, c2, objective)
        if nu2 >= need * (1 - 1e-12) or not greedy.feasible:
            first, count, nu = f2, c2, nu2
            log.append({"action": "extend", "chains": greedy.num_chains, "servers": added,
                        "load_blocks": int(sum(c2[index[s]] for s in added))})
            break
        factor *= 1.5
    return Placement(first, count), log
