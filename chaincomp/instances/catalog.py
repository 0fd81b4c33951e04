"""GPU catalog and model cards with public figures (inputs to SPEC §1.1).

GPU entries
-----------
Each entry gives the GPU memory (GB = 10⁹ bytes, the nominal marketing size), the dense fp16/bf16
tensor-core peak in TFLOPS (no 2:4 sparsity; for GeForce cards the fp16-with-fp32-accumulate figure,
which is what fp16 inference kernels use) and the peak memory bandwidth in GB/s, with a source note.
Names are matched case-insensitively, ignoring spaces, ``-`` and ``_`` (``a100-80gb`` = ``A100 80GB``).

A100 MIG slices
~~~~~~~~~~~~~~~
An A100 80 GB splits into 7 compute slices (14 SMs each, 98 of its 108 SMs) and 8 memory slices
(10 GB and 1/8 of the HBM bandwidth each). A ``Ng.Mgb`` profile gets N compute slices and M/10
memory slices, so we take

* TFLOPS = 312 × 14·N / 108 (per-SM share of the full card's dense fp16 peak),
* bandwidth = 2039 GB/s × (M/10) / 8 (its share of the HBM2e memory controllers),
* memory = the nominal M GB.

3g.40gb → 121.3 TFLOPS, 1019.5 GB/s; 2g.20gb → 80.9 TFLOPS, 509.8 GB/s. These are the paper's
"high-performance 120 TFLOPS / 1.02 GB/ms" and "low-performance 80 TFLOPS / 0.51 GB/ms" servers
(SPEC §6.1, §6.2) up to rounding, which is how the paper's numbers were obtained.

Model cards
~~~~~~~~~~~
Architecture figures from each model's published ``config.json`` / paper. ``params_per_block`` is
computed from the architecture (weights of one transformer layer, biases and norms included, no
embeddings):

* BLOOM (GELU MLP with biases): 12·h² + 13·h;
* LLaMA family (SwiGLU MLP, no biases, GQA): 2·h² + 2·h·(h/g) + 3·h·i + 2·h, g = heads/kv_heads.

``flops_per_block_per_token`` defaults to 2 × params_per_block (one multiply-add per weight; the
attention-score FLOPs are left out — SPEC §1.1 uses F = 5 GFLOP for BLOOM-176B, and 2 × 2.466e9 =
4.93e9). ``max_seq_len`` is the default length the KV cache s_c is sized for (override it in the
model file: the paper sizes BLOOM's cache for 2048 tokens and LLaMA-2-7B's for 2048 as well).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GPUSpec:
    name: str
    memory_gb: float
    tflops: float
    bandwidth_gb_s: float
    source: str


@dataclass(frozen=True)
class ModelCard:
    name: str
    layers: int
    hidden_size: int
    num_attention_heads: int
    num_key_value_heads: int
    params_per_block: float
    max_seq_len: int
    intermediate_size: int | None = None
    vocab_size: int | None = None
    source: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)
    #: per-head width when it is not hidden / heads (Gemma); None = hidden / heads
    head_dim: int | None = None
    #: parameters one token runs through (MoE: the routed experts only); None = params_per_block
    active_params_per_block: float | None = None
    num_experts: int = 1
    num_experts_per_tok: int = 1
    #: Hugging Face model_type when the card came from a config.json (its formulas already applied)
    architecture: str | None = None
    #: the config's ``_name_or_path`` (Hub repo id), when given
    hf_name: str | None = None

    @property
    def kv_groups(self) -> float:
        return self.num_attention_heads / self.num_key_value_heads

    @property
    def flops_per_block_per_token(self) -> float:
        """F = 2 × the parameters a token runs through (MoE: active experts only)."""
        return 2.0 * (self.active_params_per_block or self.params_per_block)


def _mig(n_compute: int, mem_gb: int) -> tuple[float, float]:
    return 312.0 * 14 * n_compute / 108, 2039.0 * (mem_gb / 10) / 8


_MIG3 = _mig(3, 40)
_MIG2 = _mig(2, 20)
_MIG1 = _mig(1, 10)

GPUS: dict[str, GPUSpec] = {
    g.name: g
    for g in (
        GPUSpec("A100-80GB", 80.0, 312.0, 2039.0, "NVIDIA A100 datasheet (SXM4 80GB): 312 TFLOPS fp16/bf16 tensor dense, 2039 GB/s HBM2e"),
        GPUSpec("A100-40GB", 40.0, 312.0, 1555.0, "NVIDIA A100 datasheet (SXM4 40GB): 312 TFLOPS fp16/bf16 tensor dense, 1555 GB/s HBM2"),
        GPUSpec("A100-MIG-3g.40gb", 40.0, round(_MIG3[0], 1), round(_MIG3[1], 1), "A100 80GB MIG 3g.40gb: 3/7 compute slices (42 of 108 SMs) of 312 TFLOPS, 4/8 memory slices of 2039 GB/s"),
        GPUSpec("A100-MIG-2g.20gb", 20.0, round(_MIG2[0], 1), round(_MIG2[1], 1), "A100 80GB MIG 2g.20gb: 2/7 compute slices (28 of 108 SMs) of 312 TFLOPS, 2/8 memory slices of 2039 GB/s"),
        GPUSpec("A100-MIG-1g.10gb", 10.0, round(_MIG1[0], 1), round(_MIG1[1], 1), "A100 80GB MIG 1g.10gb: 1/7 compute slice (14 of 108 SMs) of 312 TFLOPS, 1/8 memory slice of 2039 GB/s"),
        GPUSpec("H100-80GB", 80.0, 989.4, 3350.0, "NVIDIA H100 datasheet (SXM5 80GB): 989 TFLOPS fp16/bf16 tensor dense, 3.35 TB/s HBM3"),
        GPUSpec("L4", 24.0, 121.0, 300.0, "NVIDIA L4 datasheet: 242 TFLOPS fp16 tensor with sparsity → 121 dense, 300 GB/s GDDR6"),
        GPUSpec("T4", 16.0, 65.0, 320.0, "NVIDIA T4 datasheet: 65 TFLOPS fp16 mixed-precision tensor, 320 GB/s GDDR6"),
        GPUSpec("V100-32GB", 32.0, 125.0, 900.0, "NVIDIA V100 datasheet (SXM2 32GB): 125 TFLOPS tensor, 900 GB/s HBM2"),
        GPUSpec("V100-16GB", 16.0, 125.0, 900.0, "NVIDIA V100 datasheet (SXM2 16GB): 125 TFLOPS tensor, 900 GB/s HBM2"),
        GPUSpec("RTX-3090", 24.0, 71.0, 936.0, "NVIDIA Ampere GA102 whitepaper: RTX 3090 71 TFLOPS fp16 tensor (fp32 accumulate) dense, 936 GB/s GDDR6X"),
        GPUSpec("RTX-4090", 24.0, 165.2, 1008.0, "NVIDIA Ada whitepaper: RTX 4090 165.2 TFLOPS fp16 tensor (fp32 accumulate) dense, 1008 GB/s GDDR6X"),
    )
}

_GPU_ALIASES = {
    "a100": "A100-80GB",
    "a10080g": "A100-80GB",
    "a10040g": "A100-40GB",
    "h100": "H100-80GB",
    "v100": "V100-32GB",
    "3g40gb": "A100-MIG-3g.40gb",
    "2g20gb": "A100-MIG-2g.20gb",
    "1g10gb": "A100-MIG-1g.10gb",
    "a100mig3g40gb": "A100-MIG-3g.40gb",
    "a100mig2g20gb": "A100-MIG-2g.20gb",
    "a100mig1g10gb": "A100-MIG-1g.10gb",
    "mig3g40gb": "A100-MIG-3g.40gb",
    "mig2g20gb": "A100-MIG-2g.20gb",
    "mig1g10gb": "A100-MIG-1g.10gb",
    "rtx3090": "RTX-3090",
    "rtx4090": "RTX-4090",
    "3090": "RTX-3090",
    "4090": "RTX-4090",
}


def _key(name: str) -> str:
    return re.sub(r"[\s\-_.]", "", name).lower()


_GPU_INDEX = {_key(n): n for n in GPUS} | {_key(k): v for k, v in _GPU_ALIASES.items()}


def find_gpu(name: str) -> GPUSpec | None:
    """The catalog entry for ``name`` (case/punctuation-insensitive), or None."""
    canon = _GPU_INDEX.get(_key(name))
    return GPUS[canon] if canon else None


def gpu_names() -> list[str]:
    return list(GPUS)


# --- model cards ------------------------------------------------------------------------------

def bloom_params_per_block(h: int) -> float:
    """BLOOM layer: QKV (3h² + 3h), dense (h² + h), MLP h→4h→h (8h² + 5h), two LayerNorms (4h)."""
    return 12.0 * h * h + 13.0 * h


def llama_params_per_block(h: int, heads: int, kv_heads: int, inter: int) -> float:
    """LLaMA layer: q, o (2h²), k, v (2·h·h/g), SwiGLU MLP (3·h·i), two RMSNorms (2h); no biases."""
    g = heads / kv_heads
    return 2.0 * h * h + 2.0 * h * h / g + 3.0 * h * inter + 2.0 * h


def _llama(name, layers, h, heads, kv, inter, vocab, max_seq, source, aliases=()):
    return ModelCard(name, layers, h, heads, kv, llama_params_per_block(h, heads, kv, inter), max_seq,
                     inter, vocab, source, tuple(aliases))


MODELS: dict[str, ModelCard] = {
    m.name: m
    for m in (
        ModelCard("BLOOM-176B", 70, 14336, 112, 112, bloom_params_per_block(14336), 2048, 4 * 14336, 250880,
                  "bigscience/bloom config.json (n_layer 70, hidden 14336, n_head 112); BigScience (2022)", ("bloom",)),
        _llama("LLaMA-2-7B", 32, 4096, 32, 32, 11008, 32000, 4096, "meta-llama/Llama-2-7b-hf config.json; Touvron et al. (2023)", ("llama2-7b",)),
        _llama("LLaMA-2-13B", 40, 5120, 40, 40, 13824, 32000, 4096, "meta-llama/Llama-2-13b-hf config.json; Touvron et al. (2023)", ("llama2-13b",)),
        _llama("LLaMA-2-70B", 80, 8192, 64, 8, 28672, 32000, 4096, "meta-llama/Llama-2-70b-hf config.json (GQA, 8 KV heads); Touvron et al. (2023)", ("llama2-70b",)),
        _llama("Llama-3-8B", 32, 4096, 32, 8, 14336, 128256, 8192, "meta-llama/Meta-Llama-3-8B config.json (GQA, 8 KV heads)", ("llama3-8b",)),
        _llama("Llama-3-70B", 80, 8192, 64, 8, 28672, 128256, 8192, "meta-llama/Meta-Llama-3-70B config.json (GQA, 8 KV heads)", ("llama3-70b",)),
        _llama("LLaMA-30B", 60, 6656, 52, 52, 17920, 32000, 2048, "LLaMA-1 33B (\"30B\") params: 60 layers, dim 6656, 52 heads; Touvron et al. (2023a)", ("llama-33b", "llama1-30b")),
    )
}

_MODEL_INDEX = {_key(n): n for n in MODELS}
for _m in MODELS.values():
    for _a in _m.aliases:
        _MODEL_INDEX[_key(_a)] = _m.name


def find_model(name: str) -> ModelCard | None:
    canon = _MODEL_INDEX.get(_key(name))
    return MODELS[canon] if canon else None


def model_names() -> list[str]:
    return list(MODELS)


# --- Hugging Face config.json -----------------------------------------------------------------

def is_hf_config(data: dict[str, Any]) -> bool:
    """Heuristic: a Hugging Face ``config.json`` (not one of our model files)."""
    return isinstance(data, dict) and (
        "architectures" in data or "model_type" in data or "num_hidden_layers" in data or "n_layer" in data
    )


def card_from_hf_config(data: dict[str, Any], name: str | None = None,
                        overrides: dict[str, Any] | None = None) -> tuple[ModelCard, dict[str, Any]]:
    """A model card from a Hugging Face ``config.json`` (rules: :mod:`chaincomp.instances.hf`).

    Returns the card and extra fields (``dtype`` when the config gives one). Raises
    :class:`chaincomp.instances.hf.HFConfigError` naming the field for a missing, inconsistent or
    unsupported config.
    """
    from chaincomp.instances.hf import read_hf_config

    a = read_hf_config(data, overrides)
    seq_note = "" if a.max_seq_len_given else f"; max_seq_len {a.max_seq_len} (the config gives none)"
    moe_note = f"; MoE {a.num_experts} experts, {a.num_experts_per_tok} per token" if a.num_experts > 1 else ""
    card = ModelCard(
        name=name or a.name or a.model_type,
        layers=a.layers, hidden_size=a.hidden_size, num_attention_heads=a.num_attention_heads,
        num_key_value_heads=a.num_key_value_heads, params_per_block=a.params_per_block,
        max_seq_len=a.max_seq_len, intermediate_size=a.intermediate_size, vocab_size=a.vocab_size,
        source=f"Hugging Face config.json ({a.model_type}; params per block from the architecture{moe_note}{seq_note})",
        head_dim=a.head_dim, active_params_per_block=a.active_params_per_block, num_experts=a.num_experts,
        num_experts_per_tok=a.num_experts_per_tok, architecture=a.model_type, hf_name=a.name,
    )
    extra: dict[str, Any] = {}
    if a.dtype is not None:
        extra["dtype"] = a.dtype
    return card, extra
