"""SPEC §1.1 derivation: the check numbers of the SPEC and closed forms computed by hand here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chaincomp.instances import catalog
from chaincomp.instances.derive import (
    block_size_gb,
    build_problem,
    cache_size_gb,
    decode_s_per_token,
    prefill_s_per_token,
    relay_comm_time,
    resolve_model,
    tau_comp_s,
)
from chaincomp.instances.schema import ClusterSpec, ModelSpec, WorkloadSpec


def test_spec_check_numbers_bloom_servers():
    # SPEC §1.1: F = 5 GFLOP, s_m = 1.32 GB, l_in 2000, l_out 20, t_o = 1 ms
    pre = prefill_s_per_token(5e9, np.array([120.0, 80.0]))
    dec = decode_s_per_token(1.32, np.array([1020.0, 510.0]))
    tau = tau_comp_s(1e-3, pre, dec, 2000, 20)
    # by hand: 1 ms + 5e9/120e12·2000 s + 1.32/1020·19 s
    assert tau[0] == pytest.approx(1e-3 + 5e9 / 120e12 * 2000 + 1.32 / 1020 * 19, rel=1e-12)
    assert tau[0] == pytest.approx(0.109, abs=0.5e-3)
    assert tau[1] == pytest.approx(0.175, abs=0.5e-3)


def test_comm_time_default():
    tau_c = relay_comm_time(np.array([0.010, 0.0]), 2000, 20, 0.018)
    assert tau_c == pytest.approx([20 * 0.028, 20 * 0.018])


def test_sizes_closed_forms():
    # BLOOM-176B NF4: 12h² + 13h params per block, 4.25/8 bytes, ×1.01 → 1.32 GB (SPEC §6.1)
    h = 14336
    assert block_size_gb(12 * h * h + 13 * h, "nf4") == pytest.approx(1.3234, abs=1e-4)
    # s_c: keys + values for 2048 tokens in fp16 = 2·14336·2048·2 bytes
    assert cache_size_gb(h, 2048) == pytest.approx(2 * h * 2048 * 2 / 1e9)
    # LLaMA-2-7B cache in SPEC §6.2: 2·4096·2048·2 B = 0.0336 GB
    assert cache_size_gb(4096, 2048) == pytest.approx(0.0336, abs=1e-4)
    # GQA divides the cache by heads/kv_heads (LLaMA-2-70B: 64/8)
    assert cache_size_gb(8192, 4096, 2.0, 8.0) == pytest.approx(2 * 8192 * 4096 * 2 / 8 / 1e9)
    assert block_size_gb(1e9, "int8", 1.0) == 1.0
    assert block_size_gb(1e9, "bf16", 1.0) == 2.0


def test_model_cards_public_totals():
    # parameters per block × layers ≈ the published size minus embeddings
    expect = {"LLaMA-2-7B": 6.74e9, "LLaMA-2-13B": 13.0e9, "LLaMA-2-70B": 69.0e9, "Llama-3-8B": 8.03e9,
              "Llama-3-70B": 70.6e9, "LLaMA-30B": 32.5e9, "BLOOM-176B": 176.2e9}
    for name, total in expect.items():
        card = catalog.MODELS[name]
        emb = card.vocab_size * card.hidden_size * (1 if name == "BLOOM-176B" else 2)
        assert (card.params_per_block * card.layers + emb) == pytest.approx(total, rel=0.03), name


def test_mig_slices_match_spec_servers():
    hi, lo = catalog.GPUS["A100-MIG-3g.40gb"], catalog.GPUS["A100-MIG-2g.20gb"]
    assert (hi.memory_gb, lo.memory_gb) == (40.0, 20.0)
    assert hi.tflops == pytest.approx(120, rel=0.02) and lo.tflops == pytest.approx(80, rel=0.02)
    assert hi.bandwidth_gb_s == pytest.approx(1020, rel=0.01) and lo.bandwidth_gb_s == pytest.approx(510, rel=0.01)


def test_resolve_bloom_card_nf4():
    m = resolve_model(ModelSpec(card="BLOOM-176B", dtype="nf4", max_seq_len=2048))
    assert m.num_blocks == 70
    assert m.block_size_gb == pytest.approx(1.32, abs=0.01)
    assert m.cache_size_gb == pytest.approx(0.117, abs=0.001)
    assert m.flops_per_block_per_token == pytest.approx(5e9, rel=0.02)


def test_resolve_explicit_overrides_card():
    m = resolve_model(ModelSpec(card="LLaMA-2-7B", block_size_gb=0.4375, cache_size_gb=0.0336))
    assert (m.num_blocks, m.block_size_gb, m.cache_size_gb) == (32, 0.4375, 0.0336)


def test_build_problem_units_and_timing():
    cluster = ClusterSpec.model_validate({"servers": [
        {"id": "hi", "memory_gb": 40, "tflops": 120, "bandwidth_gb_s": 1020, "rtt_ms": 12.5},
        {"id": "lo", "memory_gb": 20, "tflops": 80, "bandwidth_gb_s": 510, "rtt_ms": 30, "count": 2},
        {"id": "fixed", "memory_gb": 10, "tau_comm_s": 0.3, "tau_comp_s": 0.2},
    ]})
    model = resolve_model(ModelSpec(num_blocks=70, block_size_gb=1.32, cache_size_gb=0.11, flops_per_block_per_token=5e9))
    wl = WorkloadSpec(arrival_rate=0.2, mean_input_tokens=2000, mean_output_tokens=20)
    p = build_problem(cluster, model, wl)
    assert p.server_ids == ("hi", "lo-1", "lo-2", "fixed")
    assert p.memory_gb.tolist() == [40, 20, 20, 10]
    assert p.tau_comp_s[:3] == pytest.approx([0.109, 0.175, 0.175], abs=0.5e-3)
    assert p.tau_comm_s == pytest.approx([20 * 0.0305, 20 * 0.048, 20 * 0.048, 0.3])
    assert p.tau_comp_s[3] == 0.2
    t = p.timing
    assert t is not None and math.isnan(t.rtt_s[3]) and math.isnan(t.prefill_s_per_token[3])
    # the simulator's recomputation from the timing model reproduces τ for derived servers
    assert t.tau_comp(2000, 20)[:3] == pytest.approx(p.tau_comp_s[:3])
    assert t.tau_comm(20)[:3] == pytest.approx(p.tau_comm_s[:3])
    assert p.arrival_rate == 0.2 and p.target_load == 0.7


def test_multi_gpu_node_sums():
    cluster = ClusterSpec.model_validate({"servers": [{"id": "n", "gpu": "T4", "num_gpus": 4, "rtt_ms": 1}]})
    s = cluster.servers[0]
    assert s.resolved_memory_gb() == 64 and s.resolved_tflops() == 260 and s.resolved_bandwidth_gb_s() == 1280
