"""The one confidence-interval helper (chaincomp.analysis.confidence), against hand values: the
Student-t table (t_{0.975,9} = 2.262 …) and hand-computed intervals — not against scipy itself."""

import math

import numpy as np
import pytest

from chaincomp.analysis.confidence import ci_half_width, mean_ci, t_quantile
from chaincomp.sim import metrics

# printed Student-t table, two-sided 95 % (e.g. any statistics textbook's appendix)
T975 = {1: 12.706, 2: 4.303, 4: 2.776, 9: 2.262, 19: 2.093, 29: 2.045, 120: 1.980}


@pytest.mark.parametrize("df,value", sorted(T975.items()))
def test_t_quantile_matches_the_table(df, value):
    assert t_quantile(df) == pytest.approx(value, abs=5e-4)


def test_t_quantile_other_levels_and_edges():
    assert t_quantile(9, 0.90) == pytest.approx(1.833, abs=5e-4)
    assert t_quantile(9, 0.99) == pytest.approx(3.250, abs=5e-4)
    assert t_quantile(0) == math.inf
    with pytest.raises(ValueError):
        t_quantile(5, 1.5)


def test_half_width_by_hand():
    # x = 1..10: mean 5.5, s² = Σ(x−5.5)²/9 = 82.5/9, s/√10 = 0.957427; × 2.262157 = 2.165851
    assert ci_half_width(range(1, 11)) == pytest.approx(2.262157 * math.sqrt(82.5 / 9) / math.sqrt(10), rel=1e-6)
    assert ci_half_width(range(1, 11)) == pytest.approx(2.16585, abs=1e-5)
    # two runs 10 and 14: s = 2√2, s/√2 = 2, × 12.706 = 25.41 (the normal 1.96 would say 3.92: 6.5× too narrow)
    assert ci_half_width([10.0, 14.0]) == pytest.approx(25.412, abs=1e-3)
    assert mean_ci([10.0, 14.0])[0] == 12.0


def test_degenerate_inputs():
    assert ci_half_width([]) is None and ci_half_width([3.0]) is None
    assert mean_ci([]) == (None, None) and mean_ci([2.0]) == (2.0, None)
    assert ci_half_width([1.0, None, float("nan"), 3.0]) == pytest.approx(12.706 * math.sqrt(2) / math.sqrt(2), abs=1e-2)


def test_simulator_batch_means_use_it():
    # 20 batches of 5 values each: batch b has mean b → CI of 0..19: s = √35, × t_{0.975,19}/√20
    x = np.repeat(np.arange(20, dtype=float), 5)
    assert metrics.batch_ci(x) == pytest.approx(2.093 * math.sqrt(35) / math.sqrt(20), abs=1e-3)


def test_no_private_t_tables_or_normal_approximations_left():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "chaincomp"
    offenders = [str(p) for p in root.rglob("*.py") if "1.96" in p.read_text(encoding="utf-8")
                 or "12.706" in p.read_text(encoding="utf-8")]
    offenders.remove(str(root / "analysis" / "confidence.py"))  # its docstring explains why not 1.96
    assert offenders == []
