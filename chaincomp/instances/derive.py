"""Deriving the model's parameters from hardware and model figures (SPEC §1.1, the paper's footnote).

Every constant is an input (the workload's ``block_overhead_ms`` / ``comm_overhead_ms``, the model's
``weight_overhead``, dtypes, ``max_seq_len``):

* s_m = params_per_block × bytes_per_param × weight_overhead (1.01) — bytes: fp16/bf16 2, int8 1,
  nf4 4.25/8, fp32 4;
* s_c = 2 · hidden_size · max_seq_len · kv_bytes / kv_groups, kv_groups = heads / kv_heads
  (keys and values, one block, one job, the whole sequence); when the per-head width ``head_dim``
  is known (it differs from hidden / heads in Gemma) s_c = 2 · kv_heads · head_dim · max_seq_len ·
  kv_bytes, the same formula with the true key/value width;
* F (FLOPs per block per token) = 2 × the parameters one token runs through: all of the block for
  dense models, attention + router + the ``num_experts_per_tok`` routed experts for MoE models
  (while s_m counts every expert's weights; :mod:`chaincomp.instances.hf`);
* τ^p_j = t_o + (F / f_j) · l̄_in + (s_m / b_j) · (l̄_out − 1) — prefill is compute-bound
  (F FLOPs per block per token over f_j FLOP/s), each further token is memory-bound (read the
  block's weights at bandwidth b_j);
* τ^c_j = l̄_out · (RTT_j + o) — the orchestrator relays activations, the first token and each
  further token pay one round trip plus a serialization overhead o (pluggable: pass another
  ``comm_time`` function to :func:`build_problem`).

Units: GB = 10⁹ bytes, TFLOPS = 10¹² FLOP/s, bandwidth GB/s, times in seconds inside; files carry
ms where the name says so.

Check (SPEC §1.1): F = 5 GFLOP, 120 TFLOPS, 1020 GB/s, s_m = 1.32 GB, l_in = 2000, l_out = 20 →
τ^p = 1 ms + 83.3 ms + 24.6 ms ≈ 109 ms; 80 TFLOPS and 510 GB/s → ≈ 175 ms.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np

from chaincomp.instances import catalog
from chaincomp.instances.schema import DTYPE_BYTES, ClusterSpec, ModelSpec, WorkloadSpec
from chaincomp.problem import Problem, TimingModel, safe_floor
from chaincomp.errors import InfeasibleInstance

GB = 1e9
TFLOPS = 1e12


class FieldError(Exception):
    """A problem with one field of one input file; :mod:`chaincomp.instances.load` adds the file name.

    ``role`` is ``"cluster"``, ``"model"`` or ``"workload"``; ``path`` the JSON path inside that file.
    """

    def __init__(self, role: str, path: str, message: str):
        super().__init__(f"{role}: {path}: {message}")
        self.role, self.path, self.message = role, path, message


# --- the formulas -----------------------------------------------------------------------------

def bytes_per_value(dtype: str) -> float:
    """Bytes per parameter / cached value of a dtype (SPEC §1.1)."""
    return DTYPE_BYTES[dtype]


def block_size_gb(params_per_block: float, dtype: str = "fp16", weight_overhead: float = 1.01) -> float:
    """s_m = params_per_block × bytes_per_param × 1.01 (GB)."""
    return params_per_block * bytes_per_value(dtype) * weight_overhead / GB


def cache_size_gb(hidden_size: int, max_seq_len: int, kv_bytes: float = 2.0, kv_groups: float = 1.0) -> float:
    """s_c = 2 · hidden · max_seq_len · bytes / kv_groups (GB): keys + values of one block for one job."""
    return 2.0 * hidden_size * max_seq_len * kv_bytes / kv_groups / GB


def prefill_s_per_token(flops_per_block_per_token: float, tflops: np.ndarray | float) -> np.ndarray | float:
    """t^I_j = F / f_j (s per token per block)."""
    return flops_per_block_per_token / (np.asarray(tflops, dtype=float) * TFLOPS)


def decode_s_per_token(block_size_gb_: float, bandwidth_gb_s: np.ndarray | float) -> np.ndarray | float:
    """t^O_j = s_m / b_j (s per token per block)."""
    return block_size_gb_ / np.asarray(bandwidth_gb_s, dtype=float)


def tau_comp_s(block_overhead_s: float, prefill: np.ndarray | float, decode: np.ndarray | float,
               input_tokens: float, output_tokens: float) -> np.ndarray | float:
    """τ^p_j = t_o + t^I_j · l̄_in + t^O_j · (l̄_out − 1)."""
    return block_overhead_s + np.asarray(prefill) * input_tokens + np.asarray(decode) * max(output_tokens - 1.0, 0.0)


def relay_comm_time(rtt_s: np.ndarray, input_tokens: float, output_tokens: float, overhead_s: float) -> np.ndarray:
    """Default τ^c_j = l̄_out · (RTT_j + o): every output token pays one orchestrator round trip.

    A ``comm_time`` plug-in has this signature; ``input_tokens`` is there for models whose first
    token also carries the prompt's transfer time.
    """
    return output_tokens * (np.asarray(rtt_s, dtype=float) + overhead_s)


CommTime = Callable[[np.ndarray, float, float, float], np.ndarray]


# --- model resolution -------------------------------------------------------------------------

@dataclass(frozen=True)
class ResolvedModel:
    """The model after merging card / HF config / explicit fields (everything SPEC §1.1 needs)."""

    name: str
    num_blocks: int
    block_size_gb: float
    cache_size_gb: float
    flops_per_block_per_token: float | None
    dtype: str
    kv_cache_dtype: str
    hidden_size: int | None = None
    num_attention_heads: int | None = None
    num_key_value_heads: int | None = None
    intermediate_size: int | None = None
    vocab_size: int | None = None
    params_per_block: float | None = None
    max_seq_len: int | None = None
    card: str | None = None
    source: str | None = None
    head_dim: int | None = None
    active_params_per_block: float | None = None
    num_experts: int = 1
    num_experts_per_tok: int = 1
    architecture: str | None = None
    hf_name: str | None = None

    @property
    def kv_groups(self) -> float:
        if self.num_attention_heads and self.num_key_value_heads:
            return self.num_attention_heads / self.num_key_value_heads
        return 1.0

    def to_meta(self) -> dict[str, Any]:
        d = asdict(self)
        d["bytes_per_param"] = bytes_per_value(self.dtype)
        d["kv_bytes_per_value"] = bytes_per_value(self.kv_cache_dtype)
        d["kv_groups"] = self.kv_groups
        return d


def resolve_model(spec: ModelSpec, hf_card: catalog.ModelCard | None = None, hf_extra: dict | None = None) -> ResolvedModel:
    """Merge card (or imported HF config) → architecture fields → explicit sizes.

    Raises :class:`FieldError` (role ``model``) naming the field that is missing.
    """
    card = catalog.MODELS[spec.card] if spec.card else hf_card
    hf_extra = hf_extra or {}

    def pick(field: str, card_attr: str | None = None):
        v = getattr(spec, field)
        if v is not None:
            return v
        if card is not None:
            return getattr(card, card_attr or field)
        return None

    layers = spec.num_blocks or spec.layers or (card.layers if card else None)
    if layers is None:
        raise FieldError("model", "num_blocks", "required: give num_blocks (or layers, or a model card)")
    hidden = pick("hidden_size")
    heads = pick("num_attention_heads")
    imported = card is not None and card.architecture is not None  # HF import: overrides already applied
    if imported:
        kv_heads = card.num_key_value_heads
    else:
        kv_heads = spec.num_key_value_heads or (card.num_key_value_heads if card and spec.num_attention_heads is None else None) or heads
    inter = pick("intermediate_size")
    vocab = pick("vocab_size")
    arch_override = any(getattr(spec, f) is not None for f in ("hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "head_dim"))
    head_dim = spec.head_dim or (card.head_dim if card is not None and (imported or not arch_override) else None)
    ppb = spec.params_per_block
    active = spec.active_params_per_block
    if ppb is None and card is not None:
        if imported or not arch_override:
            ppb = card.params_per_block
            active = active or card.active_params_per_block
        elif hidden and heads and kv_heads and inter:
            ppb = catalog.llama_params_per_block(hidden, heads, kv_heads, inter) if card.name != "BLOOM-176B" else catalog.bloom_params_per_block(hidden)
    if active is None:
        active = ppb
    if active is not None and ppb is not None and active > ppb:
        raise FieldError("model", "active_params_per_block",
                         f"{active:g} active parameters per block exceed the {ppb:g} a block holds (params_per_block); "
                         "a token runs at most every weight of the block")
    max_seq = pick("max_seq_len")
    dtype = spec.dtype if ("dtype" in spec.model_fields_set or "dtype" not in hf_extra) else hf_extra["dtype"]

    if spec.block_size_gb is not None:
        s_m = float(spec.block_size_gb)
    elif ppb is not None:
        s_m = block_size_gb(ppb, dtype, spec.weight_overhead)
    else:
        raise FieldError("model", "block_size_gb", "required: give block_size_gb, or params_per_block, or a model card")
    if spec.cache_size_gb is not None:
        s_c = float(spec.cache_size_gb)
    elif head_dim is not None and kv_heads is not None and max_seq is not None:
        s_c = 2.0 * kv_heads * head_dim * max_seq * bytes_per_value(spec.kv_cache_dtype) / GB
    elif hidden is not None and max_seq is not None:
        groups = (heads / kv_heads) if heads and kv_heads else 1.0
        s_c = cache_size_gb(hidden, max_seq, bytes_per_value(spec.kv_cache_dtype), groups)
    else:
        missing = "hidden_size" if hidden is None else "max_seq_len"
        raise FieldError("model", "cache_size_gb", f"required: give cache_size_gb, or hidden_size and max_seq_len (missing {missing}), or a model card")
    flops = spec.flops_per_block_per_token
    if flops is None and active is not None:
        flops = 2.0 * active
    name = spec.name or (card.name if card else None) or "model"
    return ResolvedModel(
        name=name, num_blocks=int(layers), block_size_gb=s_m, cache_size_gb=s_c,
        flops_per_block_per_token=flops, dtype=dtype, kv_cache_dtype=spec.kv_cache_dtype,
        hidden_size=hidden, num_attention_heads=heads, num_key_value_heads=kv_heads,
        intermediate_size=inter, vocab_size=vocab, params_per_block=ppb, max_seq_len=max_seq,
        card=card.name if card else None, source=card.source if card else None,
        head_dim=head_dim, active_params_per_block=active,
        num_experts=card.num_experts if imported else 1, num_experts_per_tok=card.num_experts_per_tok if imported else 1,
        architecture=card.architecture if card else None, hf_name=card.hf_name if card else None,
    )


# --- building the Problem ---------------------------------------------------------------------

def build_problem(
    cluster: ClusterSpec,
    model: ResolvedModel,
    workload: WorkloadSpec,
    *,
    arrival_rate: float | None = None,
    target_load: float | None = None,
    name: str = "instance",
    meta: dict[str, Any] | None = None,
    comm_time: CommTime = relay_comm_time,
) -> Problem:
    """Derive M_j, τ^c_j, τ^p_j (SPEC §1.1) and assemble the :class:`Problem`.

    ``arrival_rate`` / ``target_load`` override the workload's. Servers whose τ was given
    explicitly get NaN in the corresponding :class:`TimingModel` arrays (τ^c override → rtt NaN;
    τ^p override → prefill/decode NaN); when every entry is NaN, ``timing`` is None. With a
    non-default ``comm_time`` the RTT array is NaN too (the simulator's per-request recomputation
    assumes the default relay formula).

    Raises :class:`FieldError` for a missing arrival rate or an underivable τ^p.
    """
    lam = arrival_rate if arrival_rate is not None else workload.arrival_rate
    if lam is None:
        raise FieldError("workload", "arrival_rate", "no arrival rate λ: give arrival_rate in the workload (or --rate)")
    rho = target_load if target_load is not None else workload.target_load
    l_in, l_out = float(workload.mean_input_tokens), float(workload.mean_output_tokens)
    t_o = workload.block_overhead_ms / 1e3
    o = workload.comm_overhead_ms / 1e3

    ids: list[str] = []
    mem, tflops, bw, rtt, tc_over, tp_over, srv_meta = [], [], [], [], [], [], []
    for i, s in enumerate(cluster.servers):
        tf, b = s.resolved_tflops(), s.resolved_bandwidth_gb_s()
        if s.tau_comp_s is None and model.flops_per_block_per_token is None:
            raise FieldError("model", "flops_per_block_per_token",
                             f"required to derive τ^p of server {s.id!r} (cluster servers[{i}]); give it, or params_per_block, or a model card, or tau_comp_s on the server")
        for sid in s.expanded_ids():
            ids.append(sid)
            mem.append(s.resolved_memory_gb())
            tflops.append(np.nan if tf is None else tf)
            bw.append(np.nan if b is None else b)
            rtt.append(np.nan if s.rtt_ms is None else s.rtt_ms / 1e3)
            tc_over.append(np.nan if s.tau_comm_s is None else s.tau_comm_s)
            tp_over.append(np.nan if s.tau_comp_s is None else s.tau_comp_s)
            srv_meta.append({"id": sid, "gpu": s.gpu, "num_gpus": s.num_gpus, "tflops": tf, "bandwidth_gb_s": b,
                             "rtt_ms": s.rtt_ms, "region": s.region})
    mem_a = np.array(mem, dtype=float)
    tf_a, bw_a, rtt_a = np.array(tflops), np.array(bw), np.array(rtt)
    tc_over_a, tp_over_a = np.array(tc_over), np.array(tp_over)

    F = model.flops_per_block_per_token
    with np.errstate(invalid="ignore"):
        prefill = prefill_s_per_token(F, tf_a) if F is not None else np.full(len(ids), np.nan)
        decode = decode_s_per_token(model.block_size_gb, bw_a)
    prefill = np.where(np.isnan(tp_over_a), prefill, np.nan)
    decode = np.where(np.isnan(tp_over_a), decode, np.nan)
    tau_p = np.where(np.isnan(tp_over_a), tau_comp_s(t_o, prefill, decode, l_in, l_out), tp_over_a)
    timing_rtt = np.where(np.isnan(tc_over_a), rtt_a, np.nan)
    tau_c = np.where(np.isnan(tc_over_a), comm_time(np.nan_to_num(rtt_a), l_in, l_out, o), tc_over_a)
    if comm_time is not relay_comm_time:
        timing_rtt = np.full(len(ids), np.nan)

    timing = None
    if np.isfinite(timing_rtt).any() or np.isfinite(prefill).any():
        timing = TimingModel(rtt_s=timing_rtt, prefill_s_per_token=prefill, decode_s_per_token=decode,
                             block_overhead_s=t_o, comm_overhead_s=o)

    full_meta: dict[str, Any] = {
        "model": model.to_meta(),
        "workload": workload.model_dump(exclude_none=True) | {"arrival_rate": lam, "target_load": rho},
        "cluster": {k: v for k, v in {"name": cluster.name, "description": cluster.description,
                                      "orchestrator": cluster.orchestrator, "meta": cluster.meta or None}.items() if v is not None},
        "servers": srv_meta,
        "comm_model": getattr(comm_time, "__name__", "custom"),
    }
    full_meta.update(meta or {})
    return Problem(
        server_ids=tuple(ids),
        memory_gb=mem_a,
        tau_comm_s=tau_c,
        tau_comp_s=tau_p,
        num_blocks=model.num_blocks,
        block_size_gb=model.block_size_gb,
        cache_size_gb=model.cache_size_gb,
        arrival_rate=float(lam),
        target_load=float(rho),
        mean_input_tokens=l_in,
        mean_output_tokens=l_out,
        timing=timing,
        name=name,
        meta=full_meta,
    )


def check_hostable(problem: Problem, model_name: str = "the model") -> None:
    """Raise :class:`InfeasibleInstance` if no placement can serve even one job.

    A server can contribute at most ⌊M_j/(s_m + s_c)⌋ blocks to a chain (each hosted block with
    one cache slot). If that is 0 everywhere the model fits on no server; if the sum over servers
    is below L no chain can cover all blocks.
    """
    per_block = problem.block_size_gb + problem.cache_size_gb
    biggest = int(np.argmax(problem.memory_gb))
    if problem.memory_gb[biggest] + 1e-12 < per_block:
        raise InfeasibleInstance(
            f"{model_name} fits on no server: one block with one cache slot needs s_m + s_c = "
            f"{problem.block_size_gb:.4g} + {problem.cache_size_gb:.4g} = {per_block:.4g} GB, but the largest server "
            f"({problem.server_ids[biggest]!r}) has only {problem.memory_gb[biggest]:.4g} GB")
    hostable = int(np.minimum(safe_floor(problem.memory_gb / per_block), problem.num_blocks).sum())
    if hostable < problem.num_blocks:
        raise InfeasibleInstance(
            f"the cluster's memory hosts only {hostable} of {problem.num_blocks} blocks of {model_name} even with a single "
            f"cache slot per block (s_m + s_c = {per_block:.4g} GB; total memory {problem.memory_gb.sum():.4g} GB)")
