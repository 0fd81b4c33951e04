"""RTT constructions from RIPE Atlas and Topology Zoo data (independent recomputation here)."""

from __future__ import annotations

import csv
import math
import statistics

import numpy as np
import pytest

from chaincomp.errors import InvalidInstance, UsageError
from chaincomp.instances.network import (
    RipeNetwork,
    SyntheticNetwork,
    TopologyNetwork,
    draw_rtts,
    great_circle_km,
    load_network,
)


def test_great_circle_closed_form():
    assert great_circle_km(0, 0, 0, 90) == pytest.approx(math.pi / 2 * 6371)
    assert great_circle_km(10, 20, 10, 20) == pytest.approx(0)
    assert great_circle_km(90, 0, -90, 0) == pytest.approx(math.pi * 6371)


def test_ripe_construction(shared_data):
    path = shared_data / "ripe_atlas_eu_rtt.csv"
    net = load_network(path)
    assert isinstance(net, RipeNetwork) and net.num_nodes == 320
    rows = [r for r in csv.DictReader(path.open()) if r["anchor_id"] in ("3138", "1716")]
    med = {}
    for aid in ("3138", "1716"):
        vals = [float(r[f"latency_m{k}"]) for r in rows if r["anchor_id"] == aid for k in range(1, 5)]
        med[aid] = statistics.median([v for v in vals if v > 0])
    i, j = net.labels.index("anchor-3138"), net.labels.index("anchor-1716")
    assert net.median_rtt_ms[i] == pytest.approx(med["3138"])
    lat = {"3138": (52.3924715, 4.6637487), "1716": (50.1109221, 8.6821267)}
    d = float(great_circle_km(*lat["3138"], *lat["1716"]))
    assert 350 < d < 400  # Haarlem–Frankfurt
    assert net.rtt_ms(i, [j])[0] == pytest.approx(0.3 * (med["3138"] + med["1716"]) + 0.01 * d)
    full = RipeNetwork(path, access_fraction=1.0, ms_per_km=0.02)
    assert full.rtt_ms(i, [j])[0] == pytest.approx(med["3138"] + med["1716"] + 0.02 * d)
    assert net.rtt_ms(i, [i])[0] == 0.0


def _floyd(path):
    lines = path.read_text().splitlines()
    n = int(lines[0].split()[1])
    e = next(k for k, ln in enumerate(lines) if ln.startswith("EDGES"))
    D = np.full((n, n), np.inf)
    np.fill_diagonal(D, 0)
    for ln in lines[e + 2:]:
        if ln.strip():
            _, s, t, _, _, delay = ln.split()
            D[int(s), int(t)] = min(D[int(s), int(t)], float(delay))
    for k in range(n):
        D = np.minimum(D, D[:, [k]] + D[[k], :])
    return D


@pytest.mark.parametrize("graph", ["Abvt", "AttMpls", "Bellcanada", "GtsCe"])
def test_topology_rtt_is_twice_shortest_delay(graph, shared_data):
    path = shared_data / "topology" / f"{graph}.graph"
    net = load_network(path)
    assert isinstance(net, TopologyNetwork)
    D = _floyd(path)
    for src in (0, net.num_nodes // 2):
        np.testing.assert_allclose(net.rtt_ms(src, np.arange(net.num_nodes)), 2 * D[src] / 1000)


def test_topology_unreachable_and_malformed(tmp_path):
    g = tmp_path / "tiny.graph"
    g.write_text("NODES 3\nlabel x y\na 0 0\nb 1 1\nc 2 2\n\nEDGES 2\nlabel src dest weight bw delay\n"
                 "e0 0 1 1 10 500\ne1 1 0 1 10 500\n")
    net = TopologyNetwork(g)
    assert net.rtt_ms(0, [1])[0] == pytest.approx(1.0)
    assert net.candidates(0).tolist() == [1]
    d = draw_rtts(net, 1, np.random.default_rng(0))
    assert d.orchestrator in ("a", "b") and d.rtt_ms[0] == pytest.approx(1.0)
    with pytest.raises(UsageError, match="at most 1 nodes reachable"):
        draw_rtts(net, 2, np.random.default_rng(0))
    bad = tmp_path / "bad.graph"
    bad.write_text("NODES 2\nlabel x y\na 0 0\n")
    with pytest.raises(InvalidInstance, match="bad.graph: not a Repetita"):
        TopologyNetwork(bad)
    with pytest.raises(UsageError, match="unknown RTT data format"):
        load_network(tmp_path / "x.txt")


@pytest.mark.parametrize("text,needle", [
    # a nan delay was read as a number and the edge silently lost ("at most 0 nodes reachable")
    ("NODES 2\nlabel x y\na 0 0\nb 1 1\n\nEDGES 1\nlabel src dest weight bw delay\ne0 0 1 1 10 nan\n", r"line 8: delay 'nan': expected a finite number of µs"),
    # 1e308 overflowed numpy (a raw RuntimeWarning) and the error named the instance, not this file
    ("NODES 2\nlabel x y\na 0 0\nb 1 1\n\nEDGES 1\nlabel src dest weight bw delay\ne0 0 1 1 10 1e308\n", r"line 8: delay '1e308'"),
    # fewer nodes than NODES announces: Python's "list index out of range"
    ("NODES 3\nlabel x y\na 0 0\nb 1 1\n\nEDGES 1\nlabel src dest weight bw delay\ne0 0 1 1 10 5\n", r"line 5: expected node 3 of the 3 that NODES announces"),
    ("NODES two\nlabel x y\n", r"line 1: expected 'NODES n' with a whole number"),
    ("NODES 2\nlabel x y\na 0 0\nb 1 1\n\nEDGES 1\nlabel src dest weight bw delay\ne0 0 7 1 10 5\n", r"line 8: edge 0 → 7: nodes are numbered 0..1"),
])
def test_topology_errors_name_the_line_and_the_field(tmp_path, text, needle):
    g = tmp_path / "g.graph"
    g.write_text(text)
    with pytest.raises(InvalidInstance, match=r"g\.graph: not a Repetita \.graph file: " + needle):
        TopologyNetwork(g)


def test_draw_distinct_and_seeded():
    net = SyntheticNetwork(np.random.default_rng(3))
    a = draw_rtts(net, 30, np.random.default_rng(7))
    b = draw_rtts(net, 30, np.random.default_rng(7))
    assert a.servers == b.servers and np.array_equal(a.rtt_ms, b.rtt_ms)
    assert len(set(a.servers)) == 30 and a.orchestrator not in a.servers
    assert (a.rtt_ms > 0).all()
