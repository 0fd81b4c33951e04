"""Embedded examples: SPEC §8 / §6.1 / §6.2 values, feasibility for the greedy pipeline, provenance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chaincomp import methods
from chaincomp.core.verify import verify_solution
from chaincomp.errors import UsageError
from chaincomp.instances.examples import EXAMPLES_DIR, list_examples, load_example, regenerate_example
from chaincomp.instances.load import dump_instance
from tests.conftest import worked_example_problem


def test_list_examples():
    names = [n for n, _ in list_examples()]
    assert names[:3] == ["worked-example", "bloom-j20", "mig-testbed"]
    assert all(desc for _, desc in list_examples())


def test_unknown_example_lists_names():
    with pytest.raises(UsageError, match="worked-example, bloom-j20, mig-testbed"):
        load_example("bloom-j2O")


def test_worked_example_equals_spec():
    p, ref = load_example("worked-example"), worked_example_problem()
    assert p.server_ids == ref.server_ids
    for attr in ("memory_gb", "tau_comm_s", "tau_comp_s"):
        np.testing.assert_array_equal(getattr(p, attr), getattr(ref, attr))
    assert (p.num_blocks, p.block_size_gb, p.cache_size_gb, p.arrival_rate, p.target_load) == (3, 1.0, 0.1, 0.4, 0.7)
    assert p.timing is None  # every τ is an explicit override


def test_bloom_j20_spec_6_1():
    p = load_example("bloom-j20")
    assert (p.num_servers, p.num_blocks, p.block_size_gb, p.cache_size_gb) == (20, 70, 1.32, 0.11)
    assert (p.arrival_rate, p.target_load, p.mean_input_tokens, p.mean_output_tokens) == (0.2, 0.7, 2000, 20)
    high = p.memory_gb == 40
    assert high.sum() == 4 and (p.memory_gb[~high] == 20).all()
    assert p.tau_comp_s[high] == pytest.approx(0.109, abs=0.5e-3)
    assert p.tau_comp_s[~high] == pytest.approx(0.175, abs=0.5e-3)
    rtt = np.array([s["rtt_ms"] for s in p.meta["servers"]]) / 1e3
    assert p.tau_comm_s == pytest.approx(20 * (rtt + 0.018))
    assert "RIPE" in json.dumps(p.meta["instance"]) or "ripe" in json.dumps(p.meta["instance"])


def test_mig_testbed_spec_6_2():
    p = load_example("mig-testbed")
    assert (p.num_servers, p.num_blocks, p.block_size_gb, p.cache_size_gb, p.arrival_rate) == (9, 32, 0.4375, 0.0336, 2.57)
    assert sorted(p.memory_gb.tolist()) == [20.0] * 6 + [40.0] * 3
    assert (p.mean_input_tokens, p.mean_output_tokens) == (2048, 28)
    assert p.timing is not None and np.isfinite(p.timing.prefill_s_per_token).all()


@pytest.mark.parametrize("name", ["worked-example", "bloom-j20", "mig-testbed"])
def test_examples_solve_with_greedy(name):
    p = load_example(name)
    sol = methods.get("greedy").func(p)
    assert verify_solution(sol) == []
    assert sol.metrics["load"] is not None and sol.metrics["load"] < 1


@pytest.mark.parametrize("name", ["bloom-j20", "mig-testbed"])
def test_embedded_rtts_regenerate_from_ripe(name, shared_data):
    """The stored rtt_ms really are the RIPE construction's draw the file's note claims."""
    data = regenerate_example(name, shared_data / "ripe_atlas_eu_rtt.csv")
    assert dump_instance(data) == (EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8")

