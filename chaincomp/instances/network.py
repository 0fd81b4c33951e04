"""Orchestrator–server RTTs from real network data (SPEC §6.1, §6.2, §7), read from a path the user gives.

Three sources share one interface (:class:`Network`: ``num_nodes``, ``labels``,
``rtt_ms(i, js)``), and :func:`draw_rtts` picks a random orchestrator node and J distinct server
nodes from any of them:

RIPE Atlas (``ripe_atlas_eu_rtt.csv``) — :class:`RipeNetwork`
    The file holds each anchor's measurements to other addresses (four samples per row), not
    anchor-to-anchor RTTs. Construction (the one in the paper authors' public simulator):

    * access latency of anchor i: ``access_fraction`` × the median of all its valid samples
      (> 0, finite). Default ``access_fraction = 0.3`` as in the authors' code (the median is an
      end-to-end RTT from that anchor, so only part of it is the anchor's own access leg); pass
      1.0 to use the whole median;
    * RTT(i, j) = access_i + access_j + ``ms_per_km`` × great-circle distance(i, j), with
      ``ms_per_km = 0.01`` (light in fibre ≈ 200 km/ms, there and back) and the haversine
      distance on a 6371 km sphere from the anchors' coordinates.

Topology Zoo (Repetita ``.graph``) — :class:`TopologyNetwork`
    RTT(i, j) = 2 × the sum of link delays on the minimum-delay path (delays are in µs in the
    file; Dijkstra). Nodes unreachable from the orchestrator are never drawn as servers.

Synthetic — :class:`SyntheticNetwork` (when no data path is given)
    ``num_nodes`` points uniform in a European box (latitude 36–62°, longitude −10–30°) with
    per-node median RTT uniform in [17, 55] ms (the range of the RIPE anchors' medians), then the
    RIPE construction above. Drawn from the caller's seeded generator.
"""

from __future__ import annotations

import csv
import heapq
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chaincomp.errors import InvalidInstance, UsageError

EARTH_RADIUS_KM = 6371.0


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance (km) on a 6371 km sphere; broadcasts over numpy arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


class Network:
    """A set of nodes with RTTs between them."""

    kind = "network"
    labels: list[str]

    @property
    def num_nodes(self) -> int:
        return len(self.labels)

    def rtt_ms(self, i: int, js: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def candidates(self, orchestrator: int) -> np.ndarray:
        """Nodes that may serve as servers for this orchestrator (all others by default)."""
        return np.array([j for j in range(self.num_nodes) if j != orchestrator], dtype=int)

    def describe(self) -> dict:
        return {"kind": self.kind}


@dataclass
class _Geo(Network):
    """Access latency + distance construction shared by RIPE and the synthetic model."""

    labels: list[str]
    median_rtt_ms: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    access_fraction: float = 0.3
    ms_per_km: float = 0.01

    def rtt_ms(self, i: int, js) -> np.ndarray:
        js = np.asarray(js, dtype=int)
        d = great_circle_km(self.latitude[i], self.longitude[i], self.latitude[js], self.longitude[js])
        rtt = self.access_fraction * (self.median_rtt_ms[i] + self.median_rtt_ms[js]) + self.ms_per_km * d
        return np.where(js == i, 0.0, rtt)


class RipeNetwork(_Geo):
    kind = "ripe-atlas"

    def __init__(self, path: str | Path, access_fraction: float = 0.3, ms_per_km: float = 0.01):
        path = Path(path)
        samples: dict[str, list[float]] = {}
        coords: dict[str, tuple[float, float]] = {}
        try:
            from chaincomp.io import files as io_files
            from chaincomp.io import limits as io_limits

            # regular UTF-8 files only: a FIFO is refused before it is opened (chaincomp.io.files)
            with io_files.open_text(path, "RIPE Atlas RTT file", max_bytes=io_limits.MAX_TRACE_BYTES, newline="") as fh:
                reader = csv.DictReader(fh)
                need = {"anchor_id", "latency_m1", "latitude", "longitude"}
                if not reader.fieldnames or not need <= set(reader.fieldnames):
                    raise InvalidInstance(f"{path}: not a RIPE Atlas RTT file: expected columns {sorted(need)} (+ latency_m2..m4)")
                for row in reader:
                    aid = row["anchor_id"]
                    vals = samples.setdefault(aid, [])
                    for k in ("latency_m1", "latency_m2", "latency_m3", "latency_m4"):
                        try:
                            x = float(row.get(k) or "nan")
                        except ValueError:
                            continue
                        if math.isfinite(x) and x > 0:
                            vals.append(x)
                    if aid not in coords:
                        lat, lon = float(row["latitude"]), float(row["longitude"])
                        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                            raise InvalidInstance(f"{path}: anchor {aid}: latitude/longitude {lat}, {lon} out of range")
                        coords[aid] = (lat, lon)
        except FileNotFoundError:
            raise InvalidInstance(f"{path}: no such file (RIPE Atlas RTT CSV)") from None
        except (ValueError, TypeError, csv.Error) as exc:
            raise InvalidInstance(f"{path}: malformed RIPE Atlas row ({exc})") from None
        ids = sorted((a for a in samples if samples[a]), key=lambda a: (len(a), a))
        if not ids:
            raise InvalidInstance(f"{path}: no anchor with a valid RTT sample")
        super().__init__(
            labels=[f"anchor-{a}" for a in ids],
            median_rtt_ms=np.array([statistics.median(samples[a]) for a in ids]),
            latitude=np.array([coords[a][0] for a in ids]),
            longitude=np.array([coords[a][1] for a in ids]),
            access_fraction=access_fraction,
            ms_per_km=ms_per_km,
        )
        self.path = path

    def describe(self) -> dict:
        return {"kind": self.kind, "file": self.path.name, "anchors": self.num_nodes,
                "access_fraction": self.access_fraction, "ms_per_km": self.ms_per_km,
                "construction": "rtt = access_fraction*(median_i + median_j) + ms_per_km*great_circle_km(i, j)"}


class SyntheticNetwork(_Geo):
    kind = "synthetic"

    def __init__(self, rng: np.random.Generator, num_nodes: int = 320, access_fraction: float = 0.3, ms_per_km: float = 0.01):
        super().__init__(
            labels=[f"node-{i}" for i in range(num_nodes)],
            median_rtt_ms=rng.uniform(17.0, 55.0, num_nodes),
            latitude=rng.uniform(36.0, 62.0, num_nodes),
            longitude=rng.uniform(-10.0, 30.0, num_nodes),
            access_fraction=access_fraction,
            ms_per_km=ms_per_km,
        )

    def describe(self) -> dict:
        return {"kind": self.kind, "nodes": self.num_nodes, "access_fraction": self.access_fraction,
                "ms_per_km": self.ms_per_km,
                "construction": "nodes uniform in lat 36-62, lon -10-30; median RTT uniform [17, 55] ms; "
                                "rtt = access_fraction*(median_i + median_j) + ms_per_km*great_circle_km(i, j)"}


class TopologyNetwork(Network):
    """A Topology Zoo graph in Repetita format; RTT = 2 × minimum-delay path (µs → ms)."""

    kind = "topology-zoo"

    def __init__(self, path: str | Path):
        path = Path(path)
        try:
            from chaincomp.io import files as io_files

            lines = [ln.strip() for ln in io_files.read_text(path, "Topology Zoo graph file").splitlines()]
        except FileNotFoundError:
            raise InvalidInstance(f"{path}: no such file (Repetita .graph)") from None
        from chaincomp.io import limits

        max_delay_us = limits.MAX_RTT_MS * 500.0  # an edge's one-way delay, so that 2·delay stays ≤ MAX_RTT_MS
        it = iter(enumerate(lines, 1))

        def bad(msg: str) -> InvalidInstance:
            return InvalidInstance(f"{path}: not a Repetita .graph file: {msg}")

        def take(what: str) -> tuple[int, str]:
            for lineno, ln in it:
                return lineno, ln
            raise bad(f"the file ends where {what} was expected")

        def count(keyword: str) -> tuple[int, int]:
            for lineno, ln in it:
                if ln.startswith(keyword):
                    parts = ln.split()
                    if len(parts) < 2 or not parts[1].isdigit() or not 1 <= int(parts[1]) <= limits.MAX_SERVERS * 100:
                        raise bad(f"line {lineno}: expected '{keyword} n' with a whole number n ≥ 1, got {ln[:60]!r}")
                    return lineno, int(parts[1])
            raise bad(f"no '{keyword} n' line")

        _, n = count("NODES")
        take("the node header 'label x y'")
        self.labels = []
        for i in range(n):
            lineno, ln = take(f"node {i + 1} of the {n} that NODES announces")
            if not ln or ln.startswith("EDGES"):
                raise bad(f"line {lineno}: expected node {i + 1} of the {n} that NODES announces, got {ln[:60]!r}")
            self.labels.append(ln.split()[0])
        _, m = count("EDGES")
        take("the edge header 'label src dest weight bw delay'")
        self.adj: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        for k in range(m):
            lineno, ln = take(f"edge {k + 1} of the {m} that EDGES announces")
            parts = ln.split()
            try:
                src, dst, delay_us = int(parts[1]), int(parts[2]), float(parts[5])
            except (IndexError, ValueError):
                raise bad(f"line {lineno}: expected 'label src dest weight bw delay' (integers src, dest; delay in µs), "
                          f"got {ln[:80]!r}") from None
            if not (0 <= src < n and 0 <= dst < n):
                raise bad(f"line {lineno}: edge {src} → {dst}: nodes are numbered 0..{n - 1}")
            if not (math.isfinite(delay_us) and 0 <= delay_us <= max_delay_us):
                raise bad(f"line {lineno}: delay {parts[5]!r}: expected a finite number of µs in [0, {max_delay_us:g}]")
            self.adj[src].append((dst, delay_us))
        self.path = path
        self._cache: dict[int, np.ndarray] = {}

    def delays_us(self, source: int) -> np.ndarray:
        """One-way minimum path delay (µs) from ``source`` to every node (inf if unreachable)."""
        if source not in self._cache:
            dist = np.full(self.num_nodes, np.inf)
            dist[source] = 0.0
            heap = [(0.0, source)]
            while heap:
                d, u = heapq.heappop(heap)
                if d > dist[u]:
                    continue
                for v, w in self.adj[u]:
                    if d + w < dist[v]:
                        dist[v] = d + w
                        heapq.heappush(heap, (d + w, v))
            self._cache[source] = dist
        return self._cache[source]

    def rtt_ms(self, i: int, js) -> np.ndarray:
        return 2.0 * self.delays_us(i)[np.asarray(js, dtype=int)] / 1000.0

    def candidates(self, orchestrator: int) -> np.ndarray:
        d = self.delays_us(orchestrator)
        return np.array([j for j in range(self.num_nodes) if j != orchestrator and np.isfinite(d[j])], dtype=int)

    def describe(self) -> dict:
        return {"kind": self.kind, "file": self.path.name, "nodes": self.num_nodes,
                "construction": "rtt = 2 * shortest-path sum of link delays (us -> ms)"}


def load_network(path: str | Path, *, access_fraction: float = 0.3, ms_per_km: float = 0.01) -> Network:
    """RIPE Atlas CSV (``.csv``) or Topology Zoo graph (``.graph``), by extension.

    A bare shipped file name (``ripe_atlas_eu_rtt.csv``, ``GtsCe.graph``) that is not in the current
    folder is read from the data folder (:func:`chaincomp.data.resolve`).
    """
    from chaincomp.data import resolve

    path = resolve(path)
    if path.suffix.lower() == ".csv":
        return RipeNetwork(path, access_fraction=access_fraction, ms_per_km=ms_per_km)
    if path.suffix.lower() == ".graph":
        return TopologyNetwork(path)
    if path.is_dir():
        raise UsageError(f"{path} is a directory; give the RIPE Atlas CSV (e.g. {path}/ripe_atlas_eu_rtt.csv) or a Topology Zoo .graph file")
    raise UsageError(f"{path}: unknown RTT data format; expected a RIPE Atlas .csv or a Topology Zoo .graph file")


@dataclass(frozen=True)
class RTTDraw:
    orchestrator: str
    servers: list[str]
    rtt_ms: np.ndarray


def draw_rtts(network: Network, num_servers: int, rng: np.random.Generator) -> RTTDraw:
    """One random orchestrator node and ``num_servers`` distinct other nodes (SPEC §6.1), seeded.

    The orchestrator is drawn uniformly among the nodes that reach at least ``num_servers`` others
    (all nodes for RIPE / synthetic data), the servers uniformly without replacement among those.
    """
    n = network.num_nodes
    if isinstance(network, TopologyNetwork):
        eligible = [i for i in range(n) if len(network.candidates(i)) >= num_servers]
    else:  # every node reaches every other
        eligible = list(range(n)) if n - 1 >= num_servers else []
    if not eligible:
        best = max(len(network.candidates(i)) for i in range(n))
        raise UsageError(f"the {network.kind} data has at most {best} nodes reachable from any orchestrator node; "
                         f"cannot place {num_servers} servers on distinct nodes")
    orch = int(rng.integers(n)) if len(eligible) == n else eligible[int(rng.integers(len(eligible)))]
    cand = network.candidates(orch)
    servers = rng.choice(cand, size=num_servers, replace=False)
    return RTTDraw(network.labels[orch], [network.labels[j] for j in servers], network.rtt_ms(orch, servers))
