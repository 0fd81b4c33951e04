"""Least-squares fits of the SPEC §1.1 timing model to measured request timings.

Compute (per GPU type g, parameters t_o, t^I, t^O in seconds):
    compute_s = blocks · (t_o + t^I · input_tokens + t^O · (output_tokens − 1))
i.e. τ^p per block of one job = t_o + t^I l_in + t^O (l_out − 1). Linear in the parameters with
regressors (blocks, blocks·l_in, blocks·(l_out−1)) and no intercept; ordinary least squares.

Communication (per server j, parameter θ_j = RTT_j + o in seconds):
    comm_s = output_tokens · θ_j          (τ^c = l̄_out · (RTT + o), the relay model)
OLS through the origin, θ̂ = Σ l_out·y / Σ l_out². RTT and o are not separable from one server's
rows; θ̂ is what τ^c needs.

Weighting: timing noise grows with the duration (a 5 % jitter on a 2 s job is 100 ms, on a 50 ms
job 2.5 ms), so the default ``weighting="relative"`` is weighted least squares with weights
1/ŷ², ŷ from an ordinary first pass (two-step feasible GLS for multiplicative noise);
``weighting="none"`` is plain OLS.

Fit quality: R² = 1 − SSE/SST with SST about the mean of y (so it compares with predicting the mean;
it can be negative for these intercept-free models), RMSE = √(SSE/n), residual quantiles
(5, 25, 50, 75, 95 %), and parameter standard errors from σ̂² (XᵀWX)⁻¹ with σ̂² = Σ w r² / (n − p) (W = I for OLS);
R², RMSE and the quantiles are of the unweighted residuals, in seconds.
A fit needs n ≥ p + 1 rows (so σ̂ exists) and a full-rank design: the rows of one GPU type must
vary in input_tokens and in output_tokens (and not be proportional to each other), else t_o, t^I,
t^O cannot be told apart — refused naming the GPU type and the column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chaincomp.errors import InvalidInstance

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class Fit:
    """One least-squares fit: parameter names, estimates, standard errors and quality."""

    names: tuple[str, ...]
    estimate: tuple[float, ...]
    std_error: tuple[float, ...]
    n: int
    r2: float
    rmse_s: float
    residual_quantiles_s: dict[str, float]

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "parameters": {k: {"estimate": v, "std_error": s} for k, v, s in zip(self.names, self.estimate, self.std_error)},
            "r2": self.r2, "rmse_s": self.rmse_s, "residual_quantiles_s": self.residual_quantiles_s,
        }


def least_squares(X: np.ndarray, y: np.ndarray, names: tuple[str, ...], what: str, weighting: str = "relative") -> Fit:
    """(Weighted) least squares y ≈ X β with quality figures (module docstring).

    Raises :class:`InvalidInstance` for too few rows or a rank-deficient design.
    """
    if weighting not in ("relative", "none"):
        raise InvalidInstance(f"weighting must be 'relative' or 'none', got {weighting!r}")
    n, p = X.shape
    if n < p + 1:
        raise InvalidInstance(f"{what}: {n} row(s); fitting {', '.join(names)} needs at least {p + 1}")
    rank = np.linalg.matrix_rank(X / np.maximum(np.abs(X).max(axis=0), 1e-300))
    if rank < p:
        raise InvalidInstance(f"{what}: the rows do not determine {', '.join(names)} (design rank {rank} < {p})")
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    w = np.ones(n)
    if weighting == "relative":
        yhat = X @ beta
        floor = max(float(np.median(np.abs(yhat))) * 1e-3, 1e-12)
        w = 1.0 / np.maximum(np.abs(yhat), floor) ** 2
        sw = np.sqrt(w)
        beta, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
    resid = y - X @ beta
    sse = float(resid @ resid)
    sst = float(((y - y.mean()) ** 2).sum())
    sigma2 = float((w * resid * resid).sum()) / (n - p)
    try:
        cov = sigma2 * np.linalg.inv(X.T @ (X * w[:, None]))
    except np.linalg.LinAlgError:
        raise InvalidInstance(f"{what}: the weighted rows do not determine {', '.join(names)} (singular normal "
                              "equations: timings spanning too many orders of magnitude?)") from None
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    r2 = 1.0 - sse / sst if sst > 0 else (1.0 if sse == 0 else float("nan"))
    q = {f"p{int(round(100 * a))}": float(np.quantile(resid, a)) for a in QUANTILES}
    return Fit(names, tuple(float(b) for b in beta), tuple(float(s) for s in se), n, float(r2),
               float(np.sqrt(sse / n)), q)


def fit_compute(blocks, l_in, l_out, compute_s, gpu: str, weighting: str = "relative") -> Fit:
    """t_o, t^I, t^O of one GPU type (module docstring); names the column that does not vary."""
    what = f"GPU type {gpu!r}"
    n = len(blocks)
    if n >= 4:
        for col, v in (("input_tokens", l_in), ("output_tokens", l_out)):
            if np.ptp(v) == 0:
                raise InvalidInstance(
                    f"{what}: column {col} does not vary (all {v[0]:g}) over its {n} rows, so t_o, t^I and t^O cannot be "
                    f"separated; measure requests of different {col.replace('_', ' ')} on this GPU type")
    X = np.column_stack([blocks, blocks * l_in, blocks * (l_out - 1.0)])
    return least_squares(X, compute_s, ("t_o_s", "t_in_s_per_token", "t_out_s_per_token"), what, weighting)


def fit_comm(l_out, comm_s, server: str, weighting: str = "relative") -> Fit:
    """θ = RTT + o of one server (module docstring)."""
    return least_squares(np.asarray(l_out, dtype=float)[:, None], comm_s, ("rtt_plus_overhead_s",), f"server {server!r}", weighting)
