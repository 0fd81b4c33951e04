"""PETALS' rules pinned on hand-made cases and on the numbers PETALS/BPRR report (SPEC §4.1)."""

import math

import numpy as np
import pytest

from chaincomp.core.verify import verify_solution
from chaincomp.heuristics.petals import (
    PetalsModel,
    announced_throughput,
    choose_best_start,
    petals_block_counts,
    petals_cache_slots,
    petals_placement,
    petals_solution,
)
from chaincomp.problem import Problem
from tests.conftest import worked_example_problem

BLOOM_HIDDEN = 14336
# BLOOM-176B layer: 12h² + 13h parameters; NF4 4.25/8 bytes each; ×1.01 (PETALS get_block_size)
BLOOM_NF4_BLOCK_GB = (12 * BLOOM_HIDDEN**2 + 13 * BLOOM_HIDDEN) * 4.25 / 8 * 1.01 / 1e9


def _problem(memory, tau_p=None, L=70, s_m=BLOOM_NF4_BLOCK_GB, s_c=0.11):
    J = len(memory)
    return Problem(tuple(f"s{j}" for j in range(J)), np.array(memory, float), np.ones(J),
                   np.array(tau_p if tau_p is not None else [0.1] * J, float), L, s_m, s_c, 0.2)


def test_bloom_block_counts_match_petals_reports():
    # 53 blocks on an 85.1 GB A100; 3 on an 8.2 GB and 4 on a 9.1 GB MIG slice (GB = 1e9 bytes, reserve 2 GiB)
    p = _problem([85.1, 8.2, 9.1])
    m = petals_block_counts(p, PetalsModel(hidden_size=BLOOM_HIDDEN))
    assert m.tolist() == [53, 3, 4]


def test_constants_bloom():
    model = PetalsModel(hidden_size=BLOOM_HIDDEN)
    assert model.cache_tokens == 4096
    assert model.cache_per_block_gb == pytest.approx(2 * 14336 * 4096 * 2 / 1e9)
    assert model.reserve_gb == pytest.approx(2 * 2**30 / 1e9)
    assert PetalsModel(hidden_size=8192, kv_groups=8).cache_tokens == 16384
    # GQA: 2·8192·16384·2/8 bytes
    assert PetalsModel(hidden_size=8192, kv_groups=8).cache_per_block_gb == pytest.approx(2 * 8192 * 16384 * 2 / 8 / 1e9)
    # reserve scales with hidden/14336
    assert PetalsModel(hidden_size=7168).reserve_gb == pytest.approx(2**30 / 1e9)


def test_announced_throughput():
    assert announced_throughput(100.0, 1) == pytest.approx(100.0)
    assert announced_throughput(100.0, 3) == pytest.approx(50.0)
    assert announced_throughput(100.0, 3, network_rps=20.0) == pytest.approx(20.0)


def test_window_choice_lexicographic_and_ties():
    # sorted windows of size 2: [0,5]@0, [0,5]@1... hand-checked
    thr = np.array([5.0, 0.0, 5.0, 1.0, 1.0])
    # windows: (5,0)->[0,5], (0,5)->[0,5], (5,1)->[1,5], (1,1)->[1,1]
    # lexicographically smallest sorted: [0,5] at starts 0 and 1 → lowest start 0
    assert choose_best_start(thr, 2) == 0
    # a window with a smaller second element wins when first elements tie
    thr = np.array([3.0, 0.0, 9.0, 0.0, 1.0])
    # windows: [0,3]@0, [0,9]@1, [0,9]@2, [0,1]@3 → start 3
    assert choose_best_start(thr, 2) == 3
    # all zero: lowest start
    assert choose_best_start(np.zeros(6), 3) == 0
    # window as long as the model
    assert choose_best_start(np.array([1.0, 2.0]), 2) == 0


def test_join_sequence_by_hand():
    # L = 6, servers with 3, 3, 2 blocks (no cache, no reserve), equal speed: announced 10/2 = 5 and 10/1.5
    model = PetalsModel(cache_per_block_gb_override=0.0, reserve_gb_override=0.0)
    p = _problem([3.0, 3.0, 2.0], tau_p=[0.1, 0.1, 0.1], L=6, s_m=1.0, s_c=0.5)
    # order (0, 1, 2): s0 → 1-3; s1: only [0,0,0] window at start 4 → 4-6; s2: all windows [5,5] → 1-2
    pp = petals_placement(p, model=model, order=[0, 1, 2])
    assert pp.placement.first_block.tolist() == [1, 4, 1]
    assert pp.throughput.tolist() == pytest.approx([5.0, 5.0, 10 / 1.5])
    # order (2, 0, 1): s2 → 1-2; s0: [0,0,0] at starts 3 and 4 → lowest, 3-5; s1: [0,5,5] at 4 → 4-6
    pp = petals_placement(p, model=model, order=[2, 0, 1])
    assert pp.placement.first_block.tolist() == [3, 4, 1]
    assert pp.block_throughput.tolist() == pytest.approx([10 / 1.5, 10 / 1.5, 5, 10, 10, 5])


def test_seeded_and_reproducible():
    p = _problem([40.0] * 4 + [20.0] * 16, tau_p=[0.109] * 4 + [0.175] * 16)
    model = PetalsModel(hidden_size=BLOOM_HIDDEN)
    a = petals_placement(p, seed=3, model=model)
    b = petals_placement(p, seed=3, model=model)
    c = petals_placement(p, seed=4, model=model)
    assert a.join_order == b.join_order and (a.placement.first_block == b.placement.first_block).all()
    assert a.join_order != c.join_order


def test_cache_slots_in_tokens():
    # LLaMA-2-7B with s_c rounded to 0.0336 GB: 32 blocks × 4096 tokens / 2048 tokens = 64 slots
    p = Problem(("a",), np.array([40.0]), np.ones(1), np.ones(1), 32, 0.4375, 0.0336, 1.0,
                meta={"model": {"hidden_size": 4096, "max_seq_len": 2048}})
    assert petals_cache_slots(p, np.array([32]), PetalsModel(hidden_size=4096)).tolist() == [64]


def test_worked_example_solution_has_no_chains():
    p = worked_example_problem()
    sol = petals_solution(p, seed=0)
    assert sol.allocation.chains == ()
    assert sol.metrics["job_servers"] is None and sol.metrics["service_rate"] is None
    assert "per-request" in sol.extra["routing"]
    assert verify_solution(sol) == []
    # fallback without a model: one job's cache per block, no reserve → m_j = ⌊M_j/(s_m + s_c)⌋
    assert sol.placement.num_blocks.tolist() == [1, 2, 1, 1, 1]
    assert sol.extra["petals"]["notes"]


def test_rebalancing_runs_and_keeps_coverage():
    p = _problem([40.0] * 3 + [20.0] * 7, tau_p=[0.109] * 3 + [0.175] * 7)
    sol = petals_solution(p, seed=1, rebalance_rounds=3, hidden_size=BLOOM_HIDDEN)
    assert (sol.placement.coverage(70) > 0).all()
    assert math.isfinite(sol.extra["petals"]["rebalance_moves"])
