"""Independent verifier: re-checks any placement + allocation from first principles (SPEC §8).

It shares no code with the algorithms that produce solutions beyond the :class:`Problem` fields:
ranges, the chain rule, memory and all metrics are recomputed here directly from the definitions.

Rules (every one is listed in docs/verify.md; R-numbers appear in the messages' order of checking)
------------------------------------------------------------------------------------------------
R1. Types and integrality (raw JSON, :func:`verify_data`): L, first_block, num_blocks, blocks per
    hop and capacities are JSON integers (2.5, "5", true are violations, never truncated); every
    instance number is a JSON number (not a string or a bool).
R2. Parameters: M_j, s_m, s_c finite and > 0; λ in [10⁻⁹, 10⁹]; 10⁻⁶ ≤ ρ̄ ≤ 1; mean token counts
    (when given) finite, ≥ 0 and ≤ 10⁷; τ^c_j, τ^p_j finite and ≥ 0; L ≥ 1;
    server ids unique; every placement record names a known server, each server once.
R3. Placement ranges: 0 ≤ m_j ≤ L; for m_j > 0, 1 ≤ a_j and a_j + m_j − 1 ≤ L.
R4. Chain rule: non-empty; known servers; a server at most once; the first server hosts block 1;
    every hop (i, j) has a_j ≤ e_i + 1 ≤ e_j; the last server ends at L; capacities in 1..2⁵³.
R5. Blocks per hop: the chain's m_ij equals e_j − e_i.
R6. Memory (Eq. 3), exact: Σ_{k∋(i,j)} m_ij c_k ≤ ⌊(M_j − s_m m_j)/s_c + 10⁻⁹⌋ slots
    (:mod:`chaincomp.core.exact`; rationals of the decimal inputs).
R7. Times (Eq. 2): every T_k > 0 and the stated T_k equals Σ (τ^c_j + τ^p_j m_ij) (10⁻⁹ relative).
R8. Rate (Eq. 4 ≥ λ/ρ̄), exact: ν = Σ c_k/T_k ≥ (λ/ρ̄)(1 − 10⁻¹²). Not a rule for a design without
    chains made by ``petals`` (per-request routing) or for the ``throughput`` objective.
R9. Metrics, when present: ν, C = Σ c_k, the number of chains, λ/ρ̄, load λ/ν and job servers
    (exact count, fastest chains first) are recomputed and compared.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from chaincomp.errors import VerificationError

if TYPE_CHECKING:  # pragma: no cover
    from chaincomp.core.solution import Solution

REL_TOL = 1e-9
#: the largest chain capacity the verifier computes with (integers beyond it lose float precision)
MAX_CAPACITY = 2**53


def _close(a: float, b: float, tol: float = REL_TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def _param_errors(p) -> list[str]:
    """R2 on a Problem: finite positive parameters (no ZeroDivisionError later)."""
    errors = []

    def bad(x, positive=True):
        try:
            x = float(x)
        except (TypeError, ValueError):
            return True
        return not math.isfinite(x) or (x <= 0 if positive else x < 0)

    for name, val in (("block_size_gb (s_m)", p.block_size_gb), ("cache_size_gb (s_c)", p.cache_size_gb),
                      ("arrival_rate (λ)", p.arrival_rate)):
        if bad(val):
            errors.append(f"instance.{name} = {val!r}: must be a finite number > 0")
    from chaincomp.io import limits

    if bad(p.target_load) or not limits.MIN_TARGET_LOAD <= float(p.target_load) <= 1:
        errors.append(f"instance.target_load (ρ̄) = {p.target_load!r}: must be a finite number in [{limits.MIN_TARGET_LOAD:g}, 1]")
    if not bad(p.arrival_rate) and not limits.MIN_ARRIVAL_RATE <= float(p.arrival_rate) <= limits.MAX_ARRIVAL_RATE:
        errors.append(f"instance.arrival_rate (λ) = {p.arrival_rate!r}: must be in [{limits.MIN_ARRIVAL_RATE:g}, {limits.MAX_ARRIVAL_RATE:g}] req/s")
    for name in ("mean_input_tokens", "mean_output_tokens"):
        v = getattr(p, name, None)
        if v is not None and (bad(v, positive=False) or float(v) > limits.MAX_TOKENS):
            errors.append(f"instance.{name} = {v!r}: must be a finite number in [0, {limits.MAX_TOKENS:g}]")
    if isinstance(p.num_blocks, bool) or not isinstance(p.num_blocks, (int,)) or p.num_blocks < 1:
        errors.append(f"instance.num_blocks (L) = {p.num_blocks!r}: must be an integer ≥ 1")
    for j, sid in enumerate(p.server_ids):
        if bad(p.memory_gb[j]):
            errors.append(f"server {sid}: memory_gb = {float(p.memory_gb[j])!r}: must be a finite number > 0")
        for name, arr in (("tau_comm_s", p.tau_comm_s), ("tau_comp_s", p.tau_comp_s)):
            if bad(arr[j], positive=False):
                errors.append(f"server {sid}: {name} = {float(arr[j])!r}: must be a finite number ≥ 0")
    if len(set(p.server_ids)) != len(p.server_ids):
        errors.append("instance.servers: server ids are not unique")
    return errors


def verify_solution(solution: "Solution") -> list[str]:
    """Return every violation found (empty list: the solution is valid). Rules R2–R9 of the module."""
    from chaincomp.core.exact import ExactInstance, check

    p = solution.problem
    perrs = _param_errors(p)
    if perrs:
        return perrs
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
        elif cap > MAX_CAPACITY:
            from chaincomp.io.text import short_number

            return errors + [f"{label}: capacity {short_number(cap)} exceeds 2^53 (no server has that many cache slots)"]
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

    # R6 memory and R8 rate, exact (core/exact.py)
    inst = ExactInstance.of(p)
    exact = check(p, solution.placement, solution.allocation, inst)
    for e in exact.memory:
        errors.append(e.replace("cache slots reserved", "memory: cache slots reserved"))
    objective = str((solution.parameters or {}).get("objective") or "job-servers")
    no_chains_ok = not solution.allocation.chains and solution.method == "petals"
    if not exact.rate_met and objective != "throughput" and not no_chains_ok:
        errors.append("rate: " + exact.rate_message())

    # R9 metrics
    m = solution.metrics or {}
    caps = solution.allocation.capacities
    if any(ch.service_time_s <= 0 or not math.isfinite(ch.service_time_s) for ch in solution.allocation.chains):
        errors.append("a chain has service time T_k ≤ 0 or not finite (R7)")
        return errors
    nu = float(exact.service_rate)
    if m.get("service_rate") is not None and not _close(_num(m["service_rate"]), nu):
        errors.append(f"metrics.service_rate {m['service_rate']} ≠ recomputed ν = {nu:.12g}")
    if m.get("total_capacity") is not None and _num(m["total_capacity"]) != sum(caps):
        errors.append(f"metrics.total_capacity {m['total_capacity']} ≠ Σ c_k = {sum(caps)}")
    if m.get("num_chains") is not None and _num(m["num_chains"]) != len(caps):
        errors.append(f"metrics.num_chains {m['num_chains']} ≠ {len(caps)} chains")
    if m.get("required_rate") is not None and not _close(_num(m["required_rate"]), float(exact.target)):
        errors.append(f"metrics.required_rate {m['required_rate']} ≠ λ/ρ̄ = {float(exact.target):.12g}")
    if m.get("load") is not None and nu > 0 and not _close(_num(m["load"]), p.arrival_rate / nu):
        errors.append(f"metrics.load {m['load']} ≠ λ/ν = {p.arrival_rate / nu:.12g}")
    if m.get("surrogate_response_time_s") is not None and p.arrival_rate > 0 \
            and not _close(float(m["surrogate_response_time_s"]), sum(caps) / p.arrival_rate):
        errors.append(f"metrics.surrogate_response_time_s {m['surrogate_response_time_s']} ≠ Σc/λ = "
                      f"{sum(caps) / p.arrival_rate:.12g}")
    if m.get("job_servers") is not None:
        expected = exact.job_servers
        if expected is None or _num(m["job_servers"]) != expected:
            errors.append(f"metrics.job_servers {m['job_servers']} ≠ recomputed {expected} (exact, fastest chains first)")
    return errors


def _num(x) -> float:
    """A metric as a number (a string or bool never equals a recomputed value)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return math.nan
    return float(x)


def assert_valid(solution: "Solution", allow_rate_miss: bool = False) -> None:
    """Raise :class:`VerificationError` listing every violation. ``allow_rate_miss``: accept a design
    whose only fault is ν < λ/ρ̄ (R8) — e.g. to simulate a baseline's design, which then queues."""
    errors = verify_solution(solution)
    if allow_rate_miss:
        errors = [e for e in errors if not e.startswith("rate:")]
    if errors:
        raise VerificationError("solution failed verification:\n  - " + "\n  - ".join(errors))


def load_design(path, allow_rate_miss: bool = True) -> "Solution":
    """A design read from ``path`` (a Solution JSON) that passes every rule above — the input of
    ``simulate``, ``recompose``, ``whatif`` and ``events``. A design that fails is bad input:
    :class:`~chaincomp.errors.InvalidInstance` (exit code 2) naming the file and each violation, never
    a crash (an empty chain, a range beyond L) or minutes of work (a capacity beyond memory) later.
    ``allow_rate_miss``: accept ν < λ/ρ̄ (R8) — a baseline's design queues, it is not malformed."""
    from chaincomp.core.solution import Solution
    from chaincomp.errors import InvalidInstance

    solution = Solution.load(path)
    errors = verify_solution(solution)
    if allow_rate_miss:
        errors = [e for e in errors if not e.startswith("rate:")]
    if errors:
        shown = errors[:20] + ([f"… and {len(errors) - 20} more"] if len(errors) > 20 else [])
        raise InvalidInstance(f"{path}: the design fails verification (`chaincomp verify {path}` lists the rules):\n  - "
                              + "\n  - ".join(shown))
    return solution


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def type_errors(data) -> list[str]:
    """R1 on the raw Solution JSON: integers where the model needs integers, numbers where it needs
    numbers. Nothing is coerced: 2.5 or "5" as a capacity is a violation, not 2 or 5."""
    errors: list[str] = []
    if not isinstance(data, dict):
        return ["the solution is not a JSON object"]
    inst = data.get("instance")
    if not isinstance(inst, dict):
        return ["instance: missing or not an object"]
    if not _is_int(inst.get("num_blocks")):
        errors.append(f"instance.num_blocks = {inst.get('num_blocks')!r}: must be a JSON integer")
    for key in ("block_size_gb", "cache_size_gb", "arrival_rate", "target_load"):
        if key in inst and not _is_num(inst[key]) or key not in inst and key != "target_load":
            errors.append(f"instance.{key} = {inst.get(key)!r}: must be a JSON number")
    servers = inst.get("servers")
    if not isinstance(servers, list) or not servers:
        return errors + ["instance.servers: must be a non-empty list"]
    for i, srv in enumerate(servers):
        if not isinstance(srv, dict) or not isinstance(srv.get("id"), str):
            errors.append(f"instance.servers[{i}]: must be an object with a string id")
            continue
        for key in ("memory_gb", "tau_comm_s", "tau_comp_s"):
            if not _is_num(srv.get(key)):
                errors.append(f"instance.servers[{i}] ({srv['id']}).{key} = {srv.get(key)!r}: must be a JSON number")
    for i, rec in enumerate(data.get("placement") if isinstance(data.get("placement"), list) else []):
        if not isinstance(rec, dict):
            errors.append(f"placement[{i}]: must be an object")
            continue
        if not isinstance(rec.get("server"), str):
            errors.append(f"placement[{i}].server = {rec.get('server')!r}: must be a server id (string)")
        if not _is_int(rec.get("num_blocks")):
            errors.append(f"placement[{i}].num_blocks = {rec.get('num_blocks')!r}: must be a JSON integer")
        fb = rec.get("first_block")
        if fb is not None and not _is_int(fb):
            errors.append(f"placement[{i}].first_block = {fb!r}: must be a JSON integer or null")
    if not isinstance(data.get("placement"), list):
        errors.append("placement: missing or not a list")
    if not isinstance(data.get("chains"), list):
        errors.append("chains: missing or not a list")
        return errors
    for k, rec in enumerate(data["chains"]):
        if not isinstance(rec, dict):
            errors.append(f"chains[{k}]: must be an object")
            continue
        if not _is_int(rec.get("capacity")):
            errors.append(f"chains[{k}].capacity = {rec.get('capacity')!r}: must be a JSON integer ≥ 1")
        blocks = rec.get("blocks")
        if not isinstance(blocks, list) or not all(_is_int(b) for b in blocks):
            errors.append(f"chains[{k}].blocks = {blocks!r}: must be a list of JSON integers")
        if not isinstance(rec.get("servers"), list) or not all(isinstance(s, str) for s in rec["servers"]):
            errors.append(f"chains[{k}].servers: must be a list of server ids")
        if not _is_num(rec.get("service_time_s")):
            errors.append(f"chains[{k}].service_time_s = {rec.get('service_time_s')!r}: must be a JSON number")
    return errors


def _reference_errors(data) -> list[str]:
    """R2 (ids): unique server ids; placement and chains name known servers, each server placed once."""
    ids = [s["id"] for s in data["instance"]["servers"]]
    known = set(ids)
    errors = []
    if len(known) != len(ids):
        errors.append("instance.servers: server ids are not unique")
    seen = set()
    for i, rec in enumerate(data["placement"]):
        if rec.get("server") not in known:
            errors.append(f"placement[{i}].server {rec.get('server')!r}: not a server of the instance")
        elif rec["server"] in seen:
            errors.append(f"placement[{i}].server {rec['server']!r}: placed twice")
        seen.add(rec.get("server"))
    for k, rec in enumerate(data["chains"]):
        for s in rec["servers"]:
            if s not in known:
                errors.append(f"chains[{k}].servers: {s!r} is not a server of the instance")
    return errors


def verify_data(data, source: str = "<solution>") -> list[str]:
    """All rules R1–R9 on a raw Solution JSON object (what ``chaincomp verify`` checks)."""
    from chaincomp.core.solution import Solution

    from chaincomp.errors import InvalidInstance
    from chaincomp.io import limits

    errors = type_errors(data)
    if errors:
        return errors
    errors = _reference_errors(data)
    if errors:
        return errors
    try:
        solution = Solution.from_dict(data, source=source)
    except InvalidInstance as exc:  # the schema names the field (a 10²⁰ first block, a string as meta)
        return _schema_errors(data, source) or [_unlabelled(str(exc), source)]
    errors = verify_solution(solution)
    if errors:
        return errors
    # what every command that reads a design refuses is a violation here too (ids, sizes, c range)
    missing = [k for k in ("metrics", "provenance") if k not in data]
    if missing:  # a hand-written design need not carry them (verify recomputes): check the rest
        import json

        written = json.loads(solution.to_json())
        data = {**data, **{k: written[k] for k in missing}}
    errors = _schema_errors(data, source)
    if errors:
        return errors
    try:
        limits.check_problem(solution.problem, source)
    except InvalidInstance as exc:
        return [_unlabelled(line, source) for line in str(exc).splitlines()]
    return []


def _unlabelled(message: str, source: str) -> str:
    return message[len(source) + 2:] if message.startswith(f"{source}: ") else message


def _schema_errors(data, source: str) -> list[str]:
    """R1 (schema): the strict Solution schema every reader applies (identifiers without control
    characters, bounded integers, known fields) — so ``verify`` calls valid only what ``simulate``,
    ``recompose`` and the other readers accept."""
    from pydantic import ValidationError

    from chaincomp.instances.load import format_validation_error
    from chaincomp.instances.schema import SolutionFile

    try:
        SolutionFile.model_validate(data)
    except ValidationError as exc:
        return [_unlabelled(line, source) for line in format_validation_error(exc, source, SolutionFile).splitlines()]
    return []
