"""Independent verifier: re-checks any placement + allocation from first principles (SPEC §8).

It shares no code with the algorithms that produce solutions beyond the :class:`Problem` fields:
ranges, the chain rule, memory and all metrics are recomputed here directly from the definitions.

Checks
------
1. Placement: 0 ≤ m_j ≤ L; for m_j > 0, 1 ≤ a_j and a_j + m_j − 1 ≤ L.
2. Chains: non-empty; first server hosts block 1 (a_j = 1) and processes e_j blocks; every hop
   (i, j) satisfies a_j ≤ e_i + 1 ≤ e_j and processes m_ij = e_j − e_i blocks; the last server
   ends at L; a server appears at most once; capacities are integers ≥ 1.
3. Memory (Eq. 3): s_m m_j + s_c Σ_k Σ_{hops into j} m_ij c_k ≤ M_j (tolerance 1e-9 relative),
   equivalently reserved slots ≤ ⌊(M_j − s_m m_j)/s_c⌋.
4. Times (Eq. 2): the stated T_k equals Σ (τ^c_j + τ^p_j m_ij) (1e-9 relative).
5. Metrics, when present: ν (Eq. 4), C = Σ c_k, load λ/ν and job servers are recomputed and compared.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from chaincomp.errors import VerificationError

if TYPE_CHECKING:  # pragma: no cover
    from chaincomp.core.solution import Solution

REL_TOL = 1e-9


def _close(a: float, b: float, tol: float = REL_TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def verify_solution(solution: "Solution") -> list[str]:
    """Return every violation found (empty list: the solution is valid)."""
    p = solution.problem
    L = p.num_blocks
    J = p.num_servers
    names = p.server_ids
    first = [int(x) for x in solution.placement.first_block]
    count = [int(x) for x in solution.placement.num_blocks]
    errors: list[str] = []
    if len(first) != J or len(count) != J:
        return [f"placement has {len(count)} entries for {J} servers"]

    # 1. placement ranges
    for j in range(J):
        if count[j] < 0 or count[j] > L:
            errors.append(f"server {names[j]}: num_blocks {count[j]} outside 0..{L}")
        elif count[j] > 0 and (first[j] < 1 or first[j] + count[j] - 1 > L):
            errors.append(f"server {names[j]}: blocks {first[j]}..{first[j] + count[j] - 1} outside 1..{L}")
    if errors:
        return errors
    last = [first[j] + count[j] - 1 for j in range(J)]

    # 2. chains and 4. times
    slots_used = [0] * J
    for k, (chain, cap) in enumerate(zip(solution.allocation.chains, solution.allocation.capacities)):
        label = f"chain {k + 1} ({' → '.join(names[s] for s in chain.servers if 0 <= s < J)})"
        if not chain.servers:
            errors.append(f"{label}: empty")
            continue
        if len(chain.servers) != len(chain.blocks):
            errors.append(f"{label}: {len(chain.servers)} servers but {len(chain.blocks)} block counts")
            continue
        if any(not (0 <= s < J) for s in chain.servers):
            errors.append(f"{label}: unknown server index")
            continue
        if len(set(chain.servers)) != len(chain.servers):
            errors.append(f"{label}: a server appears twice")
        if int(cap) != cap or cap < 1:
            errors.append(f"{label}: capacity {cap} is not an integer ≥ 1")
        prev_end = 0
        total = 0.0
        for h, (j, b) in enumerate(zip(chain.servers, chain.blocks)):
            if count[j] == 0:
                errors.append(f"{label}: server {names[j]} hosts no blocks")
                break
            if not (first[j] <= prev_end + 1 <= last[j]):
                where = "the first block" if h == 0 else f"block {prev_end + 1} after {names[chain.servers[h - 1]]}"
                errors.append(
                    f"{label}: server {names[j]} (blocks {first[j]}..{last[j]}) cannot process {where}"
                )
                break
            need = last[j] - prev_end
            if b != need:
                errors.append(f"{label}: server {names[j]} processes {need} blocks, chain says {b}")
            slots_used[j] += need * int(cap)
            total += float(p.tau_comm_s[j]) + float(p.tau_comp_s[j]) * need
            prev_end = last[j]
        else:
            if prev_end != L:
                errors.append(f"{label}: ends at block {prev_end}, not {L}")
            if not _close(total, chain.service_time_s):
                errors.append(f"{label}: service time {chain.service_time_s:.12g} s, recomputed {total:.12g} s")

    # 3. memory
    for j in range(J):
        used_gb = p.block_size_gb * count[j] + p.cache_size_gb * slots_used[j]
        if used_gb > float(p.memory_gb[j]) * (1 + REL_TOL) + 1e-9:
            errors.append(
                f"server {names[j]}: needs {used_gb:.6g} GB ({count[j]} blocks + {slots_used[j]} cache slots) "
                f"> memory {float(p.memory_gb[j]):.6g} GB"
            )

    # 5. metrics
    m = solution.metrics or {}
    caps = solution.allocation.capacities
    nu = sum(c / ch.service_time_s for ch, c in zip(solution.allocation.chains, caps) if ch.service_time_s > 0)
    if "service_rate" in m and m["service_rate"] is not None and not _close(float(m["service_rate"]), nu):
        errors.append(f"metrics.service_rate {m['service_rate']} ≠ recomputed ν = {nu:.12g}")
    if "total_capacity" in m and m["total_capacity"] is not None and int(m["total_capacity"]) != sum(caps):
        errors.append(f"metrics.total_capacity {m['total_capacity']} ≠ Σ c_k = {sum(caps)}")
    if m.get("load") is not None and nu > 0 and not _close(float(m["load"]), p.arrival_rate / nu):
        errors.append(f"metrics.load {m['load']} ≠ λ/ν = {p.arrival_rate / nu:.12g}")
    if m.get("surrogate_response_time_s") is not None and p.arrival_rate > 0 \
            and not _close(float(m["surrogate_response_time_s"]), sum(caps) / p.arrival_rate):
        errors.append(f"metrics.surrogate_response_time_s {m['surrogate_response_time_s']} ≠ Σc/λ = "
                      f"{sum(caps) / p.arrival_rate:.12g}")
    if m.get("job_servers") is not None:
        expected = _job_servers(solution, p.arrival_rate / p.target_load)
        if expected is not None and int(m["job_servers"]) != expected:
            errors.append(f"metrics.job_servers {m['job_servers']} ≠ recomputed {expected}")
    return errors


def _job_servers(solution: "Solution", required: float) -> int | None:
    """Job servers needed, fastest chains first, the last chain only partly (SPEC §3.2)."""
    pairs = sorted(
        ((1.0 / ch.service_time_s, c) for ch, c in zip(solution.allocation.chains, solution.allocation.capacities)),
        key=lambda x: -x[0],
    )
    need, count = required, 0
    for mu, c in pairs:
        if need <= 1e-12 * max(1.0, required):
            return count
        if mu * c >= need:
            return count + max(1, math.ceil(need / mu - 1e-9))
        need -= mu * c
        count += c
    return count if need <= 1e-12 * max(1.0, required) else None


def assert_valid(solution: "Solution") -> None:
    """Raise :class:`VerificationError` listing every violation."""
    errors = verify_solution(solution)
    if errors:
        raise VerificationError("solution failed verification:\n  - " + "\n  - ".join(errors))
