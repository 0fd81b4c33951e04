"""The paper's worked example (Fig. 2, SPEC §8), reproduced to the digit."""

import pytest

from chaincomp.core.solution import Solution
from chaincomp.core.verify import verify_solution
from chaincomp.heuristics.gbp_cr import gbp_cr
from chaincomp.heuristics.gca import gca
from tests.conftest import worked_example_problem

EPS = 1e-3


def test_gbp_cr_placement_and_groups():
    p = worked_example_problem()
    g = gbp_cr(p, 1)
    assert list(p.blocks_at_reservation(1)) == [1, 2, 1, 1, 1]
    # j1→{1}, j2→{2,3}, j3→{1}, j4→{2}, j5→{3}
    assert list(g.placement.first_block) == [1, 2, 1, 2, 3]
    assert list(g.placement.num_blocks) == [1, 2, 1, 1, 1]
    assert g.feasible and g.num_chains == 2
    # groups j1→j2 (T = 3 + 5ε) and j3→j4→j5 (T = 3 + 12ε)
    assert g.group_rate == pytest.approx(1 / (3 + 5 * EPS) + 1 / (3 + 12 * EPS), rel=1e-12)


def test_gca_three_chains():
    p = worked_example_problem()
    alloc = gca(p, gbp_cr(p, 1).placement)
    names = [[p.server_ids[j] for j in ch.servers] for ch in alloc.chains]
    assert names == [["j1", "j2"], ["j1", "j4", "j5"], ["j3", "j4", "j5"]]
    assert [ch.blocks for ch in alloc.chains] == [(1, 2), (1, 1, 1), (1, 1, 1)]
    assert [ch.service_time_s for ch in alloc.chains] == pytest.approx([3 + 5 * EPS, 3 + 10 * EPS, 3 + 12 * EPS], rel=1e-12)
    assert alloc.capacities == (5, 5, 5)


def test_residual_slots_are_ten_despite_rounding():
    p = worked_example_problem()
    # (2 − 1)/0.1 is 9.999… in floating point; the tolerant floor must give 10
    assert list(p.residual_slots(gbp_cr(p, 1).placement.num_blocks)) == [10, 10, 10, 10, 10]


def test_lambda_window_gives_exactly_two_groups():
    # GBP-CR forms exactly two chains when 1/(3+5ε) < λ/(ρ̄c) ≤ 1/(3+5ε) + 1/(3+12ε)
    lo = 1 / (3 + 5 * EPS)
    hi = lo + 1 / (3 + 12 * EPS)
    for ratio in (lo * 1.001, (lo + hi) / 2, hi * 0.999):
        p = worked_example_problem(arrival_rate=ratio * 0.7)
        assert gbp_cr(p, 1).num_chains == 2
    assert gbp_cr(worked_example_problem(arrival_rate=lo * 0.7 * 0.99), 1).num_chains == 1


def test_solution_verifies():
    p = worked_example_problem()
    g = gbp_cr(p, 1)
    sol = Solution.create(p, "greedy", g.placement, gca(p, g.placement), {"cache_reservation": 1})
    assert verify_solution(sol) == []
    assert sol.metrics["total_capacity"] == 15
    # λ/ρ̄ = 0.5714 and μ₁ = 1/3.005 = 0.3328: ⌈0.5714/0.3328⌉ = 2 job servers of the fastest chain
    assert sol.metrics["job_servers"] == 2
