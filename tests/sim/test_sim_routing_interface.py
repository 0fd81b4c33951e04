"""The routing-policy plug-in: slot accounting, Start/Wait/Hold/Retry semantics, error reporting."""

import numpy as np
import pytest

from chaincomp.core.allocation import Chain
from chaincomp.problem import Problem
from chaincomp.sim.engine import Hold, Job, Retry, RoutingPolicy, SimulationError, Simulator, Start, Wait
from chaincomp.sim.service import chain_coefficients


def tiny():
    # two servers, 2 blocks; server a hosts block 1, b hosts block 2; 3 slots on a, 2 on b
    p = Problem(("a", "b"), np.array([1.3, 1.2]), np.array([1.0, 1.0]), np.array([0.0, 0.0]),
                num_blocks=2, block_size_gb=1.0, cache_size_gb=0.1, arrival_rate=1.0)
    chain = Chain.build(p, (0, 1), (1, 1))  # T = 2 s
    return p, chain


def run(policy, arrivals, slots=(3, 2)):
    p, _ = tiny()
    sim = Simulator(p, np.array(slots), lambda ch: chain_coefficients(p, ch, "deterministic"))
    jobs = [Job(i, t, 0.0, 0.0) for i, t in enumerate(arrivals)]
    return sim.run(policy, jobs, num_tags=1)


class Greedy(RoutingPolicy):
    name = "greedy-wait"

    def reset(self, sim):
        super().reset(sim)
        self.seen = []

    def route(self, job, sim):
        _, chain = tiny()
        self.seen.append((job.index, sim.now, tuple(sim.free_slots), tuple(sim.jobs_in_service)))
        return Start(chain, 0) if sim.fits(chain) else Wait()


def test_slots_are_held_for_the_whole_service_and_waiting_is_fifo():
    pol = Greedy()
    rec = run(pol, [0.0, 0.1, 0.2, 0.3])
    # server b has 2 slots: jobs 0, 1 start at once; 2 waits for job 0 (t = 2), 3 for job 1 (t = 2.1)
    np.testing.assert_allclose(rec.dispatch_s, [0.0, 0.1, 2.0, 2.1])
    np.testing.assert_allclose(rec.completion_s, [2.0, 2.1, 4.0, 4.1])
    assert pol.seen[0] == (0, 0.0, (3, 2), (0, 0))
    assert pol.seen[1] == (1, 0.1, (2, 1), (1, 1))
    assert pol.seen[2] == (2, 0.2, (1, 0), (2, 2))


class Backoff(RoutingPolicy):
    name = "backoff"

    def route(self, job, sim):
        _, chain = tiny()
        if sim.fits(chain):
            return Start(chain, 0)
        return Retry(sim.now + 2.0 ** (job.attempts - 1))  # 1, 2, 4 … s


def test_retry_backoff_counts_attempts_and_waiting():
    rec = run(Backoff(), [0.0, 0.0, 0.0])
    # job 2 finds b full at 0 → retries at 1 (full) → at 3 (free since t = 2): starts at 3
    np.testing.assert_allclose(rec.dispatch_s, [0.0, 0.0, 3.0])
    assert list(rec.attempts) == [1, 1, 3]


class Holder(RoutingPolicy):
    name = "hold"

    def route(self, job, sim):
        _, chain = tiny()
        running = sim.running()
        assert all(r.expected_completion_s == r.dispatch_s + 2.0 for r in running)
        return Hold(chain, 0)


def test_hold_starts_when_the_path_fits():
    rec = run(Holder(), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(rec.dispatch_s, [0.0, 0.5, 2.0])


class Bad(RoutingPolicy):
    name = "bad"

    def route(self, job, sim):
        _, chain = tiny()
        return Start(chain)


def test_overfull_start_is_an_error():
    with pytest.raises(SimulationError, match="server b"):
        run(Bad(), [0.0, 0.0, 0.0])


def test_job_that_never_fits_is_reported():
    with pytest.raises(SimulationError, match="can never"):
        run(Greedy(), [0.0], slots=(3, 0))


def test_retry_in_the_past_is_an_error():
    class Past(RoutingPolicy):
        name = "past"

        def route(self, job, sim):
            return Retry(sim.now - 1.0)

    with pytest.raises(SimulationError, match="retry"):
        run(Past(), [1.0])


def test_routing_policy_through_the_runner():
    """simulate() accepts policy objects next to chain-policy names."""
    from chaincomp.core.allocation import Allocation
    from chaincomp.core.placement import Placement
    from chaincomp.sim.runner import simulate

    p, chain = tiny()
    placement = Placement(np.array([1, 2]), np.array([1, 1]))  # M̃ = (3, 2)
    alloc = Allocation((chain,), (2,))
    rep = simulate(p.with_workload(0.5), alloc, ["jffc", Greedy()], placement=placement, num_jobs=3000,
                   service="deterministic", seed=1)
    jffc, greedy = rep.data["policies"]
    # both keep at most 2 jobs in service on this path: identical results
    assert greedy["policy"] == "greedy-wait" and greedy["engine"] == "python"
    assert greedy["response_time_s"]["mean"] == pytest.approx(jffc["response_time_s"]["mean"], rel=1e-12)


def test_registered_routing_policy_resolves_by_name():
    from chaincomp.sim.policies import register_routing, resolve_policy, routing_policies

    @register_routing("test-greedy-wait", "test only")
    def factory(solution):
        return Greedy()

    assert "test-greedy-wait" in routing_policies()
    assert isinstance(resolve_policy("test-greedy-wait", solution=object()), Greedy)
    assert resolve_policy("JFFC") == "jffc"
    with pytest.raises(Exception, match="unknown policy"):
        resolve_policy("no-such-policy")
