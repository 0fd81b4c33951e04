"""Confidence intervals of a mean — the ONE helper the whole toolkit uses (simulator, experiments,
batch reports, plots).

For n i.i.d. observations x₁..xₙ with sample mean x̄ and sample standard deviation s (ddof = 1), the
two-sided level-(1−α) interval of the mean is x̄ ± t_{1−α/2, n−1} · s/√n with t the Student-t
quantile (``scipy.stats.t.ppf``). Not the normal 1.96: for n = 10 that is 13 % too narrow, for
n = 2 it is 6.5× too narrow (t_{0.975,1} = 12.706). Fewer than two observations → no interval (None).
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
from scipy import stats

#: the level every CI in chaincomp's outputs uses (JSON keys ``…ci95…``)
LEVEL = 0.95


def t_quantile(df: int, level: float = LEVEL) -> float:
    """t_{(1+level)/2, df}: the two-sided Student-t critical value (∞ for df < 1)."""
    if df < 1:
        return math.inf
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(stats.t.ppf(0.5 + level / 2, df))


def _finite(values: Iterable[float] | np.ndarray) -> np.ndarray:
    x = np.asarray([float(v) for v in values if v is not None], dtype=float)
    return x[np.isfinite(x)]


def ci_half_width(values: Iterable[float] | np.ndarray, level: float = LEVEL) -> float | None:
    """Half-width t_{(1+level)/2, n−1}·s/√n of the CI of the mean of ``values`` (None and non-finite
    values are dropped; None when fewer than two remain)."""
    x = _finite(values)
    n = x.size
    if n < 2:
        return None
    return float(t_quantile(n - 1, level) * x.std(ddof=1) / math.sqrt(n))


def mean_ci(values: Iterable[float] | np.ndarray, level: float = LEVEL) -> tuple[float | None, float | None]:
    """(mean, half-width) of ``values``; (None, None) when empty, (mean, None) for one value."""
    x = _finite(values)
    if x.size == 0:
        return None, None
    return float(x.mean()), ci_half_width(x, level)
