"""Theorem 4 — bounds on JFFC's mean number in system and mean response time (SPEC §3.4).

Poisson(λ) arrivals; chain l has c_l job servers of rate μ_l (sorted μ₁ ≥ … ≥ μ_K);
ν = Σ c_l μ_l, C = Σ c_l, ρ = λ/ν < 1. The number in system is bounded by birth–death chains
with death rates

    ν̄_n = Σ_l μ_l · min(c_l, (n − Σ_{l'<l} c_{l'})₊)   (jobs on the fastest chains)
    ν̲_n = Σ_l μ_l · min(c_l, (n − Σ_{l'>l} c_{l'})₊)   (jobs on the slowest chains)

both equal to ν for n ≥ C. With φ_n ∝ Π_{i≤n} λ/ν_i (n ≤ C) and the geometric tail
φ_n = φ_C ρ^{n−C},

    E[ΣZ] = Σ_{n<C} n φ_n + φ_C (ρ/(1−ρ)² + C/(1−ρ)),

lower bound from ν̄, upper bound from ν̲; mean response time = E[ΣZ]/λ (Little's law).
Everything is computed in log space so C in the tens of thousands is stable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ResponseTimeBounds:
    """Theorem-4 bounds (seconds for response times; jobs for number in system)."""

    lower_s: float
    upper_s: float
    jobs_lower: float
    jobs_upper: float
    load: float  # ρ = λ/ν

    @property
    def stable(self) -> bool:
        return self.load < 1.0


def death_rates(rates: np.ndarray, capacities: np.ndarray, fastest_first: bool) -> np.ndarray:
    """ν̄_n (``fastest_first=True``) or ν̲_n for n = 1..C, as an array of length C.

    The n-th job in service occupies the next free job server in the chosen order, so ν_n is the
    cumulative rate of the first n job servers when all C are listed fastest (or slowest) first.
    """
    order = np.argsort(-rates, kind="stable") if fastest_first else np.argsort(rates, kind="stable")
    per_server = np.repeat(rates[order], capacities[order])
    return np.cumsum(per_server)


def _mean_in_system(arrival_rate: float, nu_n: np.ndarray) -> float:
    """E[ΣZ] of the birth–death chain with birth rate λ and death rates ν_n (n ≤ C), ν_C beyond."""
    C = nu_n.size
    nu = nu_n[-1]
    rho = arrival_rate / nu
    # log w_n = n log λ − Σ_{i≤n} log ν_i, n = 0..C
    log_w = np.empty(C + 1)
    log_w[0] = 0.0
    log_w[1:] = np.arange(1, C + 1) * np.log(arrival_rate) - np.cumsum(np.log(nu_n))
    tail_mass = 1.0 / (1.0 - rho)  # Σ_{m≥0} ρ^m
    tail_mean = rho / (1.0 - rho) ** 2 + C / (1.0 - rho)  # Σ_{m≥0} (C+m) ρ^m
    shift = log_w.max()
    w = np.exp(log_w - shift)
    n = np.arange(C)
    numerator = float(np.dot(n, w[:C])) + w[C] * tail_mean
    denominator = float(w[:C].sum()) + w[C] * tail_mass
    return numerator / denominator


def jffc_bounds(arrival_rate: float, rates, capacities) -> ResponseTimeBounds:
    """Theorem-4 lower and upper bounds on JFFC's mean response time.

    Parameters
    ----------
    arrival_rate : λ > 0.
    rates : μ_l per chain (any order).
    capacities : c_l per chain (non-negative integers).

    Returns ``inf`` bounds when λ ≥ ν (unstable) or there is no capacity.
    """
    rates = np.asarray(rates, dtype=float)
    capacities = np.asarray(capacities, dtype=np.int64)
    keep = capacities > 0
    rates, capacities = rates[keep], capacities[keep]
    nu = float(np.dot(rates, capacities)) if rates.size else 0.0
    if nu <= 0.0 or arrival_rate >= nu:
        return ResponseTimeBounds(np.inf, np.inf, np.inf, np.inf, arrival_rate / nu if nu > 0 else np.inf)
    jobs_lo = _mean_in_system(arrival_rate, death_rates(rates, capacities, fastest_first=True))
    jobs_hi = _mean_in_system(arrival_rate, death_rates(rates, capacities, fastest_first=False))
    return ResponseTimeBounds(
        float(jobs_lo / arrival_rate), float(jobs_hi / arrival_rate), float(jobs_lo), float(jobs_hi), arrival_rate / nu
    )
