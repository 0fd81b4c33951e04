"""The incremental completion-hull kernel (formulations/completion_hulls.py) against the reference
kernel that hulls all translated points at once (tests/formulations/hull_oracle.py): the same
region conv(Q(e)) + R²₊ for every block e — compared vertex by vertex, and by the support function
min_q (p + θ t) in many directions — on random hop graphs (ties, infinite prices, the width cap)
and on the pricing of a real BLOOM-like instance at random duals."""

from __future__ import annotations

import numpy as np
import pytest

from chaincomp.formulations.completion_hulls import completion_hulls
from chaincomp.formulations.pricing import _to_sink
from tests.formulations.hull_oracle import completion_hulls_reference


def _same_region(a, b):
    qt1, qp1, qn1 = a
    qt2, qp2, qn2 = b
    assert np.array_equal(qn1, qn2)
    for e in range(qn1.size):
        n = int(qn1[e])
        if n == 0:
            continue
        np.testing.assert_allclose(qt1[e, :n], qt2[e, :n], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(qp1[e, :n], qp2[e, :n], rtol=1e-12, atol=1e-12)
        for theta in (0.0, 1e-3, 0.1, 1.0, 10.0, 1e3):
            s1 = np.min(qp1[e, :n] + theta * qt1[e, :n])
            s2 = np.min(qp2[e, :n] + theta * qt2[e, :n])
            assert s1 == pytest.approx(s2, rel=1e-12, abs=1e-12)


def _random_graph(rng, J, L, ties):
    bmax = rng.integers(1, L + 1, J).astype(np.int64)
    price = np.full((J, L + 1, L + 1), np.inf)
    for j in range(J):
        for e in range(L):
            for b in range(1, min(bmax[j], L - e) + 1):
                if rng.random() < 0.8:
                    v = rng.integers(0, 4) * 0.5 if ties else rng.random() * 3
                    price[j, e, e + b] = b * v
    tau_c = (rng.integers(1, 4, J) * 0.5 if ties else rng.random(J) + 0.1).astype(float)
    tau_p = (rng.integers(1, 3, J) * 0.25 if ties else rng.random(J) * 0.5 + 0.01).astype(float)
    return price, tau_c, tau_p, bmax


@pytest.mark.parametrize("ties", [False, True])
def test_same_hulls_as_the_reference_on_random_hop_graphs(ties):
    rng = np.random.default_rng(11 + ties)
    for _ in range(150):
        J, L = int(rng.integers(1, 9)), int(rng.integers(1, 13))
        price, tau_c, tau_p, bmax = _random_graph(rng, J, L, ties)
        tmin, pmin = _to_sink(price, tau_c, tau_p, bmax, J, L)
        width = int(rng.choice([2, 4, 256]))  # small widths exercise the corner replacement
        args = (price, tau_c, tau_p, bmax, tmin, pmin, J, L, width)
        _same_region(completion_hulls(*args), completion_hulls_reference(*args))


def test_same_hulls_as_the_reference_on_a_bloom_instance_at_random_duals():
    from benchmarks.milp_instances import bloom_like
    from chaincomp.formulations.common import segments
    from chaincomp.formulations.pricing import Pricer, _hop_prices

    p = bloom_like(12, 24, 0)
    segs = segments(p)
    pricer = Pricer(p, segs)
    rng = np.random.default_rng(5)
    for scale in (0.0, 0.01, 0.1, 1.0):
        pi = rng.random(segs.count) * scale
        price, _ = _hop_prices(pi, pricer.seg_index, pricer.lmax, pricer.bmax, pricer.J, pricer.L)
        tmin, pmin = _to_sink(price, pricer.tau_c, pricer.tau_p, pricer.bmax, pricer.J, pricer.L)
        args = (price, pricer.tau_c, pricer.tau_p, pricer.bmax, tmin, pmin, pricer.J, pricer.L, 256)
        _same_region(completion_hulls(*args), completion_hulls_reference(*args))
