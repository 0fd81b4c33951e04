"""The numba kernel and the general engine make identical decisions on the same random streams."""

import zlib

import numpy as np
import pytest

from chaincomp.sim.policies import POLICIES
from chaincomp.sim.runner import make_streams, run_chain_policy

from sim_helpers import random_chain_set, with_timing


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("service", ["exp", "deterministic", "length"])
def test_kernel_matches_engine(policy, service):
    rng = np.random.default_rng(zlib.crc32(f"{policy}|{service}".encode()))
    for rep in range(3):
        problem, alloc = random_chain_set(rng)
        problem = with_timing(problem, rng).with_workload(arrival_rate=0.85 * alloc.service_rate if service == "exp" else 0.3)
        if service == "length":
            from dataclasses import replace
            problem = replace(problem, mean_input_tokens=500.0, mean_output_tokens=20.0)
        st = make_streams(problem, 3000, seed=rep, replication=0, service=service)
        a = run_chain_policy(problem, alloc, policy, st, service, 300, engine="numba")
        b = run_chain_policy(problem, alloc, policy, st, service, 300, engine="python")
        np.testing.assert_array_equal(a.tag, b.tag)
        np.testing.assert_allclose(a.dispatch_s, b.dispatch_s, rtol=1e-12, atol=0)
        np.testing.assert_allclose(a.completion_s, b.completion_s, rtol=1e-12, atol=0)
        np.testing.assert_allclose(a.busy_s, b.busy_s, rtol=1e-9)
        assert a.events == b.events
        assert np.all(a.dispatch_s >= a.arrival_s) and np.all(a.completion_s > a.dispatch_s)
