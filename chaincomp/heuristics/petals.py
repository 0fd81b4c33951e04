"""PETALS baseline: block count, announced throughput and block choice (SPEC §4.1).

PETALS (Borzunov et al., NeurIPS'23; github.com/bigscience-workshop/petals, ``petals/server``)
places blocks without any model of concurrency: every server reserves a *fixed* attention-cache
budget and hosts as many blocks as fit besides it, then servers join the swarm one at a time and
each takes the window of blocks that is currently worst served. Requests are routed per request
(client-side Dijkstra, see :mod:`chaincomp.sim.routing_petals`), so PETALS has **no fixed server
chains**: the :class:`~chaincomp.core.solution.Solution` it produces carries the placement, an empty
chain list, ``null`` chain metrics, and the routing inputs in ``extra["petals"]``.

Constants (each from PETALS' server code, ``petals/server/server.py`` and ``block_selection.py``)
--------------------------------------------------------------------------------------------------
- ``attn_cache_tokens`` = 4096, or 16384 for GQA/MQA models (``num_key_value_groups > 1``):
  the fixed cache budget per hosted block, in tokens (``Server.__init__``).
- cache bytes per block = 2 · hidden · attn_cache_tokens · bytes_per_value / kv_groups
  (keys and values; ``_cache_bytes_per_block``), bytes_per_value = 2 (bf16/fp16 torch dtype; the
  cache keeps the torch dtype also when the weights are NF4/int8-quantized).
- autograd reserve = 2 GiB · hidden / 14336 (``_choose_num_blocks``: "2 GiB for BLOOM,
  proportional for other models"), GiB = 2³⁰ bytes.
- blocks = min(⌊(M − reserve)/(s_m + cache_per_block)⌋, L) (``_choose_num_blocks``).
- announced throughput = min(forward_rps / ((m + 1)/2), network_rps)
  (``throughput.py``: "average_blocks_used = (num_blocks + 1) / 2").
- block choice (``block_selection.choose_best_blocks``): per block b, the sum of the announced
  throughputs of servers hosting b; a joining server with m blocks takes the start a minimising
  (sorted(throughput[a .. a+m−1]), a) — the lexicographically weakest window, ties to the lowest
  start.
- rebalancing (``should_choose_other_blocks``, ``balance_quality`` = 0.75, eps = 1e-3): a server
  moves if, after it and then every other server (random order, until nothing moves) greedily
  re-choose, the swarm's bottleneck throughput min_b throughput[b] would grow so that
  old/new < balance_quality − eps. Optional here (``rebalance_rounds``; 0 = off, the default).

Units — which reading gives the paper's numbers
-----------------------------------------------
Memory M_j is in GB = 10⁹ bytes (as torch's ``total_memory`` in bytes, divided by 10⁹) while the
reserve is 2 GiB = 2.147 GB. For BLOOM-176B NF4 (hidden 14336, s_m = 1.324 GB, cache per block
2·14336·4096·2 B = 0.2349 GB): (85.1 − 2.147)/(1.324 + 0.2349) = 53.2 → **53 blocks** on an
85.1 GB A100, and 3.9 → **3** on an 8.2 GB / 4.46 → **4** on a 9.1 GB MIG slice, as PETALS reports.
Reading M in GiB instead would give 57 blocks on the A100 (and 4 on both slices), so the GB reading
is the one PETALS' numbers imply.

Server speeds
-------------
PETALS measures ``forward_rps`` (tokens/s through one block in a prefill-like forward pass) and
``inference_rps`` (single-token decode steps per second through one block). From the instance's
:class:`~chaincomp.problem.TimingModel`: forward_rps_j = 1/t^I_j (prefill s/token) and
inference_rps_j = 1/t^O_j (decode s/token). Without a timing model both fall back to
per-token figures derived from τ^p_j (τ^p_j/(l̄_in + l̄_out) and τ^p_j/l̄_out). ``network_rps`` is
not part of the instance model (memory-bound regime): it defaults to ∞ and can be set.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from chaincomp.core.allocation import Allocation
from chaincomp.core.placement import Placement
from chaincomp.errors import InfeasibleInstance, UsageError
from chaincomp.problem import FLOOR_TOL, Problem

GIB_BYTES = 2**30
#: PETALS: "Estimate of GPU memory used in rpc_backward (2 GiB for BLOOM, proportional for other models)"
AUTOGRAD_RESERVE_BYTES_AT_BLOOM = 2 * GIB_BYTES
BLOOM_HIDDEN_SIZE = 14336
#: PETALS' default attention-cache budget per block, in tokens (MHA models / GQA-MQA models)
ATTN_CACHE_TOKENS = 4096
ATTN_CACHE_TOKENS_GQA = 16384
#: bytes per cached key/value (bf16/fp16 torch dtype)
CACHE_BYTES_PER_VALUE = 2.0
#: PETALS' default rebalancing threshold and its epsilon
BALANCE_QUALITY = 0.75
BALANCE_EPS = 1e-3


@dataclass(frozen=True)
class PetalsModel:
    """The model dimensions PETALS' memory rule needs.

    ``hidden_size`` (d_model), ``kv_groups`` = num_attention_heads / num_key_value_heads (1 for
    multi-head attention), ``bytes_per_value`` of the cache, ``attn_cache_tokens`` (None → 4096,
    or 16384 when kv_groups > 1). ``cache_per_block_gb`` / ``reserve_gb`` override the derived
    values (used for abstract instances such as the worked example that have no model).
    """

    hidden_size: int | None = None
    kv_groups: int = 1
    bytes_per_value: float = CACHE_BYTES_PER_VALUE
    attn_cache_tokens: int | None = None
    cache_per_block_gb_override: float | None = None
    reserve_gb_override: float | None = None

    @property
    def cache_tokens(self) -> int:
        if self.attn_cache_tokens is not None:
            return int(self.attn_cache_tokens)
        return ATTN_CACHE_TOKENS_GQA if self.kv_groups > 1 else ATTN_CACHE_TOKENS

    @property
    def cache_per_block_gb(self) -> float:
        """2 · hidden · attn_cache_tokens · bytes / kv_groups, in GB."""
        if self.cache_per_block_gb_override is not None:
            return float(self.cache_per_block_gb_override)
        if self.hidden_size is None:
            raise UsageError("PETALS needs the model's hidden size (or an explicit cache_per_block_gb)")
        return 2.0 * self.hidden_size * self.cache_tokens * self.bytes_per_value / self.kv_groups / 1e9

    @property
    def reserve_gb(self) -> float:
        """Autograd reserve 2 GiB · hidden/14336, in GB."""
        if self.reserve_gb_override is not None:
            return float(self.reserve_gb_override)
        if self.hidden_size is None:
            raise UsageError("PETALS needs the model's hidden size (or an explicit reserve_gb)")
        return AUTOGRAD_RESERVE_BYTES_AT_BLOOM * self.hidden_size / BLOOM_HIDDEN_SIZE / 1e9

    def describe(self) -> dict:
        d = asdict(self)
        d["cache_tokens"] = self.cache_tokens
        d["cache_per_block_gb"] = self.cache_per_block_gb
        d["reserve_gb"] = self.reserve_gb
        return d


def model_from_problem(problem: Problem, hidden_size: int | None = None, kv_groups: int | None = None,
                       cache_per_block_gb: float | None = None, reserve_gb: float | None = None) -> tuple[PetalsModel, list[str]]:
    """PETALS' model dimensions: explicit arguments, else ``problem.meta`` (``model`` block or top level:
    ``hidden_size``, ``num_attention_heads``, ``num_key_value_heads``/``kv_groups``).

    Without a hidden size (abstract instances) the documented fallback is: cache budget per block =
    one job's cache s_c (one concurrent job per hosted block) and no autograd reserve; the returned
    notes say so and end up in the solution's ``extra``.
    """
    notes: list[str] = []
    meta = problem.meta or {}
    model_meta = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    src = {**meta, **(model_meta or {})}
    if hidden_size is None:
        hs = src.get("hidden_size")
        hidden_size = int(hs) if hs is not None else None
    if kv_groups is None:
        if src.get("kv_groups") is not None:
            kv_groups = int(src["kv_groups"])
        elif src.get("num_attention_heads") and src.get("num_key_value_heads"):
            kv_groups = max(1, int(src["num_attention_heads"]) // int(src["num_key_value_heads"]))
        else:
            kv_groups = 1
    bpv = float(src.get("cache_bytes_per_value", src.get("kv_bytes_per_value", CACHE_BYTES_PER_VALUE)))
    if hidden_size is None:
        if cache_per_block_gb is None:
            cache_per_block_gb = problem.cache_size_gb
            notes.append("no model hidden size: PETALS cache budget per block taken as one job's cache s_c")
        if reserve_gb is None:
            reserve_gb = 0.0
            notes.append("no model hidden size: PETALS autograd reserve taken as 0")
    return (
        PetalsModel(hidden_size, kv_groups, bpv, None, cache_per_block_gb, reserve_gb),
        notes,
    )


def petals_block_counts(problem: Problem, model: PetalsModel) -> np.ndarray:
    """min(⌊(M_j − reserve)/(s_m + cache_per_block)⌋, L), floored at 0."""
    per_block = problem.block_size_gb + model.cache_per_block_gb
    m = np.floor((problem.memory_gb - model.reserve_gb) / per_block + FLOOR_TOL).astype(np.int64)
    return np.clip(m, 0, problem.num_blocks)


#: the smallest per-block compute time the PETALS speeds are derived from (s)
MIN_TAU_COMP_S = 1e-9


def server_speeds(problem: Problem) -> dict[str, np.ndarray]:
    """Per-token speeds PETALS would measure: forward_rps, inference_rps (per block), rtt_s.

    See the module docstring for the fallbacks when the instance has no timing model.
    """
    J = problem.num_servers
    l_in = float(problem.mean_input_tokens or 0.0)
    l_out = float(problem.mean_output_tokens or 1.0)
    # τ^p = 0 (a server whose time is all communication) would announce an infinite speed, which
    # PETALS cannot rank and JSON cannot hold: it counts as 1 ns per block instead (MIN_TAU_COMP_S)
    tau_p = np.maximum(problem.tau_comp_s, MIN_TAU_COMP_S)
    fwd_fallback = (l_in + l_out) / tau_p
    inf_fallback = l_out / tau_p
    rtt_fallback = np.maximum(problem.tau_comm_s / l_out - 0.018, 0.0)
    t = problem.timing
    if t is None:
        return {"forward_rps": fwd_fallback, "inference_rps": inf_fallback, "rtt_s": rtt_fallback}
    with np.errstate(divide="ignore", invalid="ignore"):
        fwd = np.where(np.isfinite(t.prefill_s_per_token) & (t.prefill_s_per_token > 0),
                       1.0 / t.prefill_s_per_token, fwd_fallback)
        inf = np.where(np.isfinite(t.decode_s_per_token) & (t.decode_s_per_token > 0),
                       1.0 / t.decode_s_per_token, inf_fallback)
    rtt = np.where(np.isfinite(t.rtt_s), t.rtt_s, rtt_fallback)
    assert fwd.shape == (J,)
    return {"forward_rps": fwd, "inference_rps": inf, "rtt_s": rtt}


def announced_throughput(forward_rps: float, num_blocks: int, network_rps: float = math.inf) -> float:
    """min(forward_rps / ((m + 1)/2), network_rps) (PETALS ``get_server_throughput``)."""
    return min(forward_rps / ((num_blocks + 1) / 2.0), network_rps)


def choose_best_start(block_throughput: np.ndarray, num_blocks: int) -> int:
    """0-based start of the window whose ascending-sorted throughputs are lexicographically smallest.

    Ties (identical sorted vectors) go to the lowest start, as ``min((sorted(window), start))``.
    """
    L = block_throughput.size
    if num_blocks >= L:
        return 0
    windows = np.lib.stride_tricks.sliding_window_view(block_throughput, num_blocks)
    keys = np.sort(windows, axis=1)
    cand = np.arange(keys.shape[0])
    for col in range(num_blocks):
        vals = keys[cand, col]
        cand = cand[vals == vals.min()]
        if cand.size == 1:
            break
    return int(cand[0])


@dataclass
class PetalsPlacement:
    """PETALS' placement and the quantities its routing needs."""

    placement: Placement
    join_order: list[int]
    block_counts: np.ndarray  # PETALS' own m_j (before any window choice)
    throughput: np.ndarray  # announced throughput per server (0 if it hosts nothing)
    block_throughput: np.ndarray  # per block 1..L (index 0 = block 1)
    cache_slots: np.ndarray  # PETALS cache budget per server in job-block slots of size s_c
    model: PetalsModel
    moves: int = 0
    notes: list[str] = field(default_factory=list)


def session_tokens(problem: Problem, model: PetalsModel) -> float | None:
    """Tokens of one job's cache s_c: ``meta.model.max_seq_len`` if given, else s_c / (2·hidden·bytes/kv_groups)
    rounded to a whole token (None without a hidden size)."""
    meta = problem.meta or {}
    mm = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    if mm and mm.get("max_seq_len"):
        return float(mm["max_seq_len"])
    if model.hidden_size is None:
        return None
    per_token_gb = 2.0 * model.hidden_size * model.bytes_per_value / model.kv_groups / 1e9
    return float(round(problem.cache_size_gb / per_token_gb))


def petals_cache_slots(problem: Problem, num_blocks: np.ndarray, model: PetalsModel) -> np.ndarray:
    """PETALS' fixed cache budget per server in job-block slots (one block of one session).

    Counted in tokens when the model is known — ⌊m_j · attn_cache_tokens / session_tokens⌋, so that
    a rounded s_c (LLaMA-2-7B: 0.0336 GB for 0.033554 GB) does not lose a session to rounding — else in
    GB: ⌊m_j · cache_per_block / s_c⌋.
    """
    m = np.asarray(num_blocks, dtype=float)
    tok = session_tokens(problem, model) if model.cache_per_block_gb_override is None else None
    if tok:
        return np.floor(m * model.cache_tokens / tok + FLOOR_TOL).astype(np.int64)
    return np.floor(m * model.cache_per_block_gb / problem.cache_size_gb + FLOOR_TOL).astype(np.int64)


def petals_placement(
    problem: Problem,
    seed: int = 0,
    model: PetalsModel | None = None,
    network_rps: float = math.inf,
    rebalance_rounds: int = 0,
    balance_quality: float = BALANCE_QUALITY,
    order: list[int] | None = None,
) -> PetalsPlacement:
    """Servers join one by one in a seeded random order and take the weakest window (SPEC §4.1).

    ``order`` (server indices) replaces the random join order when given (tests, replays).
    """
    notes: list[str] = []
    if model is None:
        model, notes = model_from_problem(problem)
    L, J = problem.num_blocks, problem.num_servers
    rng = np.random.default_rng(seed)
    perm = [int(j) for j in rng.permutation(J)]
    order = perm if order is None else [int(j) for j in order]
    m = petals_block_counts(problem, model)
    speeds = server_speeds(problem)
    thr = np.array([announced_throughput(float(speeds["forward_rps"][j]), int(m[j]), network_rps) if m[j] > 0 else 0.0
                    for j in range(J)])
    start = np.full(J, -1, dtype=np.int64)  # 0-based
    block_thr = np.zeros(L)
    for j in order:
        if m[j] == 0:
            continue
        s = choose_best_start(block_thr, int(m[j]))
        start[j] = s
        block_thr[s : s + m[j]] += thr[j]
    moves = 0
    for _ in range(int(rebalance_rounds)):
        moved_any = False
        for j in [int(x) for x in rng.permutation(J)]:
            if start[j] < 0:
                continue
            if _should_choose_other_blocks(j, start, m, thr, block_thr, balance_quality, rng):
                s0 = start[j]
                block_thr[s0 : s0 + m[j]] -= thr[j]
                s = choose_best_start(block_thr, int(m[j]))
                start[j] = s
                block_thr[s : s + m[j]] += thr[j]
                moves += int(s != s0)
                moved_any = moved_any or s != s0
        if not moved_any:
            break
    used = start >= 0
    first = np.where(used, start + 1, 0)
    count = np.where(used, m, 0)
    placement = Placement(first, count)
    return PetalsPlacement(
        placement=placement,
        join_order=order,
        block_counts=m,
        throughput=np.where(used, thr, 0.0),
        block_throughput=block_thr,
        cache_slots=petals_cache_slots(problem, count, model),
        model=model,
        moves=moves,
        notes=notes,
    )


def _should_choose_other_blocks(j, start, m, thr, block_thr, balance_quality, rng) -> bool:
    """PETALS ``should_choose_other_blocks`` on a copy of the swarm state (see module docstring)."""
    eps = BALANCE_EPS
    if balance_quality > 1.0:
        return True
    t = block_thr.copy()
    st = start.copy()
    initial = float(t.min())
    s0 = st[j]
    t[s0 : s0 + m[j]] -= thr[j] * (1 + eps)
    new = choose_best_start(t, int(m[j]))
    if new == s0:
        return False
    t[s0 : s0 + m[j]] += thr[j] * eps
    st[j] = new
    t[new : new + m[j]] += thr[j]
    moved = True
    guard = 0
    while moved and guard < 100:
        guard += 1
        moved = False
        for i in [int(x) for x in rng.permutation(len(st))]:
            if st[i] < 0:
                continue
            si = st[i]
            t[si : si + m[i]] -= thr[i] * (1 + eps)
            ni = choose_best_start(t, int(m[i]))
            t[si : si + m[i]] += thr[i] * eps
            if ni != si:
                t[si : si + m[i]] -= thr[i]
                t[ni : ni + m[i]] += thr[i]
                st[i] = ni
                moved = True
    new_thr = float(t.min())
    if new_thr < initial or new_thr < eps:
        return False
    return initial / new_thr < balance_quality - eps


def petals_solution(problem: Problem, seed: int = 0, network_rps: float = math.inf, rebalance_rounds: int = 0,
                    balance_quality: float = BALANCE_QUALITY, hidden_size: int | None = None,
                    kv_groups: int | None = None, cache_per_block_gb: float | None = None,
                    reserve_gb: float | None = None):
    """Run the PETALS placement and wrap it in a Solution with **no chains** (routing is per request)."""
    from chaincomp.core.solution import Solution

    t0 = time.perf_counter()
    model, notes = model_from_problem(problem, hidden_size, kv_groups, cache_per_block_gb, reserve_gb)
    pp = petals_placement(problem, seed, model, network_rps, rebalance_rounds, balance_quality)
    wall = time.perf_counter() - t0
    cover = pp.placement.coverage(problem.num_blocks)
    if (cover == 0).any():
        missing = np.flatnonzero(cover == 0) + 1
        raise InfeasibleInstance(
            f"PETALS placement leaves {missing.size} of {problem.num_blocks} blocks unhosted "
            f"(first: block {int(missing[0])}); its blocks per server are {pp.block_counts.tolist()}"
        )
    speeds = server_speeds(problem)
    params = {"seed": seed, "network_rps": None if math.isinf(network_rps) else network_rps,
              "rebalance_rounds": rebalance_rounds, "balance_quality": balance_quality}
    sol = Solution.create(problem, "petals", pp.placement, Allocation((), ()), parameters=params,
                          wall_time_s=wall, seed=seed, extra={})
    sol.metrics = _no_chain_metrics(problem, "petals")
    sol.extra = {
        "routing": "per-request (PETALS client-side Dijkstra with 10 s no-cache penalty and exponential "
                   "backoff; chaincomp.sim.routing_petals); no fixed chains, so no chain metrics",
        "petals": {
            "model": pp.model.describe(),
            "notes": notes + pp.notes,
            "join_order": [problem.server_ids[j] for j in pp.join_order],
            "block_counts": pp.block_counts.tolist(),
            "announced_throughput": pp.throughput.tolist(),
            "block_throughput": pp.block_throughput.tolist(),
            "cache_slots": pp.cache_slots.tolist(),
            "forward_rps": speeds["forward_rps"].tolist(),
            "inference_rps": speeds["inference_rps"].tolist(),
            "rtt_s": speeds["rtt_s"].tolist(),
            "rebalance_moves": pp.moves,
        },
    }
    return sol


def _no_chain_metrics(problem: Problem, method: str) -> dict:
    """Metrics for a per-request-routing method: chain quantities are null, never made up."""
    return {
        "job_servers": None,
        "total_capacity": None,
        "num_chains": 0,
        "service_rate": None,
        "required_rate": problem.required_rate,
        "load": None,
        "response_time_lower_s": None,
        "response_time_upper_s": None,
        "surrogate_response_time_s": None,
        "routing": f"per-request ({method})",
    }
