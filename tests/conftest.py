"""Shared fixtures: the paper's worked example (SPEC §8) and the shared data folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chaincomp.problem import Problem

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def worked_example_problem(arrival_rate: float = 0.4, target_load: float = 0.7) -> Problem:
    """SPEC §8 / the paper's Fig. 2, built by hand (independent of the embedded example file)."""
    eps = 1e-3
    return Problem(
        server_ids=("j1", "j2", "j3", "j4", "j5"),
        memory_gb=np.array([2.0, 3.0, 2.0, 2.0, 2.0]),
        tau_comm_s=np.array([1.0, 2.0, 1.0, 1.0, 1.0]),
        tau_comp_s=np.array([1, 2, 3, 4, 5]) * eps,
        num_blocks=3,
        block_size_gb=1.0,
        cache_size_gb=0.1,
        arrival_rate=arrival_rate,
        target_load=target_load,
        name="worked-example",
    )


@pytest.fixture
def worked_example() -> Problem:
    return worked_example_problem()


@pytest.fixture
def shared_data() -> Path:
    """../shared/data when it exists (the project's data folder), else the copy shipped in the package."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    from chaincomp.data import SHIPPED

    return SHIPPED
