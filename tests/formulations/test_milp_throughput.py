"""Throughput objective (max ν under memory) of method ``milp``: valid bound, proofs vs brute force; threads."""

from __future__ import annotations

import numpy as np
import pytest

from chaincomp import methods
from chaincomp.core.verify import assert_valid
from chaincomp.formulations.common import greedy_start
from tests.conftest import worked_example_problem
from tests.formulations.bruteforce import brute_force_throughput
from tests.formulations.tiny import random_instance


def test_throughput_equals_brute_force_on_tiny_instances():
    """Max ν does not depend on λ: each instance is also solved at 1000 × λ, where GBP-CR + GCA meet
    λ/ρ̄ at no c (the warm start must still place servers: common.throughput_start)."""
    rng = np.random.default_rng(123)
    compared = busy = 0
    for seed in range(22):
        J, L = int(rng.integers(2, 5)), int(rng.integers(2, 5))
        p = random_instance(seed, J, L)
        expected = brute_force_throughput(p)
        if expected == 0.0:  # no placement forms a chain
            continue
        for q in (p, p.with_workload(arrival_rate=1000 * p.arrival_rate)):
            busy += greedy_start(q) is None
            sol = methods.run("milp", q, objective="throughput", time_limit_s=10)
            assert_valid(sol)
            value, bound = sol.metrics["service_rate"], sol.solver["bound"]
            assert value <= expected * (1 + 1e-9) and bound >= expected * (1 - 1e-9), (seed, value, expected, bound)
            assert sol.solver["bound_kind"] == "upper"
            if sol.solver["proved_optimal"]:
                assert value == pytest.approx(expected, rel=1e-9), seed
                compared += 1
    assert compared >= 20 and busy >= 10


def test_throughput_gap_is_reported_beyond_tiny_size():
    p = random_instance(5001, 7, 7)
    if greedy_start(p) is None:
        pytest.skip("greedy infeasible on this random instance")
    sol = methods.run("milp", p, objective="throughput", time_limit_s=5)
    assert_valid(sol)
    s = sol.solver
    assert s["bound"] is not None and s["bound"] >= sol.metrics["service_rate"] * (1 - 1e-9)
    assert s["gap"] is not None and 0.0 <= s["gap"] < 1.0


@pytest.mark.parametrize("threads", [1, 2])
def test_threads_option_is_accepted_and_recorded(threads):
    p = worked_example_problem()
    sol = methods.run("milp", p, threads=threads)
    assert_valid(sol)
    assert sol.parameters["threads"] == threads
    assert sol.solver["proved_optimal"]


def test_throughput_without_any_chain_is_proved_infeasible():
    """Tiny instances where no placement forms a chain (brute force: ν = 0) are *proved* infeasible
    (exit 2), not "no design found" — and instances with a chain never are."""
    from chaincomp.errors import InfeasibleInstance

    proved = 0
    for seed in range(40):
        for J, L in ((2, 4), (3, 3), (2, 3)):
            p = random_instance(seed, J, L)
            if brute_force_throughput(p) > 0.0:
                continue
            with pytest.raises(InfeasibleInstance, match="proved infeasible"):
                methods.run("milp", p, objective="throughput", time_limit_s=5)
            proved += 1
    assert proved >= 5


def test_greedy_ilp_throughput_does_not_depend_on_lambda():
    """greedy-ilp's throughput objective at a λ no design reaches: still a design (the best-ν GBP-CR
    pass), valid, and never above the brute-force max ν."""
    done = 0
    for seed in range(12):
        p = random_instance(seed, 3, 3)
        truth = brute_force_throughput(p)
        if truth == 0.0:
            continue
        busy = p.with_workload(arrival_rate=1000 * p.arrival_rate)
        sol = methods.run("greedy-ilp", busy, objective="throughput")
        assert_valid(sol)
        assert 0 < sol.metrics["service_rate"] <= truth * (1 + 1e-9)
        assert "reached at no c" in sol.solver["label"]
        done += 1
    assert done >= 5
