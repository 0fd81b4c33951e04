"""SPEC §2.2 — cache allocation for fixed chains, the paper's "Optimal ILP" (a multidimensional knapsack).

Given a placement and chains k (μ_k = 1/T_k, per-server slot use w_jk = m_ij when k enters j from i)::

    min Σ_k c_k   s.t.  Σ_k μ_k c_k ≥ λ/ρ̄,   Σ_k w_jk c_k ≤ M̃_j  ∀ j,   c_k ∈ ℕ

``variant="memory"`` (default) keeps the per-server memory rows — the true MKP (Theorem 1: NP-hard).
``variant="chain-cap"`` is the weaker variant: each c_k is bounded only by ``caps[k]`` (default: the
chain's capacity in the allocation passed in, e.g. GCA's c_k) and there are no memory rows. With
GCA's capacities every choice c ≤ cap is memory-feasible, because GCA subtracts each chain's slots
before the next; with other caps the result may violate memory (the verifier will say so).

``objective="throughput"`` maximizes ν = Σ μ_k c_k under the memory rows instead (no rate row).
"""

from __future__ import annotations


import numpy as np

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.placement import Placement
from chaincomp.errors import InfeasibleInstance, UsageError
from chaincomp.problem import Problem
from chaincomp.solvers import MilpModel, SolveResult, solve
from chaincomp.solvers.base import no_solution_error

VARIANTS = ("memory", "chain-cap")


def all_chains(problem: Problem, placement: Placement, limit: int = 100_000) -> list[Chain]:
    """Every j₀ → j_{J+1} path of the routing DAG 𝒢_{a,m} (SPEC §1), by DFS; raises if > ``limit``."""
    L = problem.num_blocks
    used = [int(j) for j in placement.used]
    first, last = placement.first_block, placement.last_block
    succ: dict = {None: [j for j in used if first[j] == 1]}
    for i in used:
        succ[i] = [j for j in used if j != i and first[j] <= last[i] + 1 <= last[j]]
    out: list[Chain] = []
    stack = [(j, (j,)) for j in reversed(succ[None])]
    while stack:
        j, path = stack.pop()
        if last[j] == L:
            ends = [0] + [int(last[s]) for s in path]
            out.append(Chain.build(problem, path, np.diff(ends)))
            if len(out) > limit:
                raise UsageError(f"the placement has more than {limit} chains; pass an explicit chain set")
        for nxt in succ[j]:
            stack.append((nxt, path + (nxt,)))
    return out


def build(
    problem: Problem,
    placement: Placement,
    chains: list[Chain],
    variant: str = "memory",
    caps: list[int] | None = None,
    objective: str = "job-servers",
    upper: int | None = None,
) -> MilpModel:
    """The §2.2 model over ``chains`` (variable block ``c``, rows ``rate`` and ``memory``)."""
    if variant not in VARIANTS:
        raise UsageError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    K, J = len(chains), problem.num_servers
    slots = problem.residual_slots(placement.num_blocks)
    w = np.zeros((J, K))
    for k, ch in enumerate(chains):
        for j, b in zip(ch.servers, ch.blocks):
            w[j, k] += b
    # per-chain bound from memory alone (valid in both variants; tightens the LP)
    with np.errstate(divide="ignore"):
        mem_cap = np.floor(np.min(np.where(w > 0, slots[:, None] / np.where(w > 0, w, 1), np.inf), axis=0) + 1e-9)
    ub = mem_cap if variant == "memory" else np.asarray(caps if caps is not None else mem_cap, float)
    if upper is not None:
        ub = np.minimum(ub, upper)
    mu = np.array([ch.rate for ch in chains])
    sense = "max" if objective == "throughput" else "min"
    m = MilpModel("cache_allocation", sense)
    c = m.add_vars("c", K, lb=0, ub=ub, integer=True, obj=mu if objective == "throughput" else 1.0)
    if objective != "throughput":
        m.add_row("rate", c, mu, lower=problem.required_rate)
    if variant == "memory":
        rows, cols = np.nonzero(w)
        m.add_rows("memory", rows, c[cols], w[rows, cols], np.full(J, -np.inf), slots.astype(float))
    return m


def solve_allocation(
    problem: Problem,
    placement: Placement,
    chains: list[Chain] | None = None,
    variant: str = "memory",
    caps: list[int] | None = None,
    objective: str = "job-servers",
    solver: str = "highs",
    start: dict | None = None,
    **options,
) -> tuple[Allocation, SolveResult]:
    """Solve §2.2 over ``chains`` (default: all chains of the placement). ``start``: {chain index: c}."""
    chains = list(chains) if chains is not None else all_chains(problem, placement)
    if not chains:
        raise InfeasibleInstance("the placement forms no chain (no path from block 1 to block L)")
    model = build(problem, placement, chains, variant, caps, objective)
    if start is not None:
        x = np.zeros(model.num_cols)
        for k, v in start.items():
            x[model.block("c")[k]] = v
        if model.violation(x) <= 1e-9:
            model.set_start(x)
    res = solve(model, solver, **options)
    if res.status == "infeasible":
        raise InfeasibleInstance(
            f"the {len(chains)} chains cannot reach λ/ρ̄ = {problem.required_rate:.4g} job/s within memory"
        )
    if not res.has_solution:
        raise no_solution_error(res, "the §2.2 allocation ILP")
    cvals = np.round(res.values[model.block("c")]).astype(int)
    keep = [k for k in range(len(chains)) if cvals[k] > 0]
    return Allocation(tuple(chains[k] for k in keep), tuple(int(cvals[k]) for k in keep)), res
