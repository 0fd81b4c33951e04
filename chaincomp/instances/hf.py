"""Importing a Hugging Face ``config.json`` (SPEC §1.1: s_m, s_c and F from the architecture).

Only architectures whose layer structure is known are imported; anything else is refused with the
field that decided it (``model_type``), never guessed. The supported families and what one block
(= one transformer layer; embeddings, final norm and LM head belong to no block) contains:

Gated-MLP decoders — ``llama``, ``mistral``, ``mixtral``, ``qwen2``, ``qwen3``, ``gemma``, ``gemma2``, ``phi3``
    d = ``head_dim`` if the config gives it (Gemma: 256 with hidden 3072, 16 heads), else
    hidden / heads (which must divide). With n_q = heads, n_kv = ``num_key_value_heads``
    (default heads; must divide heads):

    * attention q, o: 2 · h · n_q·d; k, v: 2 · h · n_kv·d; biases: Qwen2 always has q, k, v biases
      (n_q·d + 2·n_kv·d); LLaMA/Mistral/Gemma ``attention_bias: true`` adds q, k, v, o biases
      (n_q·d + 2·n_kv·d + h);
    * MLP (SwiGLU / GeGLU, gate + up + down): 3 · h · i per expert (``mlp_bias: true``: + 2i + h);
    * norms: 2h (RMSNorm weights; Gemma-2 has four per layer: 4h; Qwen3 adds q/k norms: + 2d);
    * **MoE** (``num_local_experts`` E > 1, ``num_experts_per_tok`` k; Mixtral): the block's
      *weights* hold all E experts plus the router (h · E), so params_per_block counts every
      expert (s_m is what the GPU must store); the *compute per token* only runs the k routed
      experts, so ``active_params_per_block`` = attention + router + norms + k experts and
      F = 2 × active_params_per_block. Mixtral-8x7B: 1 451.3 M weights, 394.3 M active per block.

Falcon — ``falcon`` (also the old ``RefinedWeb`` / ``RefinedWebModel`` types)
    d = hidden / heads. KV heads n_kv: ``new_decoder_architecture: true`` → ``num_kv_heads``
    (old configs: ``n_head_kv``; default heads); otherwise ``multi_query`` (Hugging Face's default
    true) → 1, else heads. Fused QKV h·(n_q + 2·n_kv)·d, dense h², MLP 2·h·ffn (``ffn_hidden_size``,
    default 4h); ``bias: true`` adds every linear bias; LayerNorms (weight + bias, 2h each): two
    without ``parallel_attn``; with it, two when ``num_ln_in_parallel_attn`` is 2 (the default
    for the new architecture), else one (as in Hugging Face's ``FalconDecoderLayer``). The old
    ``RefinedWeb`` type (Falcon-40B's first config) is the new architecture, ``RefinedWebModel``
    (Falcon-7B's) the old one.

GPT-style decoders with biases and a plain MLP — ``gpt_neox``, ``opt``, ``gpt2``, ``gpt_bigcode``
    QKV h·(n_q + 2·n_kv)·d + biases, output h² + h, MLP h→i→h 2·h·i + i + h, two LayerNorms 4h
    (= 4h² + 2hi + 9h + i with MHA). i = ``intermediate_size`` (GPT-NeoX), ``ffn_dim`` (OPT),
    ``n_inner`` or 4h (GPT-2, GPTBigCode). n_kv = 1 for GPTBigCode with ``multi_query`` (its
    default), else heads. Biases can be switched off by ``attention_bias: false`` (GPT-NeoX; MLP
    biases stay) and ``enable_bias: false`` (OPT, all of them); OPT with
    ``layer_norm_elementwise_affine: false`` has parameter-free norms.

BLOOM — ``bloom``
    12h² + 13h (QKV 3h² + 3h, dense h² + h, GELU MLP h→4h→h 8h² + 5h, two LayerNorms 4h); KV heads
    = heads.

KV cache (s_c): 2 · n_kv · d · max_seq_len · bytes (keys and values of one block for one job),
which is SPEC §1.1's 2 · h · max_seq_len · bytes / kv_groups whenever d = h / heads.
``max_seq_len`` is ``max_position_embeddings`` (or ``seq_length`` / ``n_positions``); BLOOM and
old Falcon configs give none, and then 2048 (their training length, the paper's BLOOM setting) is
used and said so in the card's ``source``. Override it with ``max_seq_len`` in a model file.

Weights dtype: ``quantization_config`` (bitsandbytes ``load_in_4bit`` with ``nf4`` → nf4,
``load_in_8bit`` → int8; other quantization methods are refused) else ``torch_dtype`` / ``dtype``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chaincomp.io import limits as _limits
from chaincomp.io.text import short_number

#: ``architectures[0]`` → model_type, for configs that omit ``model_type``
ARCHITECTURES = {
    "LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral", "MixtralForCausalLM": "mixtral",
    "Qwen2ForCausalLM": "qwen2", "GemmaForCausalLM": "gemma", "Gemma2ForCausalLM": "gemma2",
    "Phi3ForCausalLM": "phi3", "FalconForCausalLM": "falcon", "RWForCausalLM": "falcon",
    "BloomForCausalLM": "bloom", "BloomModel": "bloom", "Qwen3ForCausalLM": "qwen3",
    "GPTNeoXForCausalLM": "gpt_neox", "OPTForCausalLM": "opt", "GPT2LMHeadModel": "gpt2",
    "GPTBigCodeForCausalLM": "gpt_bigcode",
}
_TYPE_ALIASES = {"refinedweb": "falcon", "refinedwebmodel": "falcon"}
GATED = ("llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2", "phi3")
BIASED_GELU = ("gpt_neox", "opt", "gpt2", "gpt_bigcode")
SUPPORTED = GATED + ("falcon", "bloom") + BIASED_GELU
_HF_DTYPES = {"float16": "fp16", "bfloat16": "bf16", "float32": "fp32", "int8": "int8"}
DEFAULT_MAX_SEQ_LEN = 2048
#: model-file override → the config keys it replaces (first one is written)
_OVERRIDE_KEYS = {
    "hidden_size": ("hidden_size", "n_embed", "n_embd", "d_model"), "num_attention_heads": ("num_attention_heads", "n_head", "num_heads"),
    "num_key_value_heads": ("num_key_value_heads",), "head_dim": ("head_dim",), "intermediate_size": ("intermediate_size", "ffn_hidden_size", "ffn_dim", "n_inner"),
    "layers": ("num_hidden_layers", "n_layer", "num_layers"), "vocab_size": ("vocab_size",),
    "max_seq_len": ("max_position_embeddings", "seq_length", "n_positions"),
}


class HFConfigError(Exception):
    """One field of a Hugging Face config.json is missing, inconsistent or unsupported."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class HFArchitecture:
    """What the import read and derived (per block unless said otherwise)."""

    model_type: str
    name: str | None            # ``_name_or_path`` (the Hub repo id PETALS needs), or None
    layers: int
    hidden_size: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int | None
    max_seq_len: int
    max_seq_len_given: bool
    params_per_block: float
    active_params_per_block: float
    num_experts: int = 1
    num_experts_per_tok: int = 1
    dtype: str | None = None


class _Reader:
    def __init__(self, data: dict[str, Any]):
        self.data = data

    def raw(self, *keys):
        for k in keys:
            if k in self.data and self.data[k] is not None:
                return k, self.data[k]
        return keys[0], None

    def int(self, *keys, default: int | None = None, required: bool = True, minimum: int = 1, why: str = "",
            maximum: int = _limits.MAX_ARCH_DIM) -> int | None:
        """An integer field (the first of ``keys`` present) in minimum..maximum — every architecture
        figure is bounded (docs/reliability.md, Limits), so no derivation overflows a float."""
        key, v = self.raw(*keys)
        if v is None:
            if default is not None or not required:
                return default
            alias = f" (or {', '.join(keys[1:])})" if len(keys) > 1 else ""
            raise HFConfigError(key, f"required field of a Hugging Face config.json is missing{alias}{why}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
            raise HFConfigError(key, f"expected an integer ≥ {minimum}, got {v!r}")
        if v < minimum:
            raise HFConfigError(key, f"expected an integer ≥ {minimum}, got {v!r}")
        if v > maximum:
            raise HFConfigError(key, f"expected an integer in {minimum}..{maximum} (docs/reliability.md, Limits), "
                                     f"got {short_number(v, 24)}")
        return int(v)

    def bool(self, key: str, default: bool) -> bool:
        v = self.data.get(key)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise HFConfigError(key, f"expected true or false, got {v!r}")
        return v


def model_type_of(data: dict[str, Any]) -> str:
    """The architecture family (``model_type``, else from ``architectures``); refuses unknown ones."""
    mtype = data.get("model_type")
    if mtype is None:
        archs = data.get("architectures")
        if isinstance(archs, list) and archs and isinstance(archs[0], str):
            if archs[0] in ARCHITECTURES:
                return ARCHITECTURES[archs[0]]
            raise HFConfigError("architectures", f"unsupported architecture {archs[0]!r}; supported model types: "
                                f"{', '.join(SUPPORTED)} (for another architecture write a model file with params_per_block, hidden_size, … explicitly)")
        raise HFConfigError("model_type", "missing: cannot tell the architecture (give model_type or architectures)")
    if not isinstance(mtype, str):
        raise HFConfigError("model_type", f"expected a string, got {mtype!r}")
    key = _TYPE_ALIASES.get(mtype.lower(), mtype.lower())
    if key not in SUPPORTED:
        raise HFConfigError("model_type", f"unsupported architecture {mtype!r}; supported: {', '.join(SUPPORTED)} "
                            "(for another architecture write a model file with params_per_block, hidden_size, … explicitly)")
    return key


def _dtype(data: dict[str, Any]) -> str | None:
    q = data.get("quantization_config")
    if q is not None:
        if not isinstance(q, dict):
            raise HFConfigError("quantization_config", f"expected an object, got {q!r}")
        method = str(q.get("quant_method", "bitsandbytes")).lower()
        if method == "bitsandbytes":
            for flag in ("load_in_4bit", "load_in_8bit"):  # JSON booleans only: "false" is not false
                if q.get(flag) is not None and not isinstance(q[flag], bool):
                    raise HFConfigError(f"quantization_config.{flag}", f"expected true or false, got {q[flag]!r}")
            if q.get("load_in_4bit") and q.get("load_in_8bit"):
                raise HFConfigError("quantization_config", "load_in_4bit and load_in_8bit are both true; a model loads in one of them")
            if q.get("load_in_4bit"):
                qt = str(q.get("bnb_4bit_quant_type", "fp4")).lower()
                if qt != "nf4":
                    raise HFConfigError("quantization_config.bnb_4bit_quant_type", f"only nf4 is supported (bytes 4.25/8), got {qt!r}")
                return "nf4"
            if q.get("load_in_8bit"):
                return "int8"
        raise HFConfigError("quantization_config", f"unsupported quantization {method!r} (supported: bitsandbytes nf4 / int8); "
                            "write a model file with dtype set instead")
    td = data.get("torch_dtype", data.get("dtype"))
    if td is None:
        return None
    if not isinstance(td, str) or td not in _HF_DTYPES:
        raise HFConfigError("torch_dtype", f"expected one of {', '.join(_HF_DTYPES)}, got {td!r}")
    return _HF_DTYPES[td]


def _head_dim(r: _Reader, h: int, heads: int, explicit_ok: bool) -> int:
    if explicit_ok:
        d = r.int("head_dim", required=False)
        if d is not None:
            return d
    if h % heads:
        raise HFConfigError("num_attention_heads", f"{heads} heads do not divide hidden_size {h} (and the config gives no head_dim)")
    return h // heads


def _kv_heads_check(heads: int, kv: int, field: str) -> None:
    if kv > heads or heads % kv:
        raise HFConfigError(field, f"{kv} key/value heads must divide the {heads} attention heads")


def read_hf_config(data: dict[str, Any], overrides: dict[str, Any] | None = None) -> HFArchitecture:
    """Read a Hugging Face config.json into an :class:`HFArchitecture` (rules: module docstring).

    ``overrides`` (keys ``hidden_size``, ``num_attention_heads``, ``num_key_value_heads``,
    ``head_dim``, ``intermediate_size``, ``layers``, ``max_seq_len``, ``vocab_size``) replace the
    config's values before the derivation (a model file with ``hf_config`` plus overrides).
    Raises :class:`HFConfigError` naming the field.
    """
    if not isinstance(data, dict):
        raise HFConfigError("(top level)", f"expected a JSON object, got {type(data).__name__}")
    mtype = model_type_of(data)
    data = dict(data)
    ov = {k: v for k, v in (overrides or {}).items() if v is not None}
    for k, v in ov.items():
        if k == "num_key_value_heads" and mtype == "falcon":
            data.update(num_kv_heads=v, n_head_kv=None, new_decoder_architecture=True)
            continue
        if k not in _OVERRIDE_KEYS:
            raise HFConfigError(k, f"cannot override {k!r} of a Hugging Face config")
        for alias in _OVERRIDE_KEYS[k]:
            data.pop(alias, None)
        data[_OVERRIDE_KEYS[k][0]] = v
    fixed = {"bloom": ("head_dim", "intermediate_size"), "falcon": ("head_dim",)}.get(mtype, ("head_dim",) if mtype in BIASED_GELU else ())
    for k in fixed:
        if k in ov:
            raise HFConfigError(k, f"a {mtype} block has no configurable {k}; remove the override")
    r = _Reader(data)
    dtype = _dtype(data)
    name = data.get("_name_or_path") if isinstance(data.get("_name_or_path"), str) and data.get("_name_or_path") else None
    vocab = r.int("vocab_size", required=False)
    max_seq = r.int("max_position_embeddings", "seq_length", "n_positions", required=False, maximum=_limits.MAX_TOKENS)
    max_given = max_seq is not None
    max_seq = max_seq or DEFAULT_MAX_SEQ_LEN
    layers = r.int("num_hidden_layers", "n_layer", "num_layers", maximum=_limits.MAX_BLOCKS)
    E = k_act = 1

    if mtype in GATED:
        h = r.int("hidden_size")
        heads = r.int("num_attention_heads")
        kv = r.int("num_key_value_heads", default=heads)
        _kv_heads_check(heads, kv, "num_key_value_heads")
        d = _head_dim(r, h, heads, explicit_ok=True)
        inter = r.int("intermediate_size")
        q_dim, kv_dim = heads * d, kv * d
        attn = 2.0 * h * q_dim + 2.0 * h * kv_dim
        if mtype == "qwen2":
            attn += q_dim + 2 * kv_dim
        elif r.bool("attention_bias", False):
            attn += q_dim + 2 * kv_dim + h
        expert = 3.0 * h * inter + ((2 * inter + h) if r.bool("mlp_bias", False) else 0)
        norms = (4 if mtype == "gemma2" else 2) * h + (2 * d if mtype == "qwen3" else 0)
        E = r.int("num_local_experts", default=1)
        router = 0.0
        if E > 1:
            k_act = r.int("num_experts_per_tok", why=" (an MoE config with num_local_experts > 1 must say how many experts each token uses)")
            if k_act > E:
                raise HFConfigError("num_experts_per_tok", f"{k_act} experts per token but only {E} experts (num_local_experts)")
            router = float(h * E)
        elif mtype == "mixtral":
            k_act = r.int("num_experts_per_tok", default=1)
            if k_act > E:
                raise HFConfigError("num_experts_per_tok", f"{k_act} experts per token but only {E} experts (num_local_experts)")
        ppb = attn + norms + router + E * expert
        active = attn + norms + router + k_act * expert
    elif mtype == "falcon":
        h = r.int("hidden_size", "n_embed")
        heads = r.int("num_attention_heads", "n_head")
        d = _head_dim(r, h, heads, explicit_ok=False)
        # the old "RefinedWeb" type (Falcon-40B's first release) is the new decoder architecture
        new_arch = r.bool("new_decoder_architecture", str(data.get("model_type", "")).lower() == "refinedweb")
        if new_arch:
            kv_field = "num_kv_heads" if data.get("num_kv_heads") is not None else "n_head_kv"
            kv = r.int("num_kv_heads", "n_head_kv", default=heads)
            _kv_heads_check(heads, kv, kv_field)
        else:
            kv = 1 if r.bool("multi_query", True) else heads
        inter = r.int("ffn_hidden_size", "intermediate_size", default=4 * h)
        bias = r.bool("bias", False)
        qkv = h * (heads + 2 * kv) * d + ((heads + 2 * kv) * d if bias else 0)
        dense = h * h + (h if bias else 0)
        mlp = 2.0 * h * inter + ((inter + h) if bias else 0)
        n_ln = r.int("num_ln_in_parallel_attn", required=False)
        if n_ln is None and new_arch:
            n_ln = 2
        if not r.bool("parallel_attn", True):
            lns = 2                      # input_layernorm + post_attention_layernorm
        else:
            lns = 2 if n_ln == 2 else 1  # ln_attn + ln_mlp, or one shared input_layernorm
        ppb = active = float(qkv + dense + mlp + 2 * h * lns)
    elif mtype in BIASED_GELU:
        h = r.int("hidden_size", "n_embd", "n_embed")
        heads = r.int("num_attention_heads", "n_head")
        d = _head_dim(r, h, heads, explicit_ok=False)
        kv = 1 if (mtype == "gpt_bigcode" and r.bool("multi_query", True)) else heads
        inter = {"gpt_neox": lambda: r.int("intermediate_size"),
                 "opt": lambda: r.int("ffn_dim", "intermediate_size")}.get(mtype, lambda: r.int("n_inner", "intermediate_size", default=4 * h))()
        attn_bias = mlp_bias = True
        if mtype == "gpt_neox":
            attn_bias = r.bool("attention_bias", True)
        elif mtype == "opt":
            attn_bias = mlp_bias = r.bool("enable_bias", True)
        qkv_out = (heads + 2 * kv) * d
        attn = h * qkv_out + h * h + ((qkv_out + h) if attn_bias else 0)
        mlp = 2.0 * h * inter + ((inter + h) if mlp_bias else 0)
        norms = 0 if (mtype == "opt" and not r.bool("layer_norm_elementwise_affine", True)) else 4 * h
        ppb = active = float(attn + mlp + norms)
    else:  # bloom
        h = r.int("hidden_size", "n_embed")
        heads = r.int("num_attention_heads", "n_head")
        d = _head_dim(r, h, heads, explicit_ok=False)
        kv, inter = heads, 4 * h
        ppb = active = 12.0 * h * h + 13.0 * h
    return HFArchitecture(
        model_type=mtype, name=name, layers=layers, hidden_size=h, num_attention_heads=heads,
        num_key_value_heads=kv, head_dim=d, intermediate_size=inter, vocab_size=vocab,
        max_seq_len=max_seq, max_seq_len_given=max_given, params_per_block=float(ppb),
        active_params_per_block=float(active), num_experts=E, num_experts_per_tok=k_act, dtype=dtype,
    )


def json_schema() -> dict[str, Any]:
    """JSON Schema of the Hugging Face config.json fields this import reads (other keys allowed).

    A config must name its architecture (``model_type`` or ``architectures``); the sizes it gives
    must be integers ≥ 1. Cross-field rules (heads dividing hidden, KV heads dividing heads, experts
    per token ≤ experts) are checked by :func:`read_hf_config`.
    """
    pos = {"type": ["integer", "null"], "minimum": 1}  # null = absent (as the import reads it)
    names = list(SUPPORTED) + ["RefinedWeb", "RefinedWebModel"]
    props: dict[str, Any] = {
        "model_type": {"type": "string", "description": "Architecture family; supported: " + ", ".join(names) + "."},
        "architectures": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                          "description": "Used when model_type is absent; first entry one of " + ", ".join(ARCHITECTURES) + "."},
        "_name_or_path": {"type": "string", "description": "Hub repo id (used as the model name, e.g. by the PETALS export)."},
        "torch_dtype": {"enum": list(_HF_DTYPES)}, "dtype": {"enum": list(_HF_DTYPES)},
        "quantization_config": {"type": "object"},
    }
    for k in ("hidden_size", "n_embed", "n_embd", "ffn_dim", "n_inner", "num_ln_in_parallel_attn", "num_hidden_layers", "n_layer", "num_layers", "num_attention_heads", "n_head",
              "num_key_value_heads", "num_kv_heads", "n_head_kv", "head_dim", "intermediate_size", "ffn_hidden_size",
              "vocab_size", "max_position_embeddings", "seq_length", "n_positions", "num_local_experts", "num_experts_per_tok"):
        props[k] = dict(pos)
    for k in ("multi_query", "new_decoder_architecture", "parallel_attn", "bias", "attention_bias", "mlp_bias",
              "enable_bias", "layer_norm_elementwise_affine"):
        props[k] = {"type": ["boolean", "null"]}
    return {
        "title": "Hugging Face config.json",
        "description": "A raw Hugging Face config.json, imported by chaincomp.instances.hf (supported model types: "
                       + ", ".join(SUPPORTED) + ").",
        "type": "object",
        "properties": props,
        "anyOf": [{"required": ["model_type"]}, {"required": ["architectures"]}],
        "additionalProperties": True,
    }
