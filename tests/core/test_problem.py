"""Problem helpers: floors (Eq. 3, Eq. 6), c_max (SPEC §3.5), time scaling."""

import numpy as np
import pytest

from chaincomp.problem import Problem, TimingModel
from tests.conftest import worked_example_problem


def test_eq6_and_eq3_floors_on_the_worked_example():
    p = worked_example_problem()
    assert p.blocks_at_reservation(1).tolist() == [1, 2, 1, 1, 1]  # ⌊M/(1 + 0.1)⌋
    assert p.residual_slots(np.array([1, 2, 1, 1, 1])).tolist() == [10, 10, 10, 10, 10]
    assert p.max_cache_reservation == 20  # ⌊(3 − 1)/0.1⌋


def test_time_scale_scales_every_service_constant():
    timing = TimingModel(np.array([0.02, 0.03]), np.array([1e-6, 2e-6]), np.array([1e-3, 2e-3]), 1e-3, 0.018)
    p = Problem(("a", "b"), np.array([10.0, 10.0]), np.array([0.5, 0.7]), np.array([0.1, 0.2]), 4, 1.0, 0.1, 1.0,
                timing=timing)
    q = p.with_time_scale(4.0)
    assert q.tau_comm_s.tolist() == pytest.approx([2.0, 2.8])
    assert q.tau_comp_s.tolist() == pytest.approx([0.4, 0.8])
    assert q.timing.tau_comp(2000, 20) == pytest.approx(4 * p.timing.tau_comp(2000, 20))
    assert q.timing.tau_comm(20) == pytest.approx(4 * p.timing.tau_comm(20))
    assert q.memory_gb.tolist() == p.memory_gb.tolist()
    with pytest.raises(ValueError):
        p.with_time_scale(0)
