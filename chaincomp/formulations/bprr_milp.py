"""BPRR's exact MILP (SPEC §4.2: the BPRR paper's (13)) and its routing ILP for a fixed placement ((19)).

BPRR (Sun, He, Ji, Parag, IFIP Performance 2025, arXiv 2512.21884) designs for |R| requests that
are in the system at the same time: every request r is routed on its own server chain through the
placement, every server hosts one contiguous block range, and memory must hold the hosted blocks
plus one cache slot per block a server processes for each request. The objective is the mean
per-request service time (Eq. 2 along each request's chain).

**What is transcribed and what is reconstructed.** The BPRR paper's text was not available to this
toolkit (only its abstract and SPEC §4.2's one-line description). The model below is written from
that description — "per-request routing binaries with McCormick products; placement variables;
memory with cache per request; minimize the mean per-request service time" — in this toolkit's
notation (SPEC §1). Its variables, constraint numbering and big-M values are this toolkit's own;
the equation numbers (13)/(19) refer to the paper only by the SPEC's description. Exactness is
*proved on tiny instances against brute force* (tests/baselines/test_bprr_milp.py: every
placement × every multiset of |R| chains), not assumed from the paper.

Exact MILP (:func:`build_bprr_milp`, "(13)")
-------------------------------------------
Servers j ∈ 𝒥, a source s (the dummy j₀: a = 0, m = 1) and a sink t (j_{J+1}: a = L+1).

* Placement: z_{j,m} ∈ {0,1} for m = 0..L (one-hot: Σ_m z_{j,m} = 1), m_j = Σ_m m·z_{j,m}; only
  m with M̃_j(m) = ⌊(M_j − s_m m)/s_c⌋ ≥ 1 are allowed (a server that cannot cache one block for
  one request is useless, so "unused" covers it). First block a_j ∈ {1..L} integer with
  a_j + m_j ≤ L + 1.
* Routing: per request r, binaries f^r_{sj}, f^r_{ij} (i ≠ j), f^r_{it}: one unit of flow s → t,
  conservation at every server, in-flow ≤ 1 − z_{j,0} (only used servers are visited).
* Chain rule (SPEC §1) when f^r_{ij} = 1, by big-M: a_j ≤ a_i + m_i (M = L) and
  a_i + m_i ≤ a_j + m_j − 1 (M = L + 1); from s: a_j ≤ 1 (M = L); into t: a_i + m_i − 1 ≥ L.
  The last block strictly increases along a chain, so flows are acyclic and each server appears
  at most once per chain.
* McCormick products: g^r_{ij} = f^r_{ij} · D_{ij}, D_{ij} = a_j + m_j − a_i − m_i ∈ [−L, L] (the
  blocks j processes after i): g ≤ L f, g ≥ 0, g ≥ D − L(1 − f), g ≤ D + L(1 − f) — exact because
  f is binary. From the source g^r_{sj} = f^r_{sj} · m_j (m_j ∈ [0, L]), same envelope.
* Memory in slot units (the tolerant floor is precomputed per m, so no float round-off decides
  feasibility): Σ_r (g^r_{sj} + Σ_i g^r_{ij}) ≤ Σ_m M̃_j(m) z_{j,m}.
* Objective: (1/|R|) Σ_r Σ_j [τ^c_j (f^r_{sj} + Σ_i f^r_{ij}) + τ^p_j (g^r_{sj} + Σ_i g^r_{ij})].
* Symmetry breaking (valid: requests are interchangeable): T_r ≤ T_{r+1}.

Size: |R|·(J+1)² routing binaries and as many continuous products, J·(L+1) placement binaries —
small instances only (:func:`check_size`: J ≤ 6, L ≤ 16, |R|·(J+1)² ≤ 250).

Routing ILP for a fixed placement (:func:`build_routing_ilp`, "(19)")
---------------------------------------------------------------------
With (a, m) fixed the products are constants m_ij, so the chain rule and McCormick rows disappear:
per-request binaries f^r_e on the edges e of the routing DAG 𝒢_{a,m}, one s → t path each, memory
Σ_r Σ_{e into j} m_e f^r_e ≤ M̃_j, objective the mean service time, T_r ≤ T_{r+1}.
``formulation="aggregated"`` uses integer edge flows x_e = Σ_r f^r_e ∈ {0..|R|} instead: memory and
objective depend on the f's only through x, and an integer s → t flow of value |R| in a DAG
decomposes into |R| paths, so it is exact too (and far smaller); both are tested against brute
force.

Solutions: the placement, and one chain per distinct request path with capacity = the number of
requests routed on it (an :class:`~chaincomp.core.allocation.Allocation` that satisfies Eq. 3, so
the verifier checks it like any other).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.placement import Placement
from chaincomp.errors import InfeasibleInstance, UsageError
from chaincomp.problem import Problem
from chaincomp.solvers import MilpModel, SolveResult, solve

#: size limits of the exact MILP (its big-M LP bound is weak: measured with HiGHS on this machine,
#: J = 4, L = 4, |R| = 4 takes ~9 s, J = 5, L = 6, |R| = 4 ~26 s, J = 6, L = 8, |R| = 5 stops at 60 s with a
#: 57 % gap): at most MAX_SERVERS servers, MAX_BLOCKS blocks and |R|·(J+1)² ≤ MAX_ROUTING_BINARIES
MAX_SERVERS = 6
MAX_BLOCKS = 16
MAX_ROUTING_BINARIES = 250
#: and of the fixed-placement per-request ILP: |R|·|edges|
MAX_FIXED_BINARIES = 200_000
FORMULATIONS = ("per-request", "aggregated")


def _slots_by_count(problem: Problem) -> np.ndarray:
    """M̃_j(m) for m = 0..L (J × (L+1)), the tolerant floor of Eq. 3's right-hand side."""
    L = problem.num_blocks
    return np.stack([problem.residual_slots(np.full(problem.num_servers, m)) for m in range(L + 1)], axis=1)


def check_size(problem: Problem, num_requests: int) -> None:
    """UsageError when the instance is beyond the exact MILP's size limits (module constants)."""
    J, L = problem.num_servers, problem.num_blocks
    n = int(num_requests) * (J + 1) ** 2
    if J > MAX_SERVERS or L > MAX_BLOCKS or n > MAX_ROUTING_BINARIES:
        raise UsageError(
            f"BPRR's exact MILP is for small instances: at most {MAX_SERVERS} servers, {MAX_BLOCKS} blocks and "
            f"|R|·(J+1)² ≤ {MAX_ROUTING_BINARIES} routing binaries; this one has J = {J}, L = {L}, "
            f"|R|·(J+1)² = {num_requests}·{J + 1}² = {n}. Use method 'bprr' (heuristic) or 'bprr-ilp' "
            f"(its placement + the exact routing ILP (19)), or a smaller |R| (option design_concurrency)"
        )


@dataclass
class BprrMilpResult:
    placement: Placement | None
    allocation: Allocation | None
    mean_time_s: float | None  # mean per-request service time of the returned routing
    result: SolveResult
    bound_s: float | None = None  # valid lower bound on the optimal mean time
    info: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------
# exact MILP ("(13)")
# ------------------------------------------------------------------------------------------------
def build_bprr_milp(problem: Problem, num_requests: int, symmetry: bool = True) -> MilpModel:
    """The exact joint placement + per-request routing MILP (module docstring)."""
    R = int(num_requests)
    if R < 1:
        raise UsageError(f"|R| must be ≥ 1, got {num_requests}")
    J, L = problem.num_servers, problem.num_blocks
    slots = _slots_by_count(problem)  # J × (L+1)
    allowed = slots >= 1
    allowed[:, 0] = True
    tc, tp = problem.tau_comm_s, problem.tau_comp_s
    m = MilpModel("bprr_milp", "min")

    z = m.add_vars("z", (J, L + 1), lb=0, ub=allowed.astype(float), integer=True)
    a = m.add_vars("a", J, lb=1, ub=L, integer=True)
    off = ~np.eye(J, dtype=bool)
    # objective (mean over requests): τ^c_j per entry into j, τ^p_j per block j processes
    fs = m.add_vars("fs", (R, J), lb=0, ub=1, integer=True, obj=np.broadcast_to(tc / R, (R, J)))
    f = m.add_vars("f", (R, J, J), lb=0, ub=np.broadcast_to(off, (R, J, J)).astype(float), integer=True,
                   obj=np.broadcast_to(tc / R, (R, J, J)))
    ft = m.add_vars("ft", (R, J), lb=0, ub=1, integer=True)
    gs = m.add_vars("gs", (R, J), lb=0, ub=L, obj=np.broadcast_to(tp / R, (R, J)))
    g = m.add_vars("g", (R, J, J), lb=0, ub=np.broadcast_to(off, (R, J, J)).astype(float) * L,
                   obj=np.broadcast_to(tp / R, (R, J, J)))

    mcount = np.arange(L + 1, dtype=float)
    # placement: one-hot, a_j + m_j ≤ L + 1
    for j in range(J):
        m.add_row("one_hot", z[j], np.ones(L + 1), 1, 1)
        m.add_row("range", np.r_[a[j], z[j]], np.r_[1.0, mcount], -math.inf, L + 1)

    def mj(j):  # (cols, vals) of m_j
        return list(z[j]), list(mcount)

    for r in range(R):
        # flow
        m.add_row("source", fs[r], np.ones(J), 1, 1)
        m.add_row("sink", ft[r], np.ones(J), 1, 1)
        for j in range(J):
            ins = [fs[r, j]] + [f[r, i, j] for i in range(J) if i != j]
            outs = [ft[r, j]] + [f[r, j, k] for k in range(J) if k != j]
            m.add_row("flow", ins + outs, [1.0] * len(ins) + [-1.0] * len(outs), 0, 0)
            m.add_row("visit", ins + [z[j, 0]], [1.0] * (len(ins) + 1), -math.inf, 1)
            # source edge: a_j ≤ 1 + L(1 − fs)
            m.add_row("rule_source", [a[j], fs[r, j]], [1.0, L], -math.inf, 1 + L)
            # sink edge: a_j + m_j − 1 ≥ L·ft
            zc, zv = mj(j)
            m.add_row("rule_sink", [a[j], ft[r, j]] + zc, [1.0, -L] + zv, 1, math.inf)
            # McCormick gs = fs · m_j  (m_j ∈ [0, L])
            m.add_row("mc_s_up1", [gs[r, j], fs[r, j]], [1.0, -L], -math.inf, 0)
            m.add_row("mc_s_up2", [gs[r, j]] + zc, [1.0] + [-v for v in zv], -math.inf, 0)
            m.add_row("mc_s_lo", [gs[r, j]] + zc + [fs[r, j]], [1.0] + [-v for v in zv] + [-L], -L, math.inf)
            for i in range(J):
                if i == j:
                    continue
                zi_c, zi_v = mj(i)
                # D_ij = a_j + m_j − a_i − m_i as (cols, vals)
                dc = [a[j]] + zc + [a[i]] + zi_c
                dv = [1.0] + zv + [-1.0] + [-v for v in zi_v]
                fij = f[r, i, j]
                # chain rule: a_j − a_i − m_i ≤ L(1 − f)
                m.add_row("rule_a", [a[j], a[i], fij] + zi_c, [1.0, -1.0, L] + [-v for v in zi_v], -math.inf, L)
                # D ≥ 1 − (L + 1)(1 − f)  ⇔  D − (L + 1) f ≥ −L
                m.add_row("rule_e", dc + [fij], dv + [-(L + 1.0)], -L, math.inf)
                # McCormick g = f · D, D ∈ [−L, L]
                m.add_row("mc_up1", [g[r, i, j], fij], [1.0, -L], -math.inf, 0)
                m.add_row("mc_lo", [g[r, i, j]] + dc + [fij], [1.0] + [-v for v in dv] + [-L], -L, math.inf)
                m.add_row("mc_up2", [g[r, i, j]] + dc + [fij], [1.0] + [-v for v in dv] + [L], -math.inf, L)
    # memory in slots: Σ_r (gs + Σ_i g) − Σ_m M̃_j(m) z_{j,m} ≤ 0
    for j in range(J):
        cols = list(gs[:, j]) + [g[r, i, j] for r in range(R) for i in range(J) if i != j] + list(z[j])
        cap = np.where(allowed[j], slots[j], 0).astype(float)
        cap[0] = 0.0  # an unused server caches nothing
        vals = [1.0] * (R + R * (J - 1)) + list(-cap)
        m.add_row("memory", cols, vals, -math.inf, 0)
    if symmetry:
        for r in range(R - 1):
            cols, vals = [], []
            for rr, sgn in ((r, 1.0), (r + 1, -1.0)):
                cols += list(fs[rr]) + list(f[rr].reshape(-1)) + list(gs[rr]) + list(g[rr].reshape(-1))
                vals += list(sgn * tc) + list(sgn * np.broadcast_to(tc, (J, J)).reshape(-1)) + \
                    list(sgn * tp) + list(sgn * np.broadcast_to(tp, (J, J)).reshape(-1))
            m.add_row("symmetry", cols, vals, -math.inf, 0)
    return m


def _paths_to_allocation(problem: Problem, placement: Placement, paths: list[tuple[int, ...]]) -> Allocation:
    """Group identical request paths into chains with capacity = their count."""
    counts: dict[tuple[int, ...], int] = {}
    for p in paths:
        counts[p] = counts.get(p, 0) + 1
    last = placement.last_block
    chains, caps = [], []
    for path, c in counts.items():
        ends = [0] + [int(last[j]) for j in path]
        chains.append(Chain.build(problem, path, np.diff(ends)))
        caps.append(c)
    order = sorted(range(len(chains)), key=lambda k: chains[k].service_time_s)
    return Allocation(tuple(chains[k] for k in order), tuple(caps[k] for k in order))


def solve_bprr_milp(problem: Problem, num_requests: int, solver: str = "highs", symmetry: bool = True,
                    **options) -> BprrMilpResult:
    """Solve the exact MILP; ``options`` are :class:`~chaincomp.solvers.SolveOptions` fields."""
    check_size(problem, num_requests)
    R, L = int(num_requests), problem.num_blocks
    model = build_bprr_milp(problem, R, symmetry)
    res = solve(model, solver, label=options.pop("label", "BPRR MILP"), **options)
    if res.status == "infeasible":
        raise InfeasibleInstance(f"BPRR MILP: no placement serves |R| = {R} concurrent requests within memory")
    if not res.has_solution:
        return BprrMilpResult(None, None, None, res, res.bound)
    x = res.values
    z = np.round(x[model.block("z")]).astype(int)
    mvals = z.argmax(axis=1)
    avals = np.round(x[model.block("a")]).astype(int)
    placement = Placement(np.where(mvals > 0, avals, 0), mvals)
    fs = np.round(x[model.block("fs")]).astype(int)
    f = np.round(x[model.block("f")]).astype(int)
    paths = []
    for r in range(R):
        j = int(np.flatnonzero(fs[r])[0])
        path = [j]
        while placement.last_block[j] < L:
            j = int(np.flatnonzero(f[r, j])[0])
            path.append(j)
        paths.append(tuple(path))
    alloc = _paths_to_allocation(problem, placement, paths)
    mean = sum(ch.service_time_s * c for ch, c in zip(alloc.chains, alloc.capacities)) / R
    return BprrMilpResult(placement, alloc, mean, res, res.bound,
                          {"num_requests": R, "model": model.size(), "formulation": "bprr-milp (13), reconstructed"})


# ------------------------------------------------------------------------------------------------
# routing ILP for a fixed placement ("(19)")
# ------------------------------------------------------------------------------------------------
def routing_edges(problem: Problem, placement: Placement) -> list[tuple[int, int, int]]:
    """Edges (i, j, blocks j processes) of 𝒢_{a,m}; i = −1 is the source j₀, j = J the sink."""
    L, J = problem.num_blocks, problem.num_servers
    first, last = placement.first_block, placement.last_block
    used = [int(j) for j in placement.used]
    edges = [(-1, j, int(last[j])) for j in used if first[j] == 1]
    for i in used:
        for j in used:
            if i != j and first[j] <= last[i] + 1 <= last[j]:
                edges.append((i, j, int(last[j] - last[i])))
    edges += [(i, J, 0) for i in used if last[i] == L]
    return edges


def build_routing_ilp(problem: Problem, placement: Placement, num_requests: int,
                      formulation: str = "per-request", symmetry: bool = True) -> tuple[MilpModel, list]:
    """(19): route |R| requests on the fixed placement's DAG, memory per server, min mean time."""
    if formulation not in FORMULATIONS:
        raise UsageError(f"unknown routing formulation {formulation!r}; choose one of {', '.join(FORMULATIONS)}")
    R, J = int(num_requests), problem.num_servers
    if R < 1:
        raise UsageError(f"|R| must be ≥ 1, got {num_requests}")
    edges = routing_edges(problem, placement)
    E = len(edges)
    slots = problem.residual_slots(placement.num_blocks)
    cost = np.array([(problem.tau_comm_s[j] + problem.tau_comp_s[j] * b) if j < J else 0.0 for _, j, b in edges])
    blocks = np.array([b for _, _, b in edges], float)
    heads = np.array([j for _, j, _ in edges])
    tails = np.array([i for i, _, _ in edges])
    m = MilpModel(f"bprr_routing_{formulation}", "min")
    nodes = sorted({int(j) for j in placement.used})
    if formulation == "aggregated":
        x = m.add_vars("x", E, lb=0, ub=R, integer=True, obj=cost / R)
        groups = [x]
        amount = [float(R)]
    else:
        if R * E > MAX_FIXED_BINARIES:
            raise UsageError(f"routing ILP (per-request): |R|·|edges| = {R * E} binaries exceeds {MAX_FIXED_BINARIES}; "
                             f"use formulation 'aggregated' (exact, integer edge flows)")
        x = m.add_vars("f", (R, E), lb=0, ub=1, integer=True, obj=np.broadcast_to(cost / R, (R, E)))
        groups = list(x)
        amount = [1.0] * R
    for xs, amt in zip(groups, amount):
        m.add_row("source", xs[tails == -1], 1.0, amt, amt)
        for j in nodes:
            ins, outs = xs[heads == j], xs[tails == j]
            m.add_row("flow", np.r_[ins, outs], np.r_[np.ones(ins.size), -np.ones(outs.size)], 0, 0)
    for j in nodes:
        into = np.flatnonzero(heads == j)
        cols = np.concatenate([xs[into] for xs in groups])
        vals = np.tile(blocks[into], len(groups))
        m.add_row("memory", cols, vals, -math.inf, float(slots[j]))
    if formulation == "per-request" and symmetry:
        for r in range(R - 1):
            m.add_row("symmetry", np.r_[x[r], x[r + 1]], np.r_[cost, -cost], -math.inf, 0)
    return m, edges


def _decompose(edges, flow: np.ndarray, J: int) -> list[tuple[int, ...]]:
    """Integer s → t edge flow on a DAG → list of paths (one per unit)."""
    flow = flow.astype(int).copy()
    out_of: dict[int, list[int]] = {}
    for e, (i, _, _) in enumerate(edges):
        out_of.setdefault(i, []).append(e)
    paths = []
    while True:
        start = next((e for e in out_of.get(-1, []) if flow[e] > 0), None)
        if start is None:
            return paths
        path, e = [], start
        while True:
            flow[e] -= 1
            j = edges[e][1]
            if j == J:
                break
            path.append(j)
            e = next(e2 for e2 in out_of[j] if flow[e2] > 0)
        paths.append(tuple(path))


def solve_routing(problem: Problem, placement: Placement, num_requests: int, solver: str = "highs",
                  formulation: str = "per-request", symmetry: bool = True, **options) -> BprrMilpResult:
    """Optimal routing of |R| concurrent requests on a fixed placement ((19)); raises if none fits."""
    R, J = int(num_requests), problem.num_servers
    model, edges = build_routing_ilp(problem, placement, R, formulation, symmetry)
    if not any(i == -1 for i, _, _ in edges) or not any(j == J for _, j, _ in edges):
        raise InfeasibleInstance("the placement forms no chain (no path from block 1 to block L)")
    res = solve(model, solver, label=options.pop("label", "BPRR routing ILP"), **options)
    if res.status == "infeasible":
        raise InfeasibleInstance(f"the placement cannot hold the cache of |R| = {R} concurrent requests")
    if not res.has_solution:
        return BprrMilpResult(placement, None, None, res, res.bound)
    vals = np.round(res.values).astype(int)
    if formulation == "aggregated":
        paths = _decompose(edges, vals[model.block("x")], J)
    else:
        fr = vals[model.block("f")]
        paths = [p for r in range(R) for p in _decompose(edges, fr[r], J)]
    alloc = _paths_to_allocation(problem, placement, paths)
    mean = sum(ch.service_time_s * c for ch, c in zip(alloc.chains, alloc.capacities)) / R
    return BprrMilpResult(placement, alloc, mean, res, res.bound,
                          {"num_requests": R, "model": model.size(), "formulation": f"routing ILP (19), {formulation}",
                           "edges": len(edges)})
