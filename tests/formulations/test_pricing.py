"""Pricing kernels of the column generation (chaincomp.formulations.pricing) against a plain oracle.

The oracle enumerates every simple chain as a segment sequence straight from the chain rule
(SPEC §1: server j may follow i iff a_j ≤ e_i + 1 ≤ e_j; a hop of b blocks needs b ≤ S_σ slots),
independently of the hop graph the kernels use.
"""

from __future__ import annotations

import numpy as np
import pytest

from chaincomp.formulations.common import segments
from chaincomp.formulations.pricing import Pricer
from tests.formulations.tiny import random_instance


def _all_simple_chains(problem, segs):
    L = problem.num_blocks
    out = []

    def rec(path, e, used):
        if e == L:
            out.append(tuple(path))
            return
        for s in range(segs.count):
            j, a, last, S = int(segs.server[s]), int(segs.first[s]), int(segs.last[s]), int(segs.slots[s])
            if j in used or not (a <= e + 1 <= last) or last - e > S:
                continue
            rec(path + [s], last, used | {j})

    rec([], 0, frozenset())
    return out


def _rc(problem, segs, path, pi, w, const=1.0):
    prev, T, P = 0, 0.0, 0.0
    for s in path:
        j = int(segs.server[s])
        b = int(segs.last[s]) - prev
        prev = int(segs.last[s])
        T += problem.tau_comm_s[j] + problem.tau_comp_s[j] * b
        P += pi[s] * b
    return const + P - w / T


@pytest.mark.parametrize("seed", range(12))
def test_elementary_pricing_and_enumeration_match_the_oracle(seed):
    rng = np.random.default_rng(seed)
    J, L = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    p = random_instance(300 + seed, J, L)
    segs = segments(p)
    if segs.count == 0:
        pytest.skip("no admissible segment on this random instance")
    chains = _all_simple_chains(p, segs)
    pi = rng.random(segs.count) * (rng.random(segs.count) < 0.6) * 0.4
    w = float(rng.uniform(0.5, 15.0))
    pr = Pricer(p, segs)
    found, complete = pr.elementary(pi, w, count=3, threshold=1e9)
    assert complete
    if not chains:
        assert found == []
        return
    rcs = sorted(_rc(p, segs, c, pi, w) for c in chains)
    assert found, "the exact pricing missed every chain"
    best = found[0]
    assert _rc(p, segs, best[0], pi, w) == pytest.approx(rcs[0], abs=1e-9)
    # the relaxed bound is a lower bound on the elementary minimum
    assert pr.relaxed_min(w) <= rcs[0] + 1e-9
    # enumeration: exactly the chains with rc ≤ δ (every segment realisation)
    delta = float(np.quantile(rcs, 0.4)) + 1e-7
    got = pr.enumerate(pi, w, delta, limit=10**6)
    want = {c for c in chains if _rc(p, segs, c, pi, w) <= delta}
    assert got is not None and set(got) == want
    # over the limit → None
    if len(want) > 1:
        assert pr.enumerate(pi, w, delta, limit=len(want) - 1) is None


def test_throughput_pricing_form():
    """const = 0, w = 1: minimising P − 1/T is maximising 1/T − P."""
    p = random_instance(7, 4, 4)
    segs = segments(p)
    chains = _all_simple_chains(p, segs)
    assert chains
    pi = np.full(segs.count, 0.01)
    found, complete = Pricer(p, segs).elementary(pi, 1.0, const=0.0, count=1, threshold=1e9)
    assert complete
    best = min(_rc(p, segs, c, pi, 1.0, const=0.0) for c in chains)
    assert _rc(p, segs, found[0][0], pi, 1.0, const=0.0) == pytest.approx(best, abs=1e-12)


def test_forbidden_segments_are_never_priced():
    p = random_instance(11, 4, 4)
    segs = segments(p)
    pi = np.zeros(segs.count)
    forbidden = segs.server == 0
    pi[forbidden] = np.inf
    found, complete = Pricer(p, segs).elementary(pi, 5.0, count=50, threshold=1e9)
    assert complete
    for path, _, _ in found:
        assert not forbidden[list(path)].any()
