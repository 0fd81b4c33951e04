"""JFFC-only (SPEC §4.3) and random placements (SPEC §6.1)."""

import numpy as np
import pytest

from chaincomp import methods
from chaincomp.core.verify import verify_solution
from chaincomp.errors import InfeasibleInstance, UsageError
from chaincomp.heuristics.gbp_cr import gbp_cr
from chaincomp.heuristics.jffc_only import jffc_only_allocation
from chaincomp.heuristics.random_placement import random_placements
from chaincomp.problem import Problem
from tests.conftest import worked_example_problem


def test_jffc_only_capacities_by_hand():
    # L = 4, s_m = 1, s_c = 0.25: c_j = ⌊(M − 4)/1⌋ → M = (6.5, 5, 4.9) gives (2, 1, dropped)
    p = Problem(("a", "b", "c"), np.array([6.5, 5.0, 4.9]), np.array([1.0, 2.0, 0.5]), np.array([0.1, 0.1, 0.1]),
                4, 1.0, 0.25, 0.1)
    placement, alloc = jffc_only_allocation(p)
    assert placement.num_blocks.tolist() == [4, 4, 0]
    caps = dict(zip([ch.servers[0] for ch in alloc.chains], alloc.capacities))
    assert caps == {0: 2, 1: 1}
    assert alloc.chains[0].service_time_s == pytest.approx(1.0 + 0.4)
    sol = methods.run("jffc-only", p)
    assert verify_solution(sol) == []


def test_jffc_only_infeasible_on_worked_example():
    with pytest.raises(InfeasibleInstance):
        methods.run("jffc-only", worked_example_problem())


def test_random_placements_feasible_and_not_better_than_gbp_cr_homogeneous():
    # equal memory: Theorem 2 says GBP-CR is optimal for (7), so no random order beats it
    J = 12
    rng = np.random.default_rng(0)
    p = Problem(tuple(f"s{j}" for j in range(J)), np.full(J, 20.0), rng.uniform(0.3, 1.0, J),
                rng.uniform(0.1, 0.2, J), 70, 1.32, 0.11, 0.05)
    g = gbp_cr(p, 7)
    rs = random_placements(p, 7, 30, seed=1)
    assert all(r.feasible for r in rs)
    assert all(g.surrogate <= r.surrogate for r in rs)


def test_random_method_verifies_and_rejects_unknown_options():
    p = worked_example_problem()
    sol = methods.run("random", p, cache_reservation=1, seed=5)
    assert verify_solution(sol) == []
    assert methods.run("random", p, cache_reservation=1, seed=5).placement.first_block.tolist() == \
        sol.placement.first_block.tolist()
    with pytest.raises(UsageError):
        methods.run("petals", p, cache_reservation=3)
    with pytest.raises(UsageError):
        methods.run("bprr", p, time_limit_s=3.0)
