"""The one internal representation of an instance (SPEC §1).

Everything below the instance loaders takes a :class:`Problem` and nothing else. Blocks are
numbered 1..L everywhere (the paper's convention); a server hosting nothing has ``num_blocks = 0``.
Times are seconds, memory GB (10⁹ bytes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

#: Tolerance used whenever a memory ratio is floored: (2 − 1)/0.1 is 9.999… in floating point.
FLOOR_TOL = 1e-9


def safe_floor(x: np.ndarray | float) -> np.ndarray | int:
    """⌊x⌋ robust to floating-point noise just below an integer (e.g. (2 − 1)/0.1 = 9.999…)."""
    if np.isscalar(x):
        return int(math.floor(float(x) + FLOOR_TOL))
    return np.floor(np.asarray(x, dtype=float) + FLOOR_TOL).astype(np.int64)


@dataclass(frozen=True)
class TimingModel:
    """Per-server constants behind τ (SPEC §1.1), kept so a simulator can recompute τ per request.

    τ^p_j = block_overhead_s + prefill_s_per_token[j]·l_in + decode_s_per_token[j]·(l_out − 1)
    τ^c_j = l_out · (rtt_s[j] + comm_overhead_s)
    Arrays hold NaN for servers whose τ was given explicitly (no derivation possible).
    """

    rtt_s: np.ndarray
    prefill_s_per_token: np.ndarray
    decode_s_per_token: np.ndarray
    block_overhead_s: float = 1e-3
    comm_overhead_s: float = 0.018

    def tau_comp(self, input_tokens: float, output_tokens: float) -> np.ndarray:
        """τ^p_j per block for a job with the given lengths (SPEC §1.1)."""
        return (
            self.block_overhead_s
            + self.prefill_s_per_token * input_tokens
            + self.decode_s_per_token * max(output_tokens - 1.0, 0.0)
        )

    def tau_comm(self, output_tokens: float) -> np.ndarray:
        """τ^c_j for a job with the given output length: each output token pays one round trip."""
        return output_tokens * (self.rtt_s + self.comm_overhead_s)


@dataclass(frozen=True)
class Problem:
    """A BPCA instance (SPEC §1, Eq. 5).

    Attributes
    ----------
    server_ids : J server names.
    memory_gb : M_j, GPU memory per server (GB).
    tau_comm_s : τ^c_j, mean per-job communication time (s).
    tau_comp_s : τ^p_j, mean per-job computation time per block (s).
    num_blocks : L.
    block_size_gb : s_m, memory of one block's weights (GB).
    cache_size_gb : s_c, KV-cache memory per block per concurrent job (GB).
    arrival_rate : λ (requests/s).
    target_load : ρ̄ — the design requires ν ≥ λ/ρ̄.
    mean_input_tokens, mean_output_tokens : l̄_in, l̄_out behind τ (informational; used by
        length-driven simulation).
    timing : optional :class:`TimingModel` to recompute τ per request.
    name, meta : provenance only.
    """

    server_ids: tuple[str, ...]
    memory_gb: np.ndarray
    tau_comm_s: np.ndarray
    tau_comp_s: np.ndarray
    num_blocks: int
    block_size_gb: float
    cache_size_gb: float
    arrival_rate: float
    target_load: float = 0.7
    mean_input_tokens: float | None = None
    mean_output_tokens: float | None = None
    timing: TimingModel | None = None
    name: str = "instance"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for attr in ("memory_gb", "tau_comm_s", "tau_comp_s"):
            arr = np.asarray(getattr(self, attr), dtype=float)
            arr.setflags(write=False)
            object.__setattr__(self, attr, arr)
        object.__setattr__(self, "server_ids", tuple(str(s) for s in self.server_ids))
        J = len(self.server_ids)
        if not (self.memory_gb.shape == self.tau_comm_s.shape == self.tau_comp_s.shape == (J,)):
            raise ValueError("memory_gb, tau_comm_s, tau_comp_s must each have one entry per server")

    # -- sizes -------------------------------------------------------------------------------
    @property
    def num_servers(self) -> int:
        """J."""
        return len(self.server_ids)

    @property
    def required_rate(self) -> float:
        """λ/ρ̄: the total service rate ν the design must reach."""
        return self.arrival_rate / self.target_load

    @property
    def max_cache_reservation(self) -> int:
        """c_max = ⌊(max_j M_j − s_m)/s_c⌋ (SPEC §3.5)."""
        return max(0, safe_floor((float(self.memory_gb.max()) - self.block_size_gb) / self.cache_size_gb))

    def blocks_at_reservation(self, c: int) -> np.ndarray:
        """m_j(c) = min(⌊M_j/(s_m + s_c c)⌋, L) (Eq. 6)."""
        m = safe_floor(self.memory_gb / (self.block_size_gb + self.cache_size_gb * c))
        return np.minimum(m, self.num_blocks)

    def residual_slots(self, num_blocks: np.ndarray) -> np.ndarray:
        """M̃_j = ⌊(M_j − s_m m_j)/s_c⌋ job-block cache slots left after hosting m_j blocks (Eq. 3)."""
        free = self.memory_gb - self.block_size_gb * np.asarray(num_blocks, dtype=float)
        return safe_floor(free / self.cache_size_gb)

    def with_workload(self, arrival_rate: float | None = None, target_load: float | None = None) -> "Problem":
        """A copy with another λ and/or ρ̄."""
        return replace(
            self,
            arrival_rate=self.arrival_rate if arrival_rate is None else float(arrival_rate),
            target_load=self.target_load if target_load is None else float(target_load),
        )

    def with_time_scale(self, factor: float) -> "Problem":
        """A copy with every service-time constant (τ^c, τ^p and the timing model behind them)
        multiplied by ``factor`` — for sensitivity studies, e.g. when measured times exceed the
        SPEC §1.1 model's."""
        if not factor > 0:
            raise ValueError(f"time scale must be > 0, got {factor}")
        timing = self.timing
        if timing is not None:
            timing = replace(
                timing,
                rtt_s=timing.rtt_s * factor,
                prefill_s_per_token=timing.prefill_s_per_token * factor,
                decode_s_per_token=timing.decode_s_per_token * factor,
                block_overhead_s=timing.block_overhead_s * factor,
                comm_overhead_s=timing.comm_overhead_s * factor,
            )
        return replace(
            self,
            tau_comm_s=self.tau_comm_s * factor,
            tau_comp_s=self.tau_comp_s * factor,
            timing=timing,
            meta={**self.meta, "time_scale": factor * self.meta.get("time_scale", 1.0)},
        )

    def subset(self, servers: np.ndarray | list[int]) -> "Problem":
        """A copy restricted to the given server indices (in that order)."""
        idx = np.asarray(servers, dtype=int)
        timing = self.timing
        if timing is not None:
            timing = replace(
                timing,
                rtt_s=timing.rtt_s[idx],
                prefill_s_per_token=timing.prefill_s_per_token[idx],
                decode_s_per_token=timing.decode_s_per_token[idx],
            )
        return replace(
            self,
            server_ids=tuple(self.server_ids[i] for i in idx),
            memory_gb=self.memory_gb[idx],
            tau_comm_s=self.tau_comm_s[idx],
            tau_comp_s=self.tau_comp_s[idx],
            timing=timing,
        )

    def to_dict(self) -> dict[str, Any]:
        """The instance as plain JSON data (units in the field names)."""
        return {
            "name": self.name,
            "num_blocks": self.num_blocks,
            "block_size_gb": self.block_size_gb,
            "cache_size_gb": self.cache_size_gb,
            "arrival_rate": self.arrival_rate,
            "target_load": self.target_load,
            "mean_input_tokens": self.mean_input_tokens,
            "mean_output_tokens": self.mean_output_tokens,
            "servers": [
                {"id": sid, "memory_gb": mem, "tau_comm_s": tc, "tau_comp_s": tp}
                for sid, mem, tc, tp in zip(
                    self.server_ids, self.memory_gb.tolist(), self.tau_comm_s.tolist(), self.tau_comp_s.tolist()
                )
            ],
            "meta": self.meta,
            "timing": None if self.timing is None else {
                "rtt_s": _nan_to_none(self.timing.rtt_s),
                "prefill_s_per_token": _nan_to_none(self.timing.prefill_s_per_token),
                "decode_s_per_token": _nan_to_none(self.timing.decode_s_per_token),
                "block_overhead_s": self.timing.block_overhead_s,
                "comm_overhead_s": self.timing.comm_overhead_s,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Problem":
        """Inverse of :meth:`to_dict` (the ``instance`` block of a Solution JSON)."""
        servers = data["servers"]
        t = data.get("timing")
        timing = None
        if t:
            timing = TimingModel(
                rtt_s=_none_to_nan(t["rtt_s"]),
                prefill_s_per_token=_none_to_nan(t["prefill_s_per_token"]),
                decode_s_per_token=_none_to_nan(t["decode_s_per_token"]),
                block_overhead_s=float(t["block_overhead_s"]),
                comm_overhead_s=float(t["comm_overhead_s"]),
            )
        return cls(
            server_ids=tuple(s["id"] for s in servers),
            memory_gb=np.array([s["memory_gb"] for s in servers], dtype=float),
            tau_comm_s=np.array([s["tau_comm_s"] for s in servers], dtype=float),
            tau_comp_s=np.array([s["tau_comp_s"] for s in servers], dtype=float),
            num_blocks=int(data["num_blocks"]),
            block_size_gb=float(data["block_size_gb"]),
            cache_size_gb=float(data["cache_size_gb"]),
            arrival_rate=float(data["arrival_rate"]),
            target_load=float(data.get("target_load", 0.7)),
            mean_input_tokens=data.get("mean_input_tokens"),
            mean_output_tokens=data.get("mean_output_tokens"),
            timing=timing,
            name=data.get("name", "instance"),
            meta=dict(data.get("meta") or {}),
        )


def _nan_to_none(a: np.ndarray) -> list[float | None]:
    return [x if math.isfinite(x) else None for x in np.asarray(a, dtype=float).tolist()]


def _none_to_nan(a: list[float | None]) -> np.ndarray:
    return np.array([np.nan if x is None else float(x) for x in a], dtype=float)
