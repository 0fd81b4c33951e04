"""The verifier catches every kind of corruption (each mutation below must be reported)."""


import numpy as np
import pytest

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.core.placement import Placement
from chaincomp.core.solution import Solution
from chaincomp.core.verify import assert_valid, verify_solution
from chaincomp.errors import VerificationError
from chaincomp.heuristics.gbp_cr import gbp_cr
from chaincomp.heuristics.gca import gca
from tests.conftest import worked_example_problem


@pytest.fixture
def good():
    p = worked_example_problem()
    g = gbp_cr(p, 1)
    return Solution.create(p, "greedy", g.placement, gca(p, g.placement))


def _with(sol, placement=None, chains=None, caps=None, metrics=None):
    alloc = sol.allocation
    new_alloc = Allocation(tuple(chains) if chains is not None else alloc.chains, tuple(caps) if caps is not None else alloc.capacities)
    return Solution(sol.problem, sol.method, placement or sol.placement, new_alloc, metrics=metrics if metrics is not None else sol.metrics)


def test_valid(good):
    assert verify_solution(good) == []
    assert_valid(good)


def test_json_roundtrip_still_valid(good):
    import json

    again = Solution.from_dict(json.loads(good.to_json()))
    assert verify_solution(again) == []


def test_memory_violation(good):
    bad = _with(good, caps=[6, 5, 5])  # j1 carries 6 + 5 = 11 slots > 10
    errs = verify_solution(bad)
    assert any("server j1" in e and "memory" in e for e in errs)
    with pytest.raises(VerificationError):
        assert_valid(bad)


def test_chain_rule_violation(good):
    p = good.problem
    ch = Chain.build(p, (0, 4), (1, 2))  # j1 ends at 1, j5 hosts only block 3
    errs = verify_solution(_with(good, chains=list(good.allocation.chains[:2]) + [ch]))
    assert any("cannot process block 2" in e for e in errs)


def test_wrong_blocks_per_hop(good):
    ch = good.allocation.chains[0]
    wrong = Chain(ch.servers, (1, 1), ch.service_time_s)
    assert any("processes 2 blocks" in e for e in verify_solution(_with(good, chains=[wrong] + list(good.allocation.chains[1:]))))


def test_wrong_service_time(good):
    ch = good.allocation.chains[0]
    wrong = Chain(ch.servers, ch.blocks, ch.service_time_s + 1e-6)
    assert any("service time" in e for e in verify_solution(_with(good, chains=[wrong] + list(good.allocation.chains[1:]))))


def test_range_violation(good):
    pl = Placement(np.array([1, 2, 1, 2, 3]), np.array([1, 2, 1, 1, 2]))  # j5: blocks 3..4 > L
    assert any("outside 1..3" in e for e in verify_solution(_with(good, placement=pl)))


def test_incomplete_chain(good):
    p = good.problem
    ch = Chain.build(p, (0,), (1,))
    assert any("ends at block 1" in e for e in verify_solution(_with(good, chains=[ch], caps=[1])))


def test_wrong_metrics(good):
    m = dict(good.metrics)
    m["service_rate"] *= 1.01
    m["job_servers"] += 1
    errs = verify_solution(_with(good, metrics=m))
    assert any("service_rate" in e for e in errs) and any("job_servers" in e for e in errs)
