"""Generator families: SPEC §6.1–§6.3 compositions, determinism per seed, solvable instances."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chaincomp import methods
from chaincomp.core.verify import verify_solution
from chaincomp.errors import UsageError
from chaincomp.instances.generators import FAMILIES, generate_dict, generate_problem, write_instances
from chaincomp.instances.load import load_instance_file
from chaincomp.instances.network import load_network


def test_same_seed_same_bytes(tmp_path):
    for fam in FAMILIES:
        a = write_instances(fam, 2, 11, tmp_path / "a" / fam)
        b = write_instances(fam, 2, 11, tmp_path / "b" / fam)
        c = write_instances(fam, 2, 12, tmp_path / "c" / fam)
        assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
        assert a[0].read_bytes() != a[1].read_bytes()
        assert a[0].read_bytes() != c[0].read_bytes()
        assert load_instance_file(a[0]).name == a[0].stem


@pytest.mark.parametrize("J,eta", [(20, 0.2), (10, 0.1), (40, 0.3), (30, 0.3)])
def test_bloom_composition(J, eta):
    p = generate_problem("bloom", seed=5, servers=J, eta=eta, rate=0.3)
    assert p.num_servers == J and p.num_blocks == 70 and p.arrival_rate == 0.3
    assert int((p.memory_gb == 40).sum()) == math.floor(eta * J + 1e-9)
    assert set(p.memory_gb.tolist()) <= {20.0, 40.0}


def test_bloom_rtts_from_ripe(shared_data):
    net = load_network(shared_data / "ripe_atlas_eu_rtt.csv")
    d = generate_dict("bloom", seed=3, network=net)
    orch = net.labels.index(d["cluster"]["orchestrator"])
    nodes = [net.labels.index(s) for s in d["meta"]["rtt"]["server_nodes"]]
    expect = np.round(net.rtt_ms(orch, nodes), 4)
    assert [s["rtt_ms"] for s in d["cluster"]["servers"]] == expect.tolist()


def test_bloom_rtts_from_topology_zoo(shared_data):
    p = generate_problem("bloom", seed=1, rtt_data=shared_data / "topology" / "GtsCe.graph", servers=30)
    assert p.num_servers == 30 and (p.timing.rtt_s > 0).all()


def test_mig_composition():
    p = generate_problem("mig", seed=2)
    assert sorted(p.memory_gb.tolist()) == [20.0] * 6 + [40.0] * 3
    assert (p.num_blocks, p.block_size_gb, p.cache_size_gb, p.arrival_rate) == (32, 0.4375, 0.0336, 2.57)


def test_helix_layouts():
    p = generate_problem("helix-single-24", seed=0)
    assert p.num_servers == 24 and p.num_blocks == 80
    assert sorted(set(p.memory_gb.tolist())) == [16.0, 24.0, 40.0]
    assert ((p.timing.rtt_s >= 0.5e-3) & (p.timing.rtt_s <= 1.5e-3)).all()
    p = generate_problem("helix-single-42", seed=0, model="llama-30b")
    assert p.num_servers == 42 and p.num_blocks == 60
    assert p.memory_gb.sum() == pytest.approx(4 * 40 + 6 * 16 + 8 * 24 + 4 * 48 + 10 * 16 + 6 * 32 + 4 * 64)
    assert p.memory_gb.max() == 64.0  # a 4 x T4 node
    p = generate_problem("helix-three-region-24", seed=4)
    regions = [s["region"] for s in p.meta["servers"]]
    rtt = p.timing.rtt_s * 1e3
    local = np.array([r == "region-1" for r in regions])
    assert local.sum() == 4 and (rtt[local] <= 1.5).all()
    assert ((rtt[~local] >= 40.5) & (rtt[~local] <= 61.5)).all()
    with pytest.raises(UsageError, match="--model must be one of"):
        generate_problem("helix-single-24", model="gpt2")


def test_unknown_family_and_params():
    with pytest.raises(UsageError, match="unknown instance family"):
        generate_problem("blom")
    with pytest.raises(UsageError, match="does not take"):
        generate_problem("mig", servers=3)


@pytest.mark.parametrize("fam", list(FAMILIES))
def test_generated_instances_solve(fam):
    p = generate_problem(fam, seed=0, check=True)
    sol = methods.get("greedy").func(p)
    assert verify_solution(sol) == []
    assert sol.metrics["load"] < 1
