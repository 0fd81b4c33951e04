"""Theorem-4 bounds (SPEC §3.4) against closed forms and an exact-arithmetic evaluation."""

from fractions import Fraction
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaincomp.analysis.bounds import death_rates, jffc_bounds


def erlang_c_response(lam, mu, c):
    """M/M/c mean response time (Erlang C), the textbook closed form."""
    a = lam / mu
    rho = a / c
    s = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1 - rho)
    pw = top / (s + top)
    return 1 / mu + pw / (c * mu - lam)


@pytest.mark.parametrize("lam,mu,c", [(0.5, 1.0, 1), (1.5, 1.0, 2), (3.0, 0.5, 7), (9.0, 1.0, 10)])
def test_single_chain_is_erlang_c(lam, mu, c):
    b = jffc_bounds(lam, [mu], [c])
    assert b.lower_s == pytest.approx(erlang_c_response(lam, mu, c), rel=1e-10)
    assert b.upper_s == pytest.approx(b.lower_s, rel=1e-12)


def test_equal_rates_collapse_to_mmc():
    b = jffc_bounds(2.0, [0.5, 0.5, 0.5], [3, 2, 2])
    assert b.lower_s == pytest.approx(erlang_c_response(2.0, 0.5, 7), rel=1e-10)
    assert b.upper_s == pytest.approx(b.lower_s, rel=1e-10)


def test_death_rates_definition():
    rates = np.array([1.0, 3.0, 2.0])
    caps = np.array([1, 2, 1])
    # fastest first: 3, 3, 2, 1 → cumulative 3, 6, 8, 9
    assert list(death_rates(rates, caps, True)) == [3, 6, 8, 9]
    # slowest first: 1, 2, 3, 3 → 1, 3, 6, 9
    assert list(death_rates(rates, caps, False)) == [1, 3, 6, 9]


def exact_mean_in_system(lam, nu_n):
    """E[ΣZ] in exact rational arithmetic, straight from the φ formulas (no logs)."""
    lam = Fraction(lam)
    nus = [Fraction(x) for x in nu_n]
    C = len(nus)
    nu = nus[-1]
    rho = lam / nu
    w = [Fraction(1)]
    for i in range(C):
        w.append(w[-1] * lam / nus[i])
    norm = sum(w[:C]) + w[C] / (1 - rho)
    mean = sum(n * w[n] for n in range(C)) + w[C] * (rho / (1 - rho) ** 2 + C / (1 - rho))
    return mean / norm


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.05, 2.0), st.integers(1, 6)), min_size=1, max_size=5),
    st.floats(0.05, 0.95),
)
def test_matches_exact_arithmetic_and_orders(chains, load):
    rates = np.array([r for r, _ in chains])
    caps = np.array([c for _, c in chains])
    nu = float(rates @ caps)
    lam = load * nu
    b = jffc_bounds(lam, rates, caps)
    lo = float(exact_mean_in_system(lam, death_rates(rates, caps, True)))
    hi = float(exact_mean_in_system(lam, death_rates(rates, caps, False)))
    assert b.jobs_lower == pytest.approx(lo, rel=1e-9)
    assert b.jobs_upper == pytest.approx(hi, rel=1e-9)
    assert b.lower_s <= b.upper_s * (1 + 1e-12)
    # every job needs at least the fastest chain's mean service time
    assert b.lower_s >= 1 / rates.max() * (1 - 1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0.05, 2.0), st.integers(0, 4)), min_size=1, max_size=4), st.floats(0.01, 3.0))
def test_finite_iff_stable(chains, lam):
    rates = np.array([r for r, _ in chains])
    caps = np.array([c for _, c in chains])
    nu = float(rates @ caps)
    b = jffc_bounds(lam, rates, caps)
    assert math.isfinite(b.lower_s) == math.isfinite(b.upper_s) == (lam < nu)


def test_large_capacity_is_stable():
    rng = np.random.default_rng(1)
    rates = rng.uniform(0.05, 0.5, 400)
    caps = rng.integers(20, 120, 400)  # C ≈ 28 000
    nu = float(rates @ caps)
    for load in (0.1, 0.7, 0.99):
        b = jffc_bounds(load * nu, rates, caps)
        assert math.isfinite(b.lower_s) and math.isfinite(b.upper_s)
        assert 1 / rates.max() <= b.lower_s <= b.upper_s
