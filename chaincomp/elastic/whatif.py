"""N−1 what-if analysis (SPEC §9): what a design keeps when a server (or a region) fails.

The design after losing the servers F keeps every chain not through F with its capacity c_k
(no re-planning); its ν = Σ μ_k c_k, C = Σ c_k, load λ/ν, stability (λ < ν), whether it still
meets λ/ρ̄, the job servers needed and the Theorem-4 bounds (SPEC §3.4) follow from those chains.
With ``repair`` each case also carries the :func:`~chaincomp.elastic.recompose.recompose` result for
that failure. A design is N−1 robust when every single-server case still meets λ/ρ̄.

``fail`` selects the cases: ``any`` (every server, one at a time), ``regions`` (every region label of
``meta.servers[].region``, all its servers at once), a server id, or a region label.
"""

from __future__ import annotations

import math
from typing import Any

from chaincomp.analysis.bounds import jffc_bounds
from chaincomp.core.allocation import Allocation
from chaincomp.core.solution import Solution
from chaincomp.elastic.events import Event, remove_servers, server_regions
from chaincomp.errors import UsageError


def failure_cases(solution: Solution, fail: str = "any") -> list[tuple[str, list[str]]]:
    """(label, failed server ids) per case."""
    p = solution.problem
    regions = server_regions(p)
    labels = sorted({r for r in regions.values() if r})
    if fail == "any":
        return [(sid, [sid]) for sid in p.server_ids]
    if fail == "regions":
        if not labels:
            raise UsageError("--fail regions: no server of this design has a region label (meta.servers[].region)")
        return [(r, [s for s, x in regions.items() if x == r]) for r in labels]
    if fail in p.server_ids:
        return [(fail, [fail])]
    if fail in labels:
        return [(fail, [s for s, x in regions.items() if x == fail])]
    hint = f"; regions: {', '.join(labels)}" if labels else " (this design has no region labels)"
    raise UsageError(f"--fail expects 'any', 'regions', a server id or a region label; {fail!r} is none of these{hint}")


def surviving_allocation(solution: Solution, failed: list[str]) -> Allocation:
    """Chains of the design not through any failed server, capacities kept (indices unchanged)."""
    p = solution.problem
    gone = {j for j, sid in enumerate(p.server_ids) if sid in set(failed)}
    keep = [(ch, c) for ch, c in zip(solution.allocation.chains, solution.allocation.capacities)
            if not gone.intersection(ch.servers)]
    return Allocation(tuple(ch for ch, _ in keep), tuple(c for _, c in keep))


def case_metrics(solution: Solution, failed: list[str]) -> dict[str, Any]:
    """The N−1 numbers of one case (module docstring)."""
    p = solution.problem
    alloc = surviving_allocation(solution, failed)
    nu = alloc.service_rate
    lam = p.arrival_rate
    b = jffc_bounds(lam, alloc.rates, alloc.capacity_array)
    js = alloc.job_servers_needed(p.required_rate)
    return {
        "failed": list(failed),
        "surviving_chains": len(alloc.chains),
        "lost_chains": len(solution.allocation.chains) - len(alloc.chains),
        "total_capacity": alloc.total_capacity,
        "service_rate": nu,
        "load": lam / nu if nu > 0 else None,
        "stable": bool(nu > lam),
        "meets_target": bool(nu > 0 and nu >= p.required_rate * (1 - 1e-12) and nu > lam),
        "job_servers": js,
        "response_time_lower_s": b.lower_s if math.isfinite(b.lower_s) else None,
        "response_time_upper_s": b.upper_s if math.isfinite(b.upper_s) else None,
    }


def whatif(solution: Solution, fail: str = "any", repair: bool = False, options=None) -> dict[str, Any]:
    """``cases`` (one per failure) and ``worst`` (the case with the smallest ν; ties: larger bound)."""
    cases = []
    for label, failed in failure_cases(solution, fail):
        case = {"case": label, **case_metrics(solution, failed)}
        if repair:
            from chaincomp.elastic.recompose import recompose

            new_problem = remove_servers(solution.problem, failed)
            ev = Event(0.0, "fail", failed[0]) if len(failed) == 1 else None
            step = recompose(solution, new_problem, options, ev)
            f = step.fields(step.chosen, step.solution)
            f.pop("moves")
            case["repair"] = {**f, "target_reachable": step.reachable, "message": step.message,
                              "from_scratch": {k: v for k, v in step.fields(step.from_scratch, step.from_scratch_solution).items() if k != "moves"},
                              "wall_time_s": step.wall_time_s}
        cases.append(case)
    worst = min(cases, key=lambda c: (c["service_rate"], -(c["response_time_lower_s"] or math.inf)))
    p = solution.problem
    return {
        "design": {"instance": p.name, "method": solution.method, "arrival_rate": p.arrival_rate,
                   "required_rate": p.required_rate, "service_rate": solution.allocation.service_rate},
        "fail": fail,
        "cases": cases,
        "worst": worst,
        "robust": all(c["meets_target"] for c in cases),
    }
