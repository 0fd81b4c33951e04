"""The result of the column generation (:func:`chaincomp.formulations.colgen.solve_colgen`) and its
primal integral (issue 10: how fast the incumbent improves)."""

from __future__ import annotations

from dataclasses import dataclass, field

from chaincomp.core.allocation import Allocation
from chaincomp.core.placement import Placement


@dataclass
class ColgenResult:
    objective: str
    placement: Placement | None
    allocation: Allocation | None
    value: float | None  # incumbent objective (Σ c or ν)
    bound: float | None  # valid bound on the optimum (lower for job servers, upper for throughput)
    lp_bound: float | None
    lp_converged: bool
    proved_optimal: bool
    status: str
    label: str
    greedy_value: float | None
    incumbent_source: str = "greedy"
    phases: dict = field(default_factory=dict)
    size: dict = field(default_factory=dict)
    solver_name: str = "highs"
    solver_version: str = ""
    history: list = field(default_factory=list)  # (seconds since start, incumbent value) at each improvement


def primal_integral(history: list, value_final: float, t_end: float) -> float:
    """Primal integral ∫₀ᵀ (v(t) − v*)/v(t) dt in seconds: how long the search ran with a worse
    design than its final one v*, weighted by how much worse. ``history`` = (time, value) at each
    improvement; the integrand is 1 before the first incumbent."""
    total, prev_t, prev_v = 0.0, 0.0, None
    for t, v in list(history) + [(t_end, None)]:
        t = min(t, t_end)
        gap = 1.0 if prev_v is None else (prev_v - value_final) / prev_v
        total += gap * max(t - prev_t, 0.0)
        prev_t, prev_v = t, (v if v is not None else prev_v)
    return total
