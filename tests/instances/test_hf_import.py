"""Hugging Face config.json import against hand arithmetic (SPEC §1.1 s_m, s_c, F).

The configs below are the published ``config.json`` files (the fields the import reads, written out
by hand, plus a few it must ignore). Each expected figure is computed here from those values with the
layer's structure spelled out — never from the code's own output — and the per-block count is
cross-checked against the model's published total (blocks × per-block + embeddings).
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from chaincomp.errors import InvalidInstance
from chaincomp.instances.load import load_problem
from chaincomp.instances.schema import json_schema

GB = 1e9
CLUSTER = {"servers": [{"id": "h", "gpu": "H100-80GB", "rtt_ms": 10, "count": 4}]}
WORKLOAD = {"arrival_rate": 0.1, "mean_input_tokens": 2000, "mean_output_tokens": 20}

LLAMA2_7B = {"_name_or_path": "meta-llama/Llama-2-7b-hf", "architectures": ["LlamaForCausalLM"], "bos_token_id": 1,
             "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
             "intermediate_size": 11008, "max_position_embeddings": 4096, "model_type": "llama",
             "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32, "pretraining_tp": 1,
             "rms_norm_eps": 1e-05, "rope_scaling": None, "tie_word_embeddings": False, "torch_dtype": "float16",
             "vocab_size": 32000}
LLAMA3_8B = {"architectures": ["LlamaForCausalLM"], "attention_bias": False, "hidden_act": "silu", "hidden_size": 4096,
             "intermediate_size": 14336, "max_position_embeddings": 8192, "model_type": "llama",
             "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rope_theta": 500000.0,
             "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 128256}
MIXTRAL_8X7B = {"_name_or_path": "mistralai/Mixtral-8x7B-v0.1", "architectures": ["MixtralForCausalLM"],
                "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 14336, "max_position_embeddings": 32768,
                "model_type": "mixtral", "num_attention_heads": 32, "num_experts_per_tok": 2, "num_hidden_layers": 32,
                "num_key_value_heads": 8, "num_local_experts": 8, "output_router_logits": False, "rms_norm_eps": 1e-05,
                "rope_theta": 1000000.0, "router_aux_loss_coef": 0.02, "sliding_window": None,
                "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 32000}
FALCON_7B = {"alibi": False, "apply_residual_connection_post_layernorm": False, "architectures": ["FalconForCausalLM"],
             "bias": False, "hidden_size": 4544, "layer_norm_epsilon": 1e-05, "model_type": "falcon",
             "multi_query": True, "new_decoder_architecture": False, "num_attention_heads": 71,
             "num_hidden_layers": 32, "parallel_attn": True, "torch_dtype": "bfloat16", "vocab_size": 65024}
FALCON_40B = {"alibi": False, "architectures": ["FalconForCausalLM"], "bias": False, "hidden_size": 8192,
              "model_type": "falcon", "new_decoder_architecture": True, "num_attention_heads": 128,
              "num_hidden_layers": 60, "num_kv_heads": 8, "parallel_attn": True, "torch_dtype": "bfloat16",
              "vocab_size": 65024}
BLOOM_176B = {"architectures": ["BloomForCausalLM"], "apply_residual_connection_post_layernorm": False,
              "hidden_size": 14336, "model_type": "bloom", "n_head": 112, "n_inner": None, "n_layer": 70,
              "offset_alibi": 100, "pretraining_tp": 4, "vocab_size": 250880}
QWEN2_7B = {"architectures": ["Qwen2ForCausalLM"], "hidden_act": "silu", "hidden_size": 3584,
            "intermediate_size": 18944, "max_position_embeddings": 131072, "max_window_layers": 28,
            "model_type": "qwen2", "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4,
            "rope_theta": 1000000.0, "sliding_window": 131072, "tie_word_embeddings": False,
            "torch_dtype": "bfloat16", "use_sliding_window": False, "vocab_size": 152064}
GEMMA_7B = {"architectures": ["GemmaForCausalLM"], "attention_bias": False, "head_dim": 256, "hidden_act": "gelu",
            "hidden_size": 3072, "intermediate_size": 24576, "max_position_embeddings": 8192, "model_type": "gemma",
            "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 16,
            "torch_dtype": "bfloat16", "vocab_size": 256000}
GEMMA2_9B = {"architectures": ["Gemma2ForCausalLM"], "head_dim": 256, "hidden_size": 3584, "intermediate_size": 14336,
             "max_position_embeddings": 8192, "model_type": "gemma2", "num_attention_heads": 16,
             "num_hidden_layers": 42, "num_key_value_heads": 8, "torch_dtype": "float32", "vocab_size": 256000}


def load(tmp_path, cfg, workload=WORKLOAD):
    (tmp_path / "cluster.json").write_text(json.dumps(CLUSTER))
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    (tmp_path / "workload.json").write_text(json.dumps(workload))
    return load_problem(tmp_path / "cluster.json", tmp_path / "config.json", tmp_path / "workload.json", check=False)


def check(p, *, layers, ppb, bytes_w, kv_width, seq, active=None):
    """s_m = ppb·bytes·1.01; s_c = 2·kv_width·seq·2 bytes (fp16 cache); F = 2·active."""
    m = p.meta["model"]
    assert p.num_blocks == layers
    assert m["params_per_block"] == pytest.approx(ppb, rel=1e-12)
    assert p.block_size_gb == pytest.approx(ppb * bytes_w * 1.01 / GB, rel=1e-12)
    assert p.cache_size_gb == pytest.approx(2 * kv_width * seq * 2 / GB, rel=1e-12)
    assert m["flops_per_block_per_token"] == pytest.approx(2 * (active or ppb), rel=1e-12)


def test_llama2_7b_dense(tmp_path):
    h, i = 4096, 11008
    ppb = 4 * h * h + 3 * h * i + 2 * h          # q,k,v,o (32 KV heads = MHA) + SwiGLU + 2 RMSNorms
    assert ppb == 202_383_360
    assert 32 * ppb + 2 * 32000 * h + h == pytest.approx(6.738e9, rel=1e-3)   # published 6.74 B
    p = load(tmp_path, LLAMA2_7B)
    check(p, layers=32, ppb=ppb, bytes_w=2, kv_width=4096, seq=4096)
    assert p.meta["model"]["dtype"] == "fp16" and p.meta["model"]["hf_name"] == "meta-llama/Llama-2-7b-hf"


def test_llama3_8b_gqa(tmp_path):
    h, i, kv = 4096, 14336, 8 * 128
    ppb = 2 * h * h + 2 * h * kv + 3 * h * i + 2 * h
    assert ppb == 218_112_000
    assert 32 * ppb + 2 * 128256 * h == pytest.approx(8.03e9, rel=1e-3)        # published 8.03 B
    check(load(tmp_path, LLAMA3_8B), layers=32, ppb=ppb, bytes_w=2, kv_width=kv, seq=8192)


def test_mixtral_moe_counts_every_expert_in_weights_active_ones_in_compute(tmp_path):
    h, i, kv, E, k = 4096, 14336, 8 * 128, 8, 2
    attn = 2 * h * h + 2 * h * kv                # 41 943 040
    expert = 3 * h * i                           # 176 160 768
    ppb = attn + E * expert + h * E + 2 * h      # + router + 2 norms
    active = attn + k * expert + h * E + 2 * h
    assert ppb == 1_451_270_144 and active == 394_305_536
    assert 32 * ppb + 2 * 32000 * h == pytest.approx(46.70e9, rel=1e-3)        # published 46.7 B total
    assert 32 * active + 2 * 32000 * h == pytest.approx(12.88e9, rel=1e-3)     # published 12.9 B active
    p = load(tmp_path, MIXTRAL_8X7B)
    check(p, layers=32, ppb=ppb, bytes_w=2, kv_width=kv, seq=32768, active=active)
    assert p.block_size_gb == pytest.approx(2.93, abs=0.005)                   # issue: ≈ 2.93 GB
    assert p.meta["model"]["num_experts"] == 8 and p.meta["model"]["num_experts_per_tok"] == 2


def test_falcon_7b_multi_query(tmp_path):
    h, heads, d = 4544, 71, 64
    qkv = h * (heads + 2 * 1) * d                # multi_query: 1 KV head
    ppb = qkv + h * h + 2 * h * 4 * h + 2 * h    # dense, MLP 4h, one LayerNorm (w + b), no biases
    assert ppb == 207_070_080
    assert 32 * ppb + 65024 * h == pytest.approx(6.92e9, rel=1e-3)             # published 6.92 B (tied head)
    p = load(tmp_path, FALCON_7B)
    check(p, layers=32, ppb=ppb, bytes_w=2, kv_width=1 * d, seq=2048)          # config has no length → 2048
    assert p.meta["model"]["num_key_value_heads"] == 1
    assert "the config gives none" in p.meta["model"]["source"]


def test_falcon_40b_new_decoder_architecture(tmp_path):
    h, heads, kvh, d = 8192, 128, 8, 64
    ppb = h * (heads + 2 * kvh) * d + h * h + 2 * h * 4 * h + 2 * (2 * h)      # ln_attn + ln_mlp
    assert ppb == 679_510_016
    p = load(tmp_path, FALCON_40B)
    check(p, layers=60, ppb=ppb, bytes_w=2, kv_width=kvh * d, seq=2048)


def test_falcon_legacy_refinedweb_configs_and_falcon2(tmp_path):
    """First-release configs: "RefinedWebModel" (7B, old architecture) and "RefinedWeb" (40B, new one)."""
    rw7 = {"model_type": "RefinedWebModel", "n_embed": 4544, "n_head": 71, "n_layer": 32, "multi_query": True,
           "parallel_attn": True, "bias": False, "vocab_size": 65024}
    check(load(tmp_path, rw7), layers=32, ppb=207_070_080, bytes_w=2, kv_width=64, seq=2048)
    rw40 = {"model_type": "RefinedWeb", "n_embed": 8192, "n_head": 128, "n_head_kv": 8, "n_layer": 60,
            "parallel_attn": True, "bias": False, "vocab_size": 65024}
    check(load(tmp_path, rw40), layers=60, ppb=679_510_016, bytes_w=2, kv_width=8 * 64, seq=2048)
    # Falcon2-11B: new architecture with ONE layer norm (num_ln_in_parallel_attn 1), ffn 4h, 8 KV heads
    f2 = {"architectures": ["FalconForCausalLM"], "model_type": "falcon", "hidden_size": 4096, "num_attention_heads": 32,
          "num_kv_heads": 8, "num_hidden_layers": 60, "new_decoder_architecture": True, "num_ln_in_parallel_attn": 1,
          "parallel_attn": True, "ffn_hidden_size": 16384, "bias": False, "max_position_embeddings": 8192,
          "vocab_size": 65024, "torch_dtype": "bfloat16"}
    h, d = 4096, 128
    ppb = h * (32 + 2 * 8) * d + h * h + 2 * h * 16384 + 2 * h
    assert ppb == 176_168_960
    assert 60 * ppb + 2 * 65024 * h == pytest.approx(11.1e9, rel=5e-3)        # published 11.1 B
    check(load(tmp_path, f2), layers=60, ppb=ppb, bytes_w=2, kv_width=8 * d, seq=8192)


def test_bloom_176b_nf4(tmp_path):
    h = 14336
    ppb = (3 * h * h + 3 * h) + (h * h + h) + (8 * h * h + 5 * h) + 4 * h
    assert ppb == 2_466_437_120
    assert 70 * ppb + 250880 * h + 2 * h == pytest.approx(176.25e9, rel=1e-3)  # published 176 B
    cfg = dict(BLOOM_176B, quantization_config={"load_in_4bit": True, "bnb_4bit_quant_type": "nf4"})
    p = load(tmp_path, cfg)
    check(p, layers=70, ppb=ppb, bytes_w=4.25 / 8, kv_width=h, seq=2048)
    assert p.block_size_gb == pytest.approx(1.32, abs=0.005)                   # SPEC §1.1 s_m = 1.32 GB
    assert p.cache_size_gb == pytest.approx(0.117, abs=0.001)


def test_qwen2_attention_biases(tmp_path):
    h, i, heads, kvh = 3584, 18944, 28, 4
    d = h // heads
    attn = 2 * h * heads * d + 2 * h * kvh * d + (heads * d + 2 * kvh * d)    # q,k,v biases; o has none
    ppb = attn + 3 * h * i + 2 * h
    assert ppb == 233_057_792
    assert 28 * ppb + 2 * 152064 * h == pytest.approx(7.615e9, rel=1e-3)      # published 7.62 B
    check(load(tmp_path, QWEN2_7B), layers=28, ppb=ppb, bytes_w=2, kv_width=kvh * d, seq=131072)


def test_gemma_head_dim_differs_from_hidden_over_heads(tmp_path):
    h, i, heads, d = 3072, 24576, 16, 256         # 16 × 256 = 4096 ≠ 3072
    ppb = 2 * h * heads * d + 2 * h * heads * d + 3 * h * i + 2 * h
    assert ppb == 276_830_208
    assert 28 * ppb + 256000 * h == pytest.approx(8.54e9, rel=1e-3)           # published 8.54 B (tied)
    check(load(tmp_path, GEMMA_7B), layers=28, ppb=ppb, bytes_w=2, kv_width=16 * d, seq=8192)


def test_gemma2_four_norms_and_fp32(tmp_path):
    h, i, heads, kvh, d = 3584, 14336, 16, 8, 256
    ppb = 2 * h * heads * d + 2 * h * kvh * d + 3 * h * i + 4 * h
    assert 42 * ppb + 256000 * h == pytest.approx(9.24e9, rel=1e-3)           # published 9.24 B
    check(load(tmp_path, GEMMA2_9B), layers=42, ppb=ppb, bytes_w=4, kv_width=kvh * d, seq=8192)


def test_qwen3_head_dim_and_qk_norms(tmp_path):
    cfg = {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "attention_bias": False, "head_dim": 128,
           "hidden_size": 4096, "intermediate_size": 12288, "max_position_embeddings": 40960, "num_attention_heads": 32,
           "num_hidden_layers": 36, "num_key_value_heads": 8, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
           "vocab_size": 151936}
    h, d = 4096, 128
    ppb = 2 * h * 32 * d + 2 * h * 8 * d + 3 * h * 12288 + 2 * h + 2 * d     # + q_norm, k_norm
    assert ppb == 192_946_432
    assert 36 * ppb + 2 * 151936 * h == pytest.approx(8.19e9, rel=1e-3)       # published 8.2 B
    check(load(tmp_path, cfg), layers=36, ppb=ppb, bytes_w=2, kv_width=8 * d, seq=40960)


@pytest.mark.parametrize("cfg,layers,ppb,total,extra,kv_width,seq", [
    # GPT-2 small: 4h² + 2hi + 9h + i; total 124.44 M with wte, wpe, ln_f
    ({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 768, "n_head": 12, "n_layer": 12,
      "n_inner": None, "n_positions": 1024, "vocab_size": 50257}, 12, 7_087_872, 124.44e6, 50257 * 768 + 1024 * 768 + 2 * 768, 768, 1024),
    # OPT-6.7B: biases everywhere, ffn_dim
    ({"architectures": ["OPTForCausalLM"], "model_type": "opt", "hidden_size": 4096, "ffn_dim": 16384,
      "num_attention_heads": 32, "num_hidden_layers": 32, "max_position_embeddings": 2048, "vocab_size": 50272,
      "do_layer_norm_before": True, "torch_dtype": "float16"}, 32, 201_379_840, 6.658e9, 50272 * 4096 + 2050 * 4096, 4096, 2048),
    # Pythia-6.9B (GPT-NeoX): same layer shape, untied embeddings
    ({"architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "hidden_size": 4096, "intermediate_size": 16384,
      "num_attention_heads": 32, "num_hidden_layers": 32, "max_position_embeddings": 2048, "vocab_size": 50432,
      "use_parallel_residual": True, "rotary_pct": 0.25}, 32, 201_379_840, 6.857e9, 2 * 50432 * 4096, 4096, 2048),
    # StarCoder (GPTBigCode, multi-query: 1 KV head of 128)
    ({"architectures": ["GPTBigCodeForCausalLM"], "model_type": "gpt_bigcode", "n_embd": 6144, "n_head": 48, "n_layer": 40,
      "n_inner": 24576, "n_positions": 8192, "multi_query": True, "vocab_size": 49152},
     40, 6144 * (6144 + 256) + 6400 + 6144 * 6144 + 6144 + 2 * 6144 * 24576 + 24576 + 6144 + 4 * 6144, 15.517e9,
     49152 * 6144 + 8192 * 6144, 128, 8192),
])
def test_gpt_style_biased_mlp_families(tmp_path, cfg, layers, ppb, total, extra, kv_width, seq):
    h = cfg.get("hidden_size") or cfg["n_embd"]
    i = cfg.get("intermediate_size") or cfg.get("ffn_dim") or cfg.get("n_inner") or 4 * h
    if kv_width == h:
        assert ppb == 4 * h * h + 2 * h * i + 9 * h + i
    assert layers * ppb + extra == pytest.approx(total, rel=2e-3)
    check(load(tmp_path, cfg), layers=layers, ppb=ppb, bytes_w=2, kv_width=kv_width, seq=seq)


def test_model_file_overrides_through_hf_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(FALCON_7B))
    (tmp_path / "cluster.json").write_text(json.dumps(CLUSTER))
    (tmp_path / "m.json").write_text(json.dumps({"hf_config": "config.json", "max_seq_len": 4096, "dtype": "int8"}))
    p = \
        load_problem(tmp_path / "cluster.json", tmp_path / "m.json", arrival_rate=0.1, check=False)
    assert p.cache_size_gb == pytest.approx(2 * 64 * 4096 * 2 / GB)
    assert p.block_size_gb == pytest.approx(207_070_080 * 1 * 1.01 / GB)


@pytest.mark.parametrize("cfg,needle", [
    ({"model_type": "qwen2_moe", "hidden_size": 2048, "num_hidden_layers": 24}, r"model_type: unsupported architecture 'qwen2_moe'"),
    ({"architectures": ["DeepseekV2ForCausalLM"], "hidden_size": 8}, r"architectures: unsupported architecture"),
    ({"num_hidden_layers": 32, "hidden_size": 4096}, r"model_type: missing"),
    (dict(LLAMA3_8B, num_attention_heads=24), r"num_attention_heads: 24 heads do not divide hidden_size 4096"),
    (dict(LLAMA2_7B, num_attention_heads=30), r"num_key_value_heads: 32 key/value heads must divide the 30"),
    (dict(LLAMA3_8B, num_key_value_heads=5), r"num_key_value_heads: 5 key/value heads must divide the 32"),
    (dict(LLAMA3_8B, num_key_value_heads=64), r"num_key_value_heads: 64 key/value heads must divide"),
    (dict(LLAMA2_7B, num_attention_heads=0), r"num_attention_heads: expected an integer ≥ 1, got 0"),
    (dict(LLAMA2_7B, hidden_size=-4096), r"hidden_size: expected an integer ≥ 1, got -4096"),
    (dict(LLAMA2_7B, intermediate_size=0), r"intermediate_size: expected an integer ≥ 1, got 0"),
    (dict(LLAMA2_7B, hidden_size=4096.5), r"hidden_size: expected an integer ≥ 1, got 4096.5"),
    (dict(LLAMA2_7B, num_hidden_layers=True), r"num_hidden_layers: expected an integer"),
    (dict(LLAMA2_7B, hidden_size="4096"), r"hidden_size: expected an integer"),
    ({k: v for k, v in LLAMA2_7B.items() if k != "intermediate_size"}, r"intermediate_size: required field"),
    ({k: v for k, v in MIXTRAL_8X7B.items() if k != "num_experts_per_tok"}, r"num_experts_per_tok: required field"),
    (dict(MIXTRAL_8X7B, num_experts_per_tok=9), r"num_experts_per_tok: 9 experts per token but only 8"),
    (dict(FALCON_40B, num_kv_heads=7), r"num_kv_heads: 7 key/value heads must divide the 128"),
    (dict(FALCON_7B, multi_query="yes"), r"multi_query: expected true or false"),
    (dict(BLOOM_176B, n_head=113), r"n_head: 113 heads do not divide hidden_size 14336|num_attention_heads: 113"),
    (dict(LLAMA2_7B, torch_dtype="float8"), r"torch_dtype: expected one of"),
    (dict(LLAMA2_7B, quantization_config={"quant_method": "gptq", "bits": 4}), r"quantization_config: unsupported quantization 'gptq'"),
    # every integer read is bounded: these overflowed a float during the derivation (internal error)
    (dict(MIXTRAL_8X7B, num_local_experts=10**400), r"num_local_experts: expected an integer in 1\.\.10000000 .*\(401 digits\)"),
    (dict(MIXTRAL_8X7B, head_dim=1e308), r"head_dim: expected an integer in 1\.\.10000000"),
    (dict(MIXTRAL_8X7B, num_experts_per_tok=10**30), r"num_experts_per_tok: expected an integer in 1\.\.10000000"),
])
def test_inconsistent_or_unknown_configs_are_refused_naming_the_field(tmp_path, cfg, needle):
    with pytest.raises(InvalidInstance, match=r"config\.json: " + needle):
        load(tmp_path, cfg)


def test_model_schema_accepts_raw_configs_and_model_files():
    schema = json_schema("model")
    for cfg in (LLAMA2_7B, LLAMA3_8B, MIXTRAL_8X7B, FALCON_7B, FALCON_40B, BLOOM_176B, QWEN2_7B, GEMMA_7B, GEMMA2_9B):
        jsonschema.validate(cfg, schema)
    jsonschema.validate({"card": "BLOOM-176B", "dtype": "nf4", "max_seq_len": 2048}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"blocks": 3}, schema)            # neither a model file nor a HF config
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(dict(LLAMA2_7B, hidden_size=0), schema)


def test_solve_cli_with_a_raw_config(tmp_path):
    """What a user runs: `solve --cluster … --model config.json`; the Solution JSON carries s_m, s_c."""
    import subprocess
    import sys

    (tmp_path / "cluster.json").write_text(json.dumps({"servers": [{"id": "h", "gpu": "H100-80GB", "rtt_ms": 10, "count": 6}]}))
    (tmp_path / "config.json").write_text(json.dumps(dict(MIXTRAL_8X7B, max_position_embeddings=4096)))
    proc = subprocess.run([sys.executable, "-m", "chaincomp.cli", "solve", "--cluster", str(tmp_path / "cluster.json"),
                           "--model", str(tmp_path / "config.json"), "--rate", "0.05", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    inst = json.loads(proc.stdout)["instance"]
    assert inst["num_blocks"] == 32
    assert inst["block_size_gb"] == pytest.approx(1_451_270_144 * 2 * 1.01 / GB)
    assert inst["cache_size_gb"] == pytest.approx(2 * 8 * 128 * 4096 * 2 / GB)
    assert inst["meta"]["model"]["flops_per_block_per_token"] == pytest.approx(2 * 394_305_536)
    bad = subprocess.run([sys.executable, "-m", "chaincomp.cli", "solve", "--cluster", str(tmp_path / "cluster.json"),
                          "--model", str(tmp_path / "cluster.json"), "--rate", "0.05"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@pytest.mark.parametrize("q,needle", [
    ({"load_in_4bit": "false", "bnb_4bit_quant_type": "nf4"}, r"quantization_config\.load_in_4bit: expected true or false, got 'false'"),
    ({"load_in_8bit": "no"}, r"quantization_config\.load_in_8bit: expected true or false"),
    ({"load_in_4bit": True, "load_in_8bit": True, "bnb_4bit_quant_type": "nf4"}, r"quantization_config: load_in_4bit and load_in_8bit are both true"),
])
def test_quantization_flags_are_json_booleans(tmp_path, q, needle):
    """A string "false" used to mean "on" (nf4: a quarter of the block size)."""
    with pytest.raises(InvalidInstance, match=r"config\.json: " + needle):
        load(tmp_path, dict(LLAMA2_7B, quantization_config=q))


def test_active_parameters_cannot_exceed_the_block(tmp_path):
    """4e8 active of 2e8 per block was accepted (F = 8e8)."""
    (tmp_path / "cluster.json").write_text(json.dumps(CLUSTER))
    (tmp_path / "m.json").write_text(json.dumps({"layers": 32, "hidden_size": 4096, "num_attention_heads": 32,
                                                 "params_per_block": 2e8, "active_params_per_block": 4e8,
                                                 "dtype": "bf16", "max_seq_len": 2048}))
    with pytest.raises(InvalidInstance, match=r"m\.json: active_params_per_block: 4e\+08 active parameters per block exceed the 2e\+08"):
        load_problem(tmp_path / "cluster.json", tmp_path / "m.json", arrival_rate=0.1, check=False)
