"""Service-time models (SPEC §5).

Every model is written as ``S = size × (A_k + B_k·l_in + C_k·(l_out − 1)₊ + D_k·l_out)`` for a job
of size ``size`` and lengths (l_in, l_out) on chain k, so the engine and the numba kernel share one
formula:

- ``exp`` (the analysis' model, Theorem 4): size ~ Exp(1), (A, B, C, D) = (T_k, 0, 0, 0);
- ``deterministic``: size = 1, (T_k, 0, 0, 0);
- ``length``: size = 1 and τ recomputed from the request's own tokens with the SPEC §1.1 formulas
  (``problem.timing``): per hop (i, j) with m_ij blocks,
  τ^c_j(l_out) + m_ij·τ^p_j(l_in, l_out) = l_out·(RTT_j + o) + m_ij·(t_o + t^I_j·l_in + t^O_j·(l_out − 1)₊),
  so A = Σ m t_o, B = Σ m t^I_j, C = Σ m t^O_j, D = Σ (RTT_j + o).
  Needs the per-server constants; instances whose τ were given explicitly have none
  (:class:`~chaincomp.errors.UsageError` says so).
"""

from __future__ import annotations

import numpy as np

from chaincomp.core.allocation import Chain
from chaincomp.errors import UsageError
from chaincomp.problem import Problem

SERVICE_MODELS = ("exp", "deterministic", "length")


def check_service(name: str) -> str:
    key = name.strip().lower()
    key = {"exponential": "exp", "det": "deterministic", "lengths": "length"}.get(key, key)
    if key not in SERVICE_MODELS:
        raise UsageError(f"unknown service model {name!r}; choose from {', '.join(SERVICE_MODELS)}")
    return key


def check_length_model(problem: Problem, servers=None) -> None:
    """Raise :class:`UsageError` unless τ can be recomputed per request on ``servers`` (default: all)."""
    t = problem.timing
    if t is None:
        raise UsageError(
            f"length-driven service needs per-server timing constants (RTT, prefill and decode time per token), "
            f"but instance {problem.name!r} gives τ^c/τ^p directly; use --service exp or deterministic, or an "
            f"instance derived from GPU and model specs"
        )
    idx = np.arange(problem.num_servers) if servers is None else np.asarray(list(servers), dtype=int)
    bad = [problem.server_ids[j] for j in idx if not (
        np.isfinite(t.rtt_s[j]) and np.isfinite(t.prefill_s_per_token[j]) and np.isfinite(t.decode_s_per_token[j]))]
    if bad:
        raise UsageError(
            f"length-driven service: servers {', '.join(bad[:5])}{' …' if len(bad) > 5 else ''} of instance "
            f"{problem.name!r} have τ given explicitly (no RTT / per-token times to recompute it)"
        )


def chain_coefficients(problem: Problem, chain: Chain, model: str) -> tuple[float, float, float, float]:
    """(A, B, C, D) of ``chain`` under service ``model`` (see module doc)."""
    if model in ("exp", "deterministic"):
        return (float(chain.service_time_s), 0.0, 0.0, 0.0)
    if model != "length":
        raise UsageError(f"unknown service model {model!r}")
    check_length_model(problem, chain.servers)
    t = problem.timing
    A = B = C = D = 0.0
    for j, m in zip(chain.servers, chain.blocks):
        A += m * t.block_overhead_s
        B += m * float(t.prefill_s_per_token[j])
        C += m * float(t.decode_s_per_token[j])
        D += float(t.rtt_s[j]) + t.comm_overhead_s
    return (A, B, C, D)


def coefficient_arrays(problem: Problem, chains, model: str) -> np.ndarray:
    """K×4 array of (A, B, C, D) for the chains (kernel input)."""
    out = np.zeros((len(chains), 4), dtype=float)
    for k, ch in enumerate(chains):
        out[k] = chain_coefficients(problem, ch, model)
    return out


def job_sizes(model: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Exp(1) sizes for ``exp``, ones otherwise. The draw happens for every model so streams stay aligned."""
    sizes = rng.exponential(1.0, n)
    return sizes if model == "exp" else np.ones(n)
