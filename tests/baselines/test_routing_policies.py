"""PETALS routing (backoff, penalty) and BPRR WS-RR on hand-made cases with deterministic service."""

import numpy as np
import pytest

from chaincomp.core.placement import Placement
from chaincomp.problem import Problem
from chaincomp.sim.engine import Job, Simulator, placement_slots
from chaincomp.sim.routing_bprr import WsrrRouting
from chaincomp.sim.routing_petals import PetalsRouting, backoff_delay
from chaincomp.sim.service import chain_coefficients


def _two_servers(tau_c=(2.0, 3.0), memory=(2.1, 2.1)):
    # L = 2, s_m = 1, s_c = 0.05: each server hosts both blocks and has ⌊0.1/0.05⌋ = 2 slots = 1 job
    return Problem(("A", "B"), np.array(memory), np.array(tau_c), np.zeros(2), 2, 1.0, 0.05, 1.0)


def _run(problem, placement, policy, arrivals):
    sim = Simulator(problem, placement_slots(problem, placement),
                    lambda ch: chain_coefficients(problem, ch, "deterministic"), placement)
    jobs = [Job(i, t, 0.0, 1.0) for i, t in enumerate(arrivals)]
    rec = sim.run(policy, jobs)
    return rec


def test_backoff_delays():
    assert [backoff_delay(a) for a in (1, 2, 3, 6, 7, 8)] == [1, 2, 4, 32, 60, 60]


def test_petals_routing_backoff_by_hand():
    p = _two_servers(tau_c=(2.5, 2.5))
    pl = Placement(np.array([1, 1]), np.array([2, 2]))
    # budget: 2 slots per server (one 2-block session); A is closer (RTT 10 ms vs 20 ms)
    pol = PetalsRouting(cache_slots=[2, 2], rtt_s=[0.01, 0.02], inference_rps=[100.0, 100.0])
    rec = _run(p, pl, pol, [0.0, 0.0, 0.0])
    # job 0 → A, job 1 → B (A penalised), job 2: both full → retry at 1 s, then at 1 + 2 = 3 s → starts
    assert rec.dispatch_s.tolist() == pytest.approx([0.0, 0.0, 3.0])
    assert rec.attempts.tolist() == [1, 1, 3]
    assert pol.decisions["retries"] == 2


def test_petals_prefers_split_path_when_cheaper():
    # L = 2: A hosts 1-2, B hosts 1, C hosts 2; A has no budget → penalty → B→C taken
    p = Problem(("A", "B", "C"), np.array([3.0, 3.0, 3.0]), np.ones(3), np.zeros(3), 2, 1.0, 0.05, 1.0)
    pl = Placement(np.array([1, 1, 2]), np.array([2, 1, 1]))
    pol = PetalsRouting(cache_slots=[0, 5, 5], rtt_s=[0.0, 0.5, 0.5], inference_rps=[100.0] * 3)
    sim = Simulator(p, placement_slots(p, pl), lambda ch: chain_coefficients(p, ch, "deterministic"), pl)
    pol.reset(sim)
    sim._free = placement_slots(p, pl).copy()
    sim._busy = np.zeros(3, dtype=np.int64)
    chain, ok = pol.best_path(sim)
    assert chain.servers == (1, 2) and ok
    # with budget on A, A alone is cheaper (0 + 18 ms + 2/100 vs 2 × (0.25 + 18 ms) + 2/100)
    pol2 = PetalsRouting(cache_slots=[5, 5, 5], rtt_s=[0.0, 0.5, 0.5], inference_rps=[100.0] * 3)
    pol2.reset(sim)
    chain, ok = pol2.best_path(sim)
    assert chain.servers == (0,) and ok


def test_wsrr_by_hand():
    p = _two_servers(tau_c=(2.0, 3.0))
    pl = Placement(np.array([1, 1]), np.array([2, 2]))
    rec = _run(p, pl, WsrrRouting(), [0.0, 0.0, 0.0])
    # job 0 → A (2 s), job 1 → B (A busy: wait 2 + 2 = 4 > 3 on B), job 2 → A after 2 s (2 + 2 < 3 + 3)
    assert rec.dispatch_s.tolist() == pytest.approx([0.0, 0.0, 2.0])
    assert rec.completion_s.tolist() == pytest.approx([2.0, 3.0, 4.0])


def test_wsrr_counts_committed_requests():
    # four jobs at t = 0: A, B, then job 2 commits to A (ready at 2); job 3 must see A promised until 4
    p = _two_servers(tau_c=(2.0, 3.0))
    pl = Placement(np.array([1, 1]), np.array([2, 2]))
    rec = _run(p, pl, WsrrRouting(), [0.0, 0.0, 0.0, 0.0])
    # job 3: via A wait 4 + 2 = 6, via B wait 3 + 3 = 6 → tie: A (smaller server index ends first in order)
    assert rec.dispatch_s[:3].tolist() == pytest.approx([0.0, 0.0, 2.0])
    assert rec.dispatch_s[3] in (pytest.approx(3.0), pytest.approx(4.0))
