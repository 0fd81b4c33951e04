"""Preloaded by the local pool's forkserver: compile/load the numba kernels once, so every forked
worker (including replacements after a timeout or crash) starts warm. Failures are ignored — a
cold worker is only slower on its first task."""

from __future__ import annotations


def _warm() -> None:
    try:
        import numpy as np

        from chaincomp import methods
        from chaincomp.problem import Problem

        problem = Problem(
            server_ids=("a", "b", "c"),
            memory_gb=np.array([3.0, 3.0, 3.0]),
            tau_comm_s=np.array([1.0, 1.0, 1.0]),
            tau_comp_s=np.array([0.001, 0.002, 0.003]),
            num_blocks=2,
            block_size_gb=1.0,
            cache_size_gb=0.1,
            arrival_rate=0.1,
        )
        methods.available()
        if "greedy" in methods.available():
            methods.run("greedy", problem)
    except Exception:  # noqa: BLE001
        pass


_warm()
