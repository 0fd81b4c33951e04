"""Exact feasibility of a design (SPEC §1, Eqs. 2–4), in rational arithmetic.

Every design a registered method emits is re-checked here before it leaves the library (see
:func:`finalize`, applied by :func:`chaincomp.methods.register`), and the verifier
(:mod:`chaincomp.core.verify`) decides memory and rate feasibility with the same functions.

Policy (documented in docs/milp.md and the README, "Exact feasibility")
----------------------------------------------------------------------
- **Numbers.** Every float of the instance is read as the shortest decimal that round-trips it
  (``repr``), i.e. the number as written in the JSON file, and converted to a
  :class:`fractions.Fraction`. So 0.1 is exactly 1/10 and (2 − 1)/0.1 is exactly 10.
- **Memory** is checked in integer slot units: a server hosting m_j > 0 blocks has
  M̃_j = ⌊(M_j − s_m m_j)/s_c + 10⁻⁹⌋ job-block slots, computed exactly on those rationals. An exact
  slot boundary such as (2 − 1)/0.1 is the integer 10; a quotient within 10⁻⁹ slot below an
  integer counts as that integer (floating-point noise in derived inputs such as
  6.159999999999999 GB = 3·1.98 + 0.22); this is the floor rule of SPEC §2.3 that the algorithms
  use too (:func:`chaincomp.problem.safe_floor`, ``FLOOR_TOL``). The design is memory-feasible iff
  Σ_{k∋(i,j)} m_ij c_k ≤ M̃_j for every server (Eq. 3).
- **Rate.** T_k = Σ (τ^c_j + τ^p_j m_ij) and ν = Σ c_k/T_k are exact rationals. The design meets the
  target iff ν ≥ (λ/ρ̄)(1 − 10⁻¹²): a shortfall of at most 10⁻¹² relative is allowed (the decimal
  rounding of λ in a file); a shortfall of 10⁻¹⁰ relative (or more) is a miss.
- **Job servers** (the objective of Eq. 5 as GCA counts it, SPEC §3.2): chains fastest first (exact
  T), c_k job servers each, the last one only partly — the fewest job servers whose rate reaches
  the target under the same tolerance.

A design that fails is *repaired* where the method optimizes job servers (:func:`repair`: memory
overflows are removed from the slowest chains through the server, then job servers are added one
at a time on the fastest chain of the placement that still has room — fewest additions first),
or otherwise reported (baselines: status ``rate_target_missed``) or not emitted (an error).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from chaincomp.core.allocation import Allocation
    from chaincomp.core.placement import Placement
    from chaincomp.core.solution import Solution
    from chaincomp.problem import Problem

#: the rate target may be missed by at most this much, relative (the decimal rounding of λ)
RATE_REL_TOL = Fraction(1, 10**12)
#: slot-floor tolerance: ⌊q + 10⁻⁹⌋, the documented rule of :data:`chaincomp.problem.FLOOR_TOL`
SLOT_TOL = Fraction(1, 10**9)
#: methods whose objective is "fewest job servers subject to ν ≥ λ/ρ̄": their designs are repaired
REPAIRABLE = ("greedy", "random", "greedy-ilp", "milp")
#: repairable methods whose design is flagged (not refused) when memory does not allow a repair
FLAG_UNREPAIRABLE = ("random",)
#: above this many chains of a placement, repair only uses the design's own chains
REPAIR_CHAIN_LIMIT = 5_000


def to_fraction(x: Any) -> Fraction:
    """The exact rational of an instance number: the shortest decimal that round-trips the float.

    Raises ``ValueError`` for NaN/∞ and ``TypeError`` for non-numbers (bool and str included)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) and not hasattr(x, "__float__"):
        raise TypeError(f"{x!r} is not a number")
    if isinstance(x, int):
        return Fraction(x)
    f = float(x)
    if not math.isfinite(f):
        raise ValueError(f"{f} is not finite")
    return Fraction(repr(f))


class _Lazy:
    """Per-server exact values, converted on first use (J = 10⁴ servers: only the used ones)."""

    def __init__(self, arr) -> None:
        self._arr = arr
        self._cache: dict[int, Fraction] = {}

    def __getitem__(self, j: int) -> Fraction:
        v = self._cache.get(j)
        if v is None:
            v = self._cache[j] = to_fraction(float(self._arr[j]))
        return v

    def min(self) -> Fraction:
        """The smallest value (float order = decimal-rational order: rounding is monotone)."""
        import numpy as np

        return self[int(np.argmin(self._arr))]


@dataclass(frozen=True)
class ExactInstance:
    """The instance numbers as exact rationals (see the module policy)."""

    memory: _Lazy
    tau_comm: _Lazy
    tau_comp: _Lazy
    block: Fraction
    cache: Fraction
    arrival_rate: Fraction
    target_load: Fraction
    num_blocks: int

    @classmethod
    def of(cls, problem: "Problem") -> "ExactInstance":
        return cls(
            _Lazy(problem.memory_gb),
            _Lazy(problem.tau_comm_s),
            _Lazy(problem.tau_comp_s),
            to_fraction(problem.block_size_gb),
            to_fraction(problem.cache_size_gb),
            to_fraction(problem.arrival_rate),
            to_fraction(problem.target_load),
            int(problem.num_blocks),
        )

    @property
    def target(self) -> Fraction:
        """λ/ρ̄ exactly."""
        return self.arrival_rate / self.target_load

    def slots(self, j: int, m: int) -> int:
        """M̃_j = ⌊(M_j − s_m m)/s_c⌋ exactly (0 for an unused server; negative if the blocks alone overflow)."""
        if m == 0:
            return 0
        return math.floor((self.memory[j] - self.block * m) / self.cache + SLOT_TOL)

    def chain_time(self, servers, blocks) -> Fraction:
        """T_k = Σ (τ^c_j + τ^p_j m_ij) exactly (Eq. 2)."""
        return sum((self.tau_comm[j] + self.tau_comp[j] * int(b) for j, b in zip(servers, blocks)), Fraction(0))

    def meets(self, nu: Fraction) -> bool:
        """ν ≥ (λ/ρ̄)(1 − 10⁻¹²)."""
        return nu >= self.target * (1 - RATE_REL_TOL)


def exact_floor_ratio(num: float, den: float) -> int:
    """⌊num/den + 10⁻⁹⌋ on the exact decimal rationals of two floats (the slot floor of the policy)."""
    return math.floor(to_fraction(num) / to_fraction(den) + SLOT_TOL)


@dataclass
class ExactCheck:
    """Outcome of :func:`check`: every violation found, and the exact quantities."""

    structure: list[str] = field(default_factory=list)  # ranges / chain rule / capacities
    memory: list[str] = field(default_factory=list)
    rate_met: bool = False
    service_rate: Fraction = Fraction(0)
    target: Fraction = Fraction(0)
    job_servers: int | None = None
    total_capacity: int = 0
    times: list[Fraction] = field(default_factory=list)  # exact T_k per chain (allocation order)

    @property
    def shortfall(self) -> float:
        """Relative rate shortfall (λ/ρ̄ − ν)/(λ/ρ̄); ≤ 0 when the target is reached."""
        return float((self.target - self.service_rate) / self.target) if self.target > 0 else 0.0

    @property
    def feasible(self) -> bool:
        return not self.structure and not self.memory and self.rate_met

    def rate_message(self) -> str:
        return (f"ν = {float(self.service_rate):.12g} job/s misses the target λ/ρ̄ = {float(self.target):.12g} "
                f"by {self.shortfall:.3g} relative (allowed: 1e-12)")

    def summary(self) -> dict:
        return {
            "feasible": self.feasible,
            "rate_target_met": self.rate_met,
            "rate_shortfall_rel": max(0.0, self.shortfall),
            "service_rate": float(self.service_rate),
            "required_rate": float(self.target),
            "job_servers": self.job_servers,
            "violations": self.structure + self.memory + ([] if self.rate_met else [self.rate_message()]),
            "policy": "exact rationals of the decimal inputs; slots ⌊(M−s_m m)/s_c + 1e-9⌋; ν ≥ (λ/ρ̄)(1−1e-12)",
        }


def check(problem: "Problem", placement: "Placement", allocation: "Allocation",
          inst: ExactInstance | None = None) -> ExactCheck:
    """Check a placement + allocation against ranges, the chain rule, memory (Eq. 3) and ν ≥ λ/ρ̄ exactly."""
    inst = inst or ExactInstance.of(problem)
    names = problem.server_ids
    J, L = problem.num_servers, problem.num_blocks
    out = ExactCheck(target=inst.target)
    a = [int(x) for x in placement.first_block]
    m = [int(x) for x in placement.num_blocks]
    if len(a) != J or len(m) != J:
        out.structure.append(f"placement has {len(m)} entries for {J} servers")
        return out
    for j in range(J):
        if m[j] < 0 or m[j] > L:
            out.structure.append(f"server {names[j]}: num_blocks {m[j]} outside 0..{L}")
        elif m[j] > 0 and (a[j] < 1 or a[j] + m[j] - 1 > L):
            out.structure.append(f"server {names[j]}: blocks {a[j]}..{a[j] + m[j] - 1} outside 1..{L}")
    if out.structure:
        return out
    last = [a[j] + m[j] - 1 for j in range(J)]
    used = [0] * J
    pairs = []
    for k, (ch, cap) in enumerate(zip(allocation.chains, allocation.capacities)):
        label = f"chain {k + 1}"
        if not isinstance(cap, (int,)) and not (hasattr(cap, "is_integer") and float(cap).is_integer()) \
                or isinstance(cap, bool) or int(cap) < 1:
            out.structure.append(f"{label}: capacity {cap!r} is not an integer ≥ 1")
            out.times.append(Fraction(0))
            continue
        cap = int(cap)
        if not ch.servers or len(ch.servers) != len(ch.blocks) or any(not (0 <= s < J) for s in ch.servers):
            out.structure.append(f"{label}: malformed (servers/blocks)")
            out.times.append(Fraction(0))
            continue
        if len(set(ch.servers)) != len(ch.servers):
            out.structure.append(f"{label}: a server appears twice")
        prev, ok = 0, True
        for j in ch.servers:
            if m[j] == 0 or not (a[j] <= prev + 1 <= last[j]):
                out.structure.append(f"{label}: server {names[j]} cannot process block {prev + 1}")
                ok = False
                break
            used[j] += (last[j] - prev) * cap
            prev = last[j]
        if ok and prev != L:
            out.structure.append(f"{label}: ends at block {prev}, not {L}")
            ok = False
        blocks = []
        p = 0
        for j in ch.servers:
            blocks.append(last[j] - p if 0 <= j < J else 0)
            p = last[j] if 0 <= j < J else p
        T = inst.chain_time(ch.servers, blocks)
        out.times.append(T)
        if ok and T > 0:
            pairs.append((T, cap))
            out.total_capacity += cap
    for j in range(J):
        if m[j] == 0:
            continue
        have = inst.slots(j, m[j])
        if used[j] > have:
            out.memory.append(f"server {names[j]}: {used[j]} cache slots reserved > {max(have, 0)} free "
                              f"(⌊(M − s_m·{m[j]})/s_c + 1e-9⌋, exact)" + (" — its blocks alone overflow" if have < 0 else ""))
    out.service_rate = sum((Fraction(c) / T for T, c in pairs), Fraction(0))
    out.rate_met = inst.meets(out.service_rate)
    out.job_servers = job_servers(inst, pairs)
    return out


def job_servers(inst: ExactInstance, pairs) -> int | None:
    """Fewest job servers, fastest chains first (the last partly), reaching (λ/ρ̄)(1 − 10⁻¹²); None if none."""
    need = inst.target * (1 - RATE_REL_TOL)
    count = 0
    for T, c in sorted(pairs, key=lambda x: x[0]):
        if need <= 0:
            return count
        if Fraction(c) / T >= need:
            return count + max(1, math.ceil(need * T))
        need -= Fraction(c) / T
        count += c
    return count if need <= 0 else None


def repair(problem: "Problem", placement: "Placement", allocation: "Allocation", chain_pool=None):
    """Make a structurally valid design feasible: free overflowing slots, then add the fewest job servers.

    Returns ``(allocation, removed, added)`` or ``None`` when memory does not allow reaching the target.
    Job servers are added one at a time on the fastest chain (of the design, or of the placement's
    routing DAG when it has at most ``REPAIR_CHAIN_LIMIT`` chains) with a free slot on every server."""
    from chaincomp.core.allocation import Allocation

    inst = ExactInstance.of(problem)
    res = check(problem, placement, allocation, inst)
    if res.structure:
        return None
    J = problem.num_servers
    m = [int(x) for x in placement.num_blocks]
    free = [inst.slots(j, m[j]) for j in range(J)]
    chains = list(allocation.chains)
    caps = [int(c) for c in allocation.capacities]
    times = list(res.times)
    for k, ch in enumerate(chains):
        for j, b in zip(ch.servers, ch.blocks):
            free[j] -= b * caps[k]
    removed = 0
    # 1. memory: take capacity off the slowest chains through an overflowing server
    for j in range(J):
        while free[j] < 0:
            through = [k for k, ch in enumerate(chains) if j in ch.servers and caps[k] > 0]
            if not through:
                return None  # the blocks alone overflow the server
            k = max(through, key=lambda i: times[i])
            caps[k] -= 1
            removed += 1
            for s, b in zip(chains[k].servers, chains[k].blocks):
                free[s] += b
    # 2. rate: add job servers on the fastest chain with room
    pool = list(chains)
    if chain_pool is None:
        try:
            from chaincomp.formulations.cache_allocation import all_chains

            chain_pool = all_chains(problem, placement, limit=REPAIR_CHAIN_LIMIT)
        except Exception:  # noqa: BLE001 - too many chains: the design's own chains only
            chain_pool = []
    have = {(ch.servers, ch.blocks) for ch in pool}
    for ch in chain_pool:
        if (ch.servers, ch.blocks) not in have:
            have.add((ch.servers, ch.blocks))
            pool.append(ch)
            caps.append(0)
            times.append(inst.chain_time(ch.servers, ch.blocks))
    order = sorted(range(len(pool)), key=lambda k: times[k])
    nu = sum((Fraction(c) / times[k] for k, c in enumerate(caps) if c > 0), Fraction(0))
    added = 0
    while not inst.meets(nu):
        for k in order:
            if all(free[s] >= b for s, b in zip(pool[k].servers, pool[k].blocks)):
                caps[k] += 1
                added += 1
                nu += 1 / times[k]
                for s, b in zip(pool[k].servers, pool[k].blocks):
                    free[s] -= b
                break
        else:
            return None
    keep = [k for k in range(len(pool)) if caps[k] > 0]
    return Allocation(tuple(pool[k] for k in keep), tuple(caps[k] for k in keep)), removed, added


def finalize(solution: "Solution") -> "Solution":
    """Re-check an emitted design exactly; repair, flag or refuse it (see the module policy).

    - feasible: metrics ``job_servers`` (and the surrogate) are set to the exact count;
    - job-server methods (:data:`REPAIRABLE`, objective job servers): repaired; the MILP's status
      loses ``optimal`` unless the repaired value still equals its bound;
    - other methods (baselines, throughput objective): the Solution carries
      ``extra["exact_check"]`` with ``rate_target_met: false`` and ``status = "rate_target_missed"``;
    - a design that cannot be repaired, or violates memory / the chain rule, raises
      :class:`~chaincomp.errors.ChaincompError` (never emitted)."""
    from chaincomp.core.solution import Solution
    from chaincomp.errors import ChaincompError, VerificationError

    p = solution.problem
    if not solution.allocation.chains and solution.method == "petals":
        # PETALS routes every request on its own (SPEC §4.1): no chains, the rate rule is not a design rule
        res = check(p, solution.placement, solution.allocation)
        if res.structure or res.memory:
            raise VerificationError(f"method {solution.method!r} produced an invalid design: " + "; ".join(res.structure + res.memory))
        solution.extra["exact_check"] = {**res.summary(), "rate_rule": "not applicable (per-request routing, no chains)"}
        return solution
    res = check(p, solution.placement, solution.allocation)
    objective = str((solution.parameters or {}).get("objective") or "job-servers")
    repairable = solution.method in REPAIRABLE and objective == "job-servers"
    if res.structure:
        raise VerificationError(f"method {solution.method!r} produced an invalid design (not emitted): "
                             + "; ".join(res.structure))
    note = None
    fixed = None
    if not res.feasible and repairable:
        fixed = repair(p, solution.placement, solution.allocation)
        if fixed is None and solution.method in FLAG_UNREPAIRABLE and not res.memory:
            repairable = False  # keep the (baseline) design and flag it below
        elif fixed is None:
            why = "; ".join(res.memory + ([] if res.rate_met else [res.rate_message()]))
            raise VerificationError(f"method {solution.method!r}: its design fails the exact feasibility check ({why}) "
                                 "and memory does not allow a repair; no design is emitted")
    if fixed is not None:
        alloc, removed, added = fixed
        note = (f"exact check: {'; '.join(res.memory + ([] if res.rate_met else [res.rate_message()]))}; "
                f"repaired: {removed} job server(s) removed for memory, {added} added for the rate")
        new = Solution.create(p, solution.method, solution.placement, alloc, parameters=solution.parameters,
                              wall_time_s=solution.provenance.get("wall_time_s"), seed=solution.provenance.get("seed"),
                              solver=solution.solver, extra=solution.extra)
        new.provenance = solution.provenance
        solution = new
        res = check(p, solution.placement, solution.allocation)
        if not res.feasible:  # an internal invariant of repair(); never emit such a design
            raise ChaincompError(f"internal error: the repaired design of {solution.method!r} fails the exact check")
    elif res.memory:
        raise VerificationError(f"method {solution.method!r} produced a design that violates memory (not emitted): "
                             + "; ".join(res.memory))
    summary = res.summary()
    if note:
        summary["repair"] = note
    solution.extra["exact_check"] = summary
    if res.rate_met:
        solution.metrics["job_servers"] = res.job_servers
    elif objective == "job-servers":
        solution.metrics["job_servers"] = None
        solution.extra["status"] = "rate_target_missed"
    if solution.solver is not None and solution.method == "milp" and objective == "job-servers":
        _settle_milp_status(solution, note)
    elif solution.solver is not None and repairable:
        # e.g. greedy-ilp: the solver's objective is a float (25.9999999999995 for 26 job servers); the
        # emitted design's value is the exact integer Σc, so that is the objective. After a repair the
        # design is not the solver's optimum: its gap is recomputed and "optimal" is withdrawn
        from chaincomp.solvers.base import relative_gap

        value = solution.allocation.total_capacity
        solution.solver["objective"] = value
        if note:
            solution.solver["gap"] = relative_gap(value, solution.solver.get("bound"))
            solution.solver["proved_optimal"] = False
            if solution.solver.get("status") == "optimal":
                solution.solver["status"] = "stopped"
            solution.solver["label"] = f"{solution.solver.get('label', '')}; {note}"
    return solution


def _settle_milp_status(solution: "Solution", note: str | None) -> None:
    """``optimal`` only for an exactly feasible design whose value equals the valid bound."""
    info = solution.solver
    value = solution.allocation.total_capacity
    bound = info.get("bound")
    info["objective"] = value
    if note:
        info["label"] = f"{info.get('label', '')}; {note}"
    if bound is not None and value <= bound:
        label = info.get("label", "").replace("not proved optimal", "proved optimal: equals the valid bound")
        if "proved optimal" not in label:  # e.g. the warm start meets the closed-form bound
            label += "; proved optimal: the design's value equals the valid bound"
        info["label"] = label
        info["status"] = "optimal"
        info["proved_optimal"] = True
        info["gap"] = 0.0
        return
    info["proved_optimal"] = False
    info["gap"] = None if bound is None else abs(value - bound) / max(abs(value), 1e-9)
    if info.get("status") == "optimal":
        info["status"] = "stopped"
        info["label"] += "; not proved optimal (the repaired design is above the bound)"


def rate_upper_bound(inst: ExactInstance, num_servers: int) -> tuple[Fraction, int, Fraction]:
    """A valid upper bound on ν of any design, exactly: (ν_max, N_max, T_min). A job server uses one
    cache slot per block on its chain — L in all — and a server has the most slots when it hosts one
    block, so any design has at most N_max = ⌊Σ_j max(0, M̃_j(1)) / L⌋ job servers; each serves at
    most 1/T_min (T_min as in :func:`closed_form_bound`). ν_max = N_max / T_min."""
    total = sum(max(0, inst.slots(j, 1)) for j in range(num_servers))
    n_max = total // inst.num_blocks
    t_min = inst.tau_comm.min() + inst.num_blocks * inst.tau_comp.min()
    return Fraction(n_max) / t_min, n_max, t_min


def rate_beyond_any_design(problem: "Problem") -> tuple[str | None, float]:
    """(proof, ν_max): ``proof`` = "proved infeasible: …" when λ/ρ̄ exceeds :func:`rate_upper_bound`
    (exact arithmetic), else None; ν_max = that bound, for messages."""
    inst = ExactInstance.of(problem)
    nu_max, n_max, t_min = rate_upper_bound(inst, problem.num_servers)
    if inst.meets(nu_max):
        return None, float(nu_max)
    return (f"proved infeasible: λ/ρ̄ = {problem.required_rate:.4g} job/s (λ = {problem.arrival_rate:.4g}, "
            f"ρ̄ = {problem.target_load:.4g}) exceeds what any design can serve: memory holds at most {n_max} job "
            f"servers (Σ_j slots at one block / L) and each serves at most 1/T_min = {float(1 / t_min):.4g} job/s, "
            f"so ν ≤ {float(nu_max):.4g} job/s"), float(nu_max)


def closed_form_bound(inst: ExactInstance) -> int:
    """A valid lower bound on the job servers of any design: every chain processes L blocks and visits
    at least one server, so T_k ≥ T_min = min_j τ^c_j + L·min_j τ^p_j and each job server serves at most
    1/T_min; reaching (λ/ρ̄)(1 − 10⁻¹²) needs at least ⌈(λ/ρ̄)(1 − 10⁻¹²)·T_min⌉ of them."""
    t_min = inst.tau_comm.min() + inst.num_blocks * inst.tau_comp.min()
    return max(1, math.ceil(inst.target * (1 - RATE_REL_TOL) * t_min))
