"""Pydantic v2 models of the instance files (cluster, model, workload, single-file instance) and of
the Solution JSON. Every field carries its unit in its name; unknown fields are rejected so that a
typo (``memroy_gb``) is reported instead of silently ignored.

These models only check each file on its own (types, ranges, which combinations of fields are
allowed). Cross-file checks (does the model fit on some server? can τ^p be derived?) and the
parameter derivation of SPEC §1.1 live in :mod:`chaincomp.instances.derive`; turning errors into
``file: json.path: expected …`` messages lives in :mod:`chaincomp.instances.load`.

Choices where the SPEC leaves room (also in docs/instances.md):

* A catalog ``gpu`` fills memory, TFLOPS and bandwidth; explicit ``memory_gb`` / ``tflops`` /
  ``bandwidth_gb_s`` on the same server override the catalog figure.
* ``num_gpus`` (default 1) models a multi-GPU node as one server with the summed memory, compute
  and bandwidth (SPEC §6.3).
* ``count`` (default 1) replicates a server entry; copies get ids ``{id}-1`` … ``{id}-{count}``.
* ``tau_comm_s`` / ``tau_comp_s`` override the derived τ^c_j / τ^p_j of that server.
* The workload's token means default to the paper's BLOOM setup (2000 in, 20 out; SPEC §6.1); the
  arrival rate has no default (give it in the file or with ``--rate``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chaincomp.instances import catalog
from chaincomp.io import limits as _lim
from chaincomp.io.text import check_identifier

Dtype = Literal["fp16", "bf16", "fp32", "int8", "nf4"]

#: bytes per parameter / cached value (SPEC §1.1: nf4 = 4.25/8 with its block-wise scales)
DTYPE_BYTES: dict[str, float] = {"fp16": 2.0, "bf16": 2.0, "fp32": 4.0, "int8": 1.0, "nf4": 4.25 / 8}

PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PosInt = Annotated[int, Field(ge=1)]
# bounded forms (limits documented in docs/reliability.md; chaincomp.io.limits is their one home)
MemoryGB = Annotated[float, Field(gt=0, le=_lim.MAX_MEMORY_GB, allow_inf_nan=False)]
SizeGB = Annotated[float, Field(gt=0, le=_lim.MAX_SIZE_GB, allow_inf_nan=False)]
TimeS = Annotated[float, Field(ge=0, le=_lim.MAX_TIME_S, allow_inf_nan=False)]
TimeMs = Annotated[float, Field(ge=0, le=_lim.MAX_TIME_S * 1000, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=_lim.MIN_ARRIVAL_RATE, le=_lim.MAX_ARRIVAL_RATE, allow_inf_nan=False)]
Tokens = Annotated[int, Field(ge=1, le=_lim.MAX_TOKENS)]
ArchDim = Annotated[int, Field(ge=1, le=_lim.MAX_ARCH_DIM)]
BigFloat = Annotated[float, Field(gt=0, le=_lim.MAX_PARAMS, allow_inf_nan=False)]
Ident = Annotated[str, Field(min_length=1, max_length=_lim.MAX_ID_LENGTH)]


class _Strict(BaseModel):
    # strict: a JSON true or "1" is not a number (an integer is accepted where a float is expected)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


# --- cluster ----------------------------------------------------------------------------------

class ServerSpec(_Strict):
    """One GPU server (or ``count`` identical ones)."""

    id: Ident = Field(description="Server name (unique in the cluster; no control characters).")
    gpu: Optional[str] = Field(None, description="GPU type from the catalog: " + ", ".join(catalog.gpu_names()) + ".")
    num_gpus: Annotated[int, Field(ge=1, le=_lim.MAX_GPUS)] = Field(1, description="GPUs in this node; memory, TFLOPS and bandwidth are summed (multi-GPU node = one server).")
    memory_gb: Optional[MemoryGB] = Field(None, description="GPU memory M_j per GPU (GB = 1e9 bytes); overrides the catalog.")
    tflops: Optional[BigFloat] = Field(None, description="Dense fp16 compute per GPU (TFLOP/s); overrides the catalog.")
    bandwidth_gb_s: Optional[BigFloat] = Field(None, description="Memory bandwidth per GPU (GB/s); overrides the catalog.")
    rtt_ms: Optional[Annotated[float, Field(ge=0, le=_lim.MAX_RTT_MS, allow_inf_nan=False)]] = Field(None, description="Round-trip time between the orchestrator and this server (ms).")
    tau_comm_s: Optional[TimeS] = Field(None, description="Explicit τ^c_j, per-job communication time (s); overrides the RTT derivation.")
    tau_comp_s: Optional[TimeS] = Field(None, description="Explicit τ^p_j, per-job computation time per block (s); overrides the FLOPS/bandwidth derivation.")
    count: Annotated[int, Field(ge=1, le=_lim.MAX_SERVER_COUNT)] = Field(1, description="Replicate this entry; copies are named {id}-1 … {id}-{count}.")
    region: Optional[str] = Field(None, description="Informational region label.")
    note: Optional[str] = None

    _id_ok = field_validator("id")(check_identifier)

    @field_validator("gpu")
    @classmethod
    def _known_gpu(cls, v: str | None) -> str | None:
        if v is None:
            return v
        spec = catalog.find_gpu(v)
        if spec is None:
            raise ValueError(f"unknown GPU type {v!r}; the catalog has: {', '.join(catalog.gpu_names())} (or give memory_gb, tflops and bandwidth_gb_s explicitly)")
        return spec.name

    @model_validator(mode="after")
    def _complete(self) -> "ServerSpec":
        if self.gpu is None and self.memory_gb is None:
            raise ValueError("give either 'gpu' (a catalog type) or 'memory_gb'")
        if self.tau_comp_s is None and self.gpu is None and (self.tflops is None or self.bandwidth_gb_s is None):
            raise ValueError("cannot derive τ^p: give 'gpu' (a catalog type), or both 'tflops' and 'bandwidth_gb_s', or an explicit 'tau_comp_s'")
        if self.tau_comm_s is None and self.rtt_ms is None:
            raise ValueError("cannot derive τ^c: give 'rtt_ms' (RTT to the orchestrator) or an explicit 'tau_comm_s'")
        return self

    # resolved figures (catalog + overrides, times num_gpus)
    def resolved_memory_gb(self) -> float:
        base = self.memory_gb if self.memory_gb is not None else catalog.GPUS[self.gpu].memory_gb  # type: ignore[index]
        return base * self.num_gpus

    def resolved_tflops(self) -> float | None:
        base = self.tflops if self.tflops is not None else (catalog.GPUS[self.gpu].tflops if self.gpu else None)
        return None if base is None else base * self.num_gpus

    def resolved_bandwidth_gb_s(self) -> float | None:
        base = self.bandwidth_gb_s if self.bandwidth_gb_s is not None else (catalog.GPUS[self.gpu].bandwidth_gb_s if self.gpu else None)
        return None if base is None else base * self.num_gpus

    def expanded_ids(self) -> list[str]:
        return [self.id] if self.count == 1 else [f"{self.id}-{k}" for k in range(1, self.count + 1)]


class ClusterSpec(_Strict):
    """The GPU servers and their RTT to the central orchestrator (SPEC §1)."""

    name: Optional[str] = None
    description: Optional[str] = None
    orchestrator: Optional[str] = Field(None, description="Where the orchestrator sits (informational).")
    servers: list[ServerSpec] = Field(min_length=1, max_length=_lim.MAX_SERVERS)
    meta: dict[str, Any] = Field(default_factory=dict, description="Free-form provenance (e.g. how RTTs were drawn).")

    @model_validator(mode="after")
    def _unique_ids(self) -> "ClusterSpec":
        seen: dict[str, int] = {}
        total = sum(s.count for s in self.servers)
        if total > _lim.MAX_SERVERS:
            raise ValueError(f"{total} servers (after count expansion) exceed the limit of {_lim.MAX_SERVERS}")
        for i, s in enumerate(self.servers):
            for sid in s.expanded_ids():
                if sid in seen:
                    raise ValueError(f"server id {sid!r} appears twice (servers[{seen[sid]}] and servers[{i}]); ids must be unique")
                seen[sid] = i
        return self


# --- model ------------------------------------------------------------------------------------

class ModelSpec(_Strict):
    """The served model: explicit sizes, a model card, architecture figures, or a mix.

    Resolution order: the card (``card``) or a Hugging Face config (``hf_config``) gives defaults;
    any architecture field given here overrides it; explicit ``num_blocks`` / ``block_size_gb`` /
    ``cache_size_gb`` override what would be derived (SPEC §1.1).
    """

    name: Optional[str] = None
    description: Optional[str] = None
    card: Optional[str] = Field(None, description="Model card name: " + ", ".join(catalog.model_names()) + ".")
    hf_config: Optional[str] = Field(None, description="Path to a Hugging Face config.json (relative to this file) to import the architecture from.")
    num_blocks: Optional[Annotated[int, Field(ge=1, le=_lim.MAX_BLOCKS)]] = Field(None, description="L, number of blocks (transformer layers).")
    block_size_gb: Optional[SizeGB] = Field(None, description="s_m, weights of one block (GB).")
    cache_size_gb: Optional[SizeGB] = Field(None, description="s_c, KV cache of one block for one job at max_seq_len (GB).")
    layers: Optional[Annotated[int, Field(ge=1, le=_lim.MAX_BLOCKS)]] = Field(None, description="Transformer layers (= num_blocks).")
    hidden_size: Optional[ArchDim] = None
    num_attention_heads: Optional[ArchDim] = None
    num_key_value_heads: Optional[ArchDim] = Field(None, description="KV heads (GQA/MQA); default = num_attention_heads.")
    intermediate_size: Optional[ArchDim] = None
    vocab_size: Optional[ArchDim] = None
    params_per_block: Optional[BigFloat] = Field(None, description="Parameters of one block (count, not billions).")
    head_dim: Optional[ArchDim] = Field(None, description="Per-head width when it is not hidden_size / num_attention_heads (Gemma); sizes the KV cache.")
    active_params_per_block: Optional[BigFloat] = Field(None, description="Parameters one token runs through (MoE: the routed experts only); F defaults to 2 × this; default params_per_block.")
    dtype: Dtype = Field("fp16", description="Weight format: fp16/bf16 (2 bytes), int8 (1), nf4 (4.25/8), fp32 (4).")
    kv_cache_dtype: Dtype = Field("fp16", description="Format of cached keys/values.")
    max_seq_len: Optional[Tokens] = Field(None, description="Tokens the KV cache is reserved for (s_c).")
    flops_per_block_per_token: Optional[BigFloat] = Field(None, description="F, FLOPs per block per token (prefill); default 2 × params_per_block.")
    weight_overhead: Annotated[float, Field(ge=1.0, le=100.0, allow_inf_nan=False)] = Field(1.01, description="Multiplier on weight bytes (SPEC §1.1: 1.01).")

    @field_validator("card")
    @classmethod
    def _known_card(cls, v: str | None) -> str | None:
        if v is None:
            return v
        card = catalog.find_model(v)
        if card is None:
            raise ValueError(f"unknown model card {v!r}; known cards: {', '.join(catalog.model_names())}")
        return card.name

    @model_validator(mode="after")
    def _consistent(self) -> "ModelSpec":
        if self.card and self.hf_config:
            raise ValueError("give 'card' or 'hf_config', not both")
        if self.num_blocks is not None and self.layers is not None and self.num_blocks != self.layers:
            raise ValueError(f"num_blocks ({self.num_blocks}) and layers ({self.layers}) disagree")
        if self.num_key_value_heads and self.num_attention_heads and self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        return self


# --- workload ---------------------------------------------------------------------------------

class WorkloadSpec(_Strict):
    """Arrivals and the per-job constants behind τ (SPEC §1, §1.1)."""

    description: Optional[str] = None
    arrival_rate: Optional[Rate] = Field(None, description="λ, requests per second (required here or via --rate).")
    target_load: Annotated[float, Field(ge=_lim.MIN_TARGET_LOAD, le=1, allow_inf_nan=False)] = Field(0.7, description="ρ̄ in [1e-6, 1]: the design needs ν ≥ λ/ρ̄.")
    mean_input_tokens: Annotated[float, Field(ge=0, le=_lim.MAX_TOKENS, allow_inf_nan=False)] = Field(2000.0, description="l̄_in, mean prompt length (tokens).")
    mean_output_tokens: Annotated[float, Field(ge=1, le=_lim.MAX_TOKENS, allow_inf_nan=False)] = Field(20.0, description="l̄_out, mean generated tokens (≥ 1).")
    block_overhead_ms: TimeMs = Field(1.0, description="t_o, per-block per-job overhead (ms).")
    comm_overhead_ms: TimeMs = Field(18.0, description="o, serialization overhead per round trip (ms).")


class InstanceSpec(_Strict):
    """A whole instance in one file (what `chaincomp generate` writes)."""

    name: str = Field(min_length=1)
    description: Optional[str] = None
    cluster: ClusterSpec
    model: ModelSpec
    workload: WorkloadSpec = Field(default_factory=WorkloadSpec)
    meta: dict[str, Any] = Field(default_factory=dict, description="Free-form provenance (generator, seed, …).")


# --- Solution JSON (mirror of chaincomp.core.solution.Solution.to_dict) -----------------------

class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# Solution files are read strictly (chaincomp.io boundary): numbers are JSON numbers (no bool, no
# string), finite, and integers within the limits of docs/reliability.md; value rules (ranges, the
# chain rule, memory, rates) are the verifier's (chaincomp.core.verify).
class _SolStrict(BaseModel):
    model_config = ConfigDict(strict=True, allow_inf_nan=False)


FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
FinitePos = Annotated[float, Field(gt=0, allow_inf_nan=False)]
FiniteNonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
BlockInt = Annotated[int, Field(ge=0, le=_lim.MAX_BLOCKS + 1)]
CapInt = Annotated[int, Field(ge=-(2**53), le=2**53)]


class SolutionServer(_SolStrict):
    id: Ident
    memory_gb: FiniteNonNeg
    tau_comm_s: FiniteNonNeg
    tau_comp_s: FiniteNonNeg

    _id_ok = field_validator("id")(check_identifier)


class SolutionTiming(_SolStrict):
    rtt_s: list[Optional[FiniteFloat]]
    prefill_s_per_token: list[Optional[FiniteFloat]]
    decode_s_per_token: list[Optional[FiniteFloat]]
    block_overhead_s: FiniteFloat
    comm_overhead_s: FiniteFloat


class SolutionInstance(_SolStrict):
    """The derived instance (``Problem.to_dict``): blocks, sizes, workload, per-server M, τ^c, τ^p."""

    name: str
    num_blocks: Annotated[int, Field(ge=1, le=_lim.MAX_BLOCKS)]
    block_size_gb: FinitePos
    cache_size_gb: FinitePos
    arrival_rate: Annotated[float, Field(ge=_lim.MIN_ARRIVAL_RATE, le=_lim.MAX_ARRIVAL_RATE, allow_inf_nan=False)]
    target_load: Annotated[float, Field(ge=_lim.MIN_TARGET_LOAD, le=1, allow_inf_nan=False)] = 0.7
    mean_input_tokens: Optional[Annotated[float, Field(ge=0, le=_lim.MAX_TOKENS, allow_inf_nan=False)]] = None
    mean_output_tokens: Optional[Annotated[float, Field(ge=0, le=_lim.MAX_TOKENS, allow_inf_nan=False)]] = None
    servers: list[SolutionServer] = Field(min_length=1, max_length=_lim.MAX_SERVERS)
    meta: dict[str, Any] = Field(default_factory=dict)
    timing: Optional[SolutionTiming] = None


class PlacementRecord(_SolStrict):
    server: str
    first_block: Optional[BlockInt] = Field(description="First hosted block, 1-based; null when the server hosts nothing.")
    num_blocks: BlockInt


class ChainRecord(_SolStrict):
    servers: list[str] = Field(description="Servers of the chain in processing order.", max_length=_lim.MAX_SERVERS)
    blocks: list[BlockInt] = Field(description="Blocks processed at each hop (m_ij).", max_length=_lim.MAX_SERVERS)
    service_time_s: FinitePos = Field(description="T_k (Eq. 2).")
    capacity: CapInt = Field(description="c_k, concurrent jobs the chain may serve.")


class SolutionMetrics(_Open):
    job_servers: Optional[int] = None
    total_capacity: Optional[int] = None
    num_chains: Optional[int] = None
    service_rate: Optional[float] = None
    required_rate: Optional[float] = None
    load: Optional[float] = None
    response_time_lower_s: Optional[float] = None
    response_time_upper_s: Optional[float] = None
    surrogate_response_time_s: Optional[float] = None


class SolutionProvenance(_Open):
    toolkit: Optional[str] = None
    toolkit_version: Optional[str] = None
    python: Optional[str] = None
    method: Optional[str] = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    wall_time_s: Optional[float] = None
    seed: Optional[int] = None


class SolutionFile(BaseModel):
    """The Solution JSON written by ``chaincomp solve --json/--out`` (chains fastest first)."""

    instance: SolutionInstance
    method: str
    parameters: dict[str, Any] = Field(description="Method parameters, including cache_reservation.")
    placement: list[PlacementRecord] = Field(max_length=_lim.MAX_SERVERS)
    chains: list[ChainRecord]
    metrics: SolutionMetrics
    provenance: SolutionProvenance
    solver: Optional[dict[str, Any]] = Field(None, description="MILP runs: solver name/version, status, bound, gap.")
    extra: Optional[dict[str, Any]] = Field(None, description="Method-specific details (e.g. the tuning table).")
    export: Optional[dict[str, Any]] = Field(None, description="Deployment commands (`solve --export petals`: export.petals.servers[].command).")


SCHEMAS: dict[str, type[BaseModel]] = {
    "cluster": ClusterSpec,
    "model": ModelSpec,
    "workload": WorkloadSpec,
    "instance": InstanceSpec,
    "solution": SolutionFile,
}


def model_file_schema() -> dict[str, Any]:
    """What ``--model`` accepts: a chaincomp model file or a raw Hugging Face config.json."""
    from chaincomp.instances.hf import json_schema as hf_schema

    return {"title": "Model file", "anyOf": [ModelSpec.model_json_schema(), hf_schema()]}


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one file kind, with ``$schema``/``$id`` (see :mod:`chaincomp.schemas`)."""
    from chaincomp import schemas  # the home of every file schema

    return schemas.get(kind)
