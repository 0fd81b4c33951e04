"""Tuning of c (SPEC §3.5) against a recomputation from the naive reference implementations."""

import math

import numpy as np
import pytest

from chaincomp.analysis.bounds import jffc_bounds
from chaincomp.errors import InfeasibleInstance
from chaincomp.heuristics.tuning import tune
from chaincomp.problem import Problem
from tests.reference import ref_gbp_cr, ref_gca


def bloom_like(J=12, seed=3, lam=0.6):
    rng = np.random.default_rng(seed)
    high = rng.random(J) < 0.3
    return Problem(
        tuple(f"s{j}" for j in range(J)),
        np.where(high, 40.0, 20.0),
        20 * (rng.uniform(0.01, 0.06, J) + 0.018),
        np.where(high, 0.109, 0.175),
        70,
        1.32,
        0.11,
        lam,
        0.7,
    )


def reference_scores(p):
    args = (list(p.memory_gb), list(p.tau_comm_s), list(p.tau_comp_s), p.num_blocks, p.block_size_gb, p.cache_size_gb)
    c_max = math.floor((max(p.memory_gb) - p.block_size_gb) / p.cache_size_gb + 1e-9)
    out = {}
    for c in range(1, c_max + 1):
        a, m, K, ok = ref_gbp_cr(*args[:3], args[3], args[4], args[5], p.arrival_rate, p.target_load, c)
        if not ok:
            continue
        chains = ref_gca(a, m, *args)
        rates = [1 / T for _, _, T, _ in chains]
        caps = [cap for *_, cap in chains]
        if p.arrival_rate >= float(np.dot(rates, caps)):
            continue
        b = jffc_bounds(p.arrival_rate, rates, caps)
        out[c] = {"surrogate": c * K / p.arrival_rate, "lower": b.lower_s, "upper": b.upper_s}
    return out


@pytest.mark.parametrize("score", ["lower", "upper", "surrogate"])
@pytest.mark.parametrize("seed,lam", [(3, 0.6), (5, 0.2), (8, 0.45)])
def test_tuning_picks_reference_argmin(score, seed, lam):
    p = bloom_like(seed=seed, lam=lam)
    ref = reference_scores(p)
    res = tune(p, score)
    feasible = {c.cache_reservation: c.scores for c in res.candidates if c.feasible}
    assert set(feasible) == set(ref)
    for c, s in ref.items():
        for k in ("surrogate", "lower", "upper"):
            assert feasible[c][k] == pytest.approx(s[k], rel=1e-9)
    best = min(ref, key=lambda c: (ref[c][score], c))
    assert res.best.cache_reservation == best


def test_infeasible_says_why():
    p = Problem(("a", "b"), np.array([20.0, 20.0]), np.array([0.5, 0.5]), np.array([0.1, 0.1]), 70, 1.32, 0.11, 0.2, 0.7)
    with pytest.raises(InfeasibleInstance, match=r"hosts only \d+ of 70 blocks at c = 1"):
        tune(p)


def test_rate_too_high_says_why():
    p = bloom_like(lam=500.0)
    with pytest.raises(InfeasibleInstance, match="largest service rate"):
        tune(p)


def test_bloom_sweep_matches_reference_and_skips_memory_bound_cs():
    """Issue 14: the sweep (grouped GCA, compiled GBP-CR, memory-bound c's skipped) gives the naive
    reference's feasible set, scores and c*; every skipped c really hosts < L blocks, and its
    (lazily built) placement is GBP-CR's."""
    from benchmarks.bench_pipeline import bloom_instance
    from chaincomp.heuristics.gbp_cr import MemoryBoundPlacement, gbp_cr

    p = bloom_instance(24, seed=5)
    ref = reference_scores(p)
    res = tune(p, "lower")
    assert [c.cache_reservation for c in res.candidates] == list(range(1, p.max_cache_reservation + 1))
    feasible = {c.cache_reservation: c.scores for c in res.candidates if c.feasible}
    assert set(feasible) == set(ref)
    for c, s in ref.items():
        for k in ("surrogate", "lower", "upper"):
            assert feasible[c][k] == pytest.approx(s[k], rel=1e-9)
    assert res.best.cache_reservation == min(ref, key=lambda c: (ref[c]["lower"], c))
    skipped = [c for c in res.candidates if isinstance(c.greedy, MemoryBoundPlacement)]
    assert len(skipped) > 100  # most of 1..351 at J = 24
    first_skipped = skipped[0].cache_reservation
    assert all(c.cache_reservation >= first_skipped for c in skipped)
    for cand in skipped[:: max(1, len(skipped) // 10)]:
        c = cand.cache_reservation
        assert int(p.blocks_at_reservation(c).sum()) < p.num_blocks
        g = gbp_cr(p, c)
        assert not g.feasible and cand.reason == g.reason and cand.greedy.num_chains == g.num_chains == 0
        assert np.array_equal(cand.greedy.placement.first_block, g.placement.first_block)
        assert np.array_equal(cand.greedy.placement.num_blocks, g.placement.num_blocks)
    # the last non-skipped c still hosts ≥ L blocks (the skip is not premature)
    assert int(p.blocks_at_reservation(first_skipped - 1).sum()) >= p.num_blocks


def test_candidate_allocation_is_built_from_the_kernel_arrays():
    from chaincomp.heuristics.gca import gca

    p = bloom_like(J=30, seed=2, lam=0.9)
    res = tune(p)
    best = res.best
    alloc = best.allocation
    ref = gca(p, best.greedy.placement)
    assert [(ch.servers, ch.blocks, ch.service_time_s) for ch in alloc.chains] == [(ch.servers, ch.blocks, ch.service_time_s) for ch in ref.chains]
    assert alloc.capacities == ref.capacities
    assert best.allocation is alloc  # built once


def test_vectorized_blocks_equal_eq6_per_c():
    from benchmarks.bench_pipeline import bloom_instance
    from chaincomp.heuristics.gbp_cr import blocks_for_reservations, hosted_blocks

    for p in (bloom_instance(50, seed=1), bloom_like(J=40, seed=9)):
        cs = list(range(1, p.max_cache_reservation + 1))
        rows = blocks_for_reservations(p, cs)
        for c, row in zip(cs, rows):
            assert np.array_equal(row, p.blocks_at_reservation(c))
        assert hosted_blocks(p, cs).tolist() == [int(p.blocks_at_reservation(c).sum()) for c in cs]


def test_rate_infeasible_candidates_rebuild_their_placement():
    from chaincomp.heuristics.gbp_cr import LazyGreedyPlacement, MemoryBoundPlacement, gbp_cr

    p = bloom_like(J=30, seed=4, lam=1.2)
    res = tune(p)
    lazy = [c for c in res.candidates if isinstance(c.greedy, LazyGreedyPlacement) and not isinstance(c.greedy, MemoryBoundPlacement)]
    assert lazy
    for cand in lazy:
        g = gbp_cr(p, cand.cache_reservation)
        assert (cand.greedy.num_chains, cand.greedy.group_rate, cand.reason) == (g.num_chains, g.group_rate, g.reason)
        assert np.array_equal(cand.greedy.placement.first_block, g.placement.first_block)
        assert np.array_equal(cand.greedy.placement.num_blocks, g.placement.num_blocks)
