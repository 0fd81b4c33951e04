"""Seeded instance families (SPEC §6.1–§6.3). Each family builds the single-file instance form
(see :mod:`chaincomp.instances.schema`), so an instance can be written, versioned and re-loaded;
:func:`generate_problem` returns the :class:`~chaincomp.problem.Problem` directly.

Randomness: instance ``index`` of a run with ``seed`` uses ``numpy.random.default_rng([seed, index])``
— same (family, parameters, seed, index, RTT data) → same bytes. RTT values are rounded to 0.1 µs.

Families
--------
``bloom`` (SPEC §6.1)
    BLOOM-176B NF4: L = 70, s_m = 1.32 GB, s_c = 0.11 GB (2048 tokens), F = 5 GFLOP per block per
    token; J servers (default 20), ⌊η·J⌋ of them (random) high-performance — 40 GB, 120 TFLOPS,
    1020 GB/s (an A100 MIG 3g.40gb slice, figures rounded as in the paper) — the rest
    low-performance — 20 GB, 80 TFLOPS, 510 GB/s (2g.20gb). λ = 0.2, ρ̄ = 0.7, l_in 2000, l_out 20,
    t_o = 1 ms, o = 18 ms. RTTs: a random orchestrator node and J distinct server nodes of the RTT
    data (RIPE Atlas CSV or Topology Zoo graph, see :mod:`chaincomp.instances.network`), or of the
    synthetic European model when no data is given.
``mig`` (SPEC §6.2)
    3 × A100 MIG 3g.40gb + 6 × 2g.20gb (catalog figures), LLaMA-2-7B with L = 32,
    s_m = 0.4375 GB, s_c = 0.0336 GB (2·4096·2048·2 B), fp16; λ = 2.57 req/s, l_in 2048, l_out 28
    (the Azure 2023 code trace's means); RTTs drawn as for ``bloom``.
``helix-single-24``, ``helix-three-region-24``, ``helix-single-42`` (SPEC §6.3, Helix ASPLOS'25)
    Node mixes: 4 A100-40GB + 8 L4 + 12 T4; the same 24 split over three regions (region 1: the 4
    A100; region 2: 2 L4 + 8 T4; region 3: 6 L4 + 4 T4); 42 nodes = 4 A100-40GB, 6 V100-16GB,
    8 L4, 4 × (2 × L4), 10 T4, 6 × (2 × T4), 4 × (4 × T4), a multi-GPU node being one server with
    the summed memory, compute and bandwidth. Model ``llama-2-70b`` (80 layers, default) or
    ``llama-30b`` (60 layers) from the model cards, fp16 by default, KV cache for ``max_seq_len``
    (default 2048) tokens. RTT orchestrator→server: within the orchestrator's region uniform in
    [0.5, 1.5] ms (the "~1 ms" of Helix); to another region that region's latency, drawn once per
    instance uniform in [40, 60] ms (50 ± 10), plus the same intra-region jitter. The orchestrator
    sits in region 1 (``orchestrator_region``). Workload defaults: λ = 0.5 req/s, ρ̄ = 0.7,
    l_in 2048, l_out 28.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from chaincomp.errors import UsageError
from chaincomp.instances.load import dump_instance, instance_to_file_dict, load_instance_dict
from chaincomp.instances.network import Network, SyntheticNetwork, TopologyNetwork, draw_rtts, load_network
from chaincomp.problem import Problem


def _r(x: float, nd: int = 4) -> float:
    return float(round(float(x), nd))


# --- families ---------------------------------------------------------------------------------

BLOOM_MODEL = {
    "name": "BLOOM-176B-NF4",
    "card": "BLOOM-176B",
    "dtype": "nf4",
    "max_seq_len": 2048,
    "num_blocks": 70,
    "block_size_gb": 1.32,
    "cache_size_gb": 0.11,
    "flops_per_block_per_token": 5e9,
}
BLOOM_HIGH = {"gpu": "A100-MIG-3g.40gb", "memory_gb": 40.0, "tflops": 120.0, "bandwidth_gb_s": 1020.0}
BLOOM_LOW = {"gpu": "A100-MIG-2g.20gb", "memory_gb": 20.0, "tflops": 80.0, "bandwidth_gb_s": 510.0}


def _rtt_meta(network: Network, draw) -> dict[str, Any]:
    return {"source": network.describe(), "orchestrator": draw.orchestrator, "server_nodes": draw.servers}


def gen_bloom(rng: np.random.Generator, network: Network | None, *, servers: int = 20, eta: float = 0.2,
              rate: float = 0.2, target_load: float = 0.7, geo: dict[str, float] | None = None) -> dict[str, Any]:
    """SPEC §6.1 BLOOM-176B cluster (see module docstring)."""
    if servers < 1:
        raise UsageError(f"--servers must be ≥ 1, got {servers}")
    if not (0 <= eta <= 1):
        raise UsageError(f"--eta must be in [0, 1], got {eta}")
    net = network if network is not None else SyntheticNetwork(rng, num_nodes=max(320, servers + 1), **(geo or {}))
    draw = draw_rtts(net, servers, rng)
    n_high = int(math.floor(eta * servers + 1e-9))
    high = set(rng.choice(servers, size=n_high, replace=False).tolist()) if n_high else set()
    width = max(2, len(str(servers)))
    srv = []
    for j in range(servers):
        kind = BLOOM_HIGH if j in high else BLOOM_LOW
        srv.append({"id": f"s{j + 1:0{width}d}", **kind, "rtt_ms": _r(draw.rtt_ms[j])})
    return {
        "description": f"BLOOM-176B NF4 on {servers} servers, eta={eta} ({n_high} high-performance), lambda={rate} (SPEC 6.1)",
        "cluster": {"orchestrator": draw.orchestrator, "servers": srv},
        "model": dict(BLOOM_MODEL),
        "workload": {"arrival_rate": rate, "target_load": target_load, "mean_input_tokens": 2000, "mean_output_tokens": 20,
                     "block_overhead_ms": 1.0, "comm_overhead_ms": 18.0},
        "meta": {"rtt": _rtt_meta(net, draw), "high_performance": sorted(srv[j]["id"] for j in high)},
    }


MIG_MODEL = {
    "name": "LLaMA-2-7B",
    "card": "LLaMA-2-7B",
    "dtype": "fp16",
    "max_seq_len": 2048,
    "num_blocks": 32,
    "block_size_gb": 0.4375,
    "cache_size_gb": 0.0336,
}


def gen_mig(rng: np.random.Generator, network: Network | None, *, rate: float = 2.57, target_load: float = 0.7,
            geo: dict[str, float] | None = None) -> dict[str, Any]:
    """SPEC §6.2 MIG testbed: 3 × 3g.40gb + 6 × 2g.20gb, LLaMA-2-7B."""
    net = network if network is not None else SyntheticNetwork(rng, **(geo or {}))
    draw = draw_rtts(net, 9, rng)
    srv = []
    for j in range(9):
        gpu = "A100-MIG-3g.40gb" if j < 3 else "A100-MIG-2g.20gb"
        srv.append({"id": f"{'hi' if j < 3 else 'lo'}{j + 1 if j < 3 else j - 2}", "gpu": gpu, "rtt_ms": _r(draw.rtt_ms[j])})
    return {
        "description": "LLaMA-2-7B on 3 A100 MIG 3g.40gb + 6 MIG 2g.20gb slices (SPEC 6.2)",
        "cluster": {"orchestrator": draw.orchestrator, "servers": srv},
        "model": dict(MIG_MODEL),
        "workload": {"arrival_rate": rate, "target_load": target_load, "mean_input_tokens": 2048, "mean_output_tokens": 28,
                     "block_overhead_ms": 1.0, "comm_overhead_ms": 18.0},
        "meta": {"rtt": _rtt_meta(net, draw)},
    }


HELIX_MODELS = {"llama-2-70b": "LLaMA-2-70B", "llama-30b": "LLaMA-30B"}

# (id prefix, gpu, gpus per node, count, region)
HELIX_SINGLE_24 = [("a100", "A100-40GB", 1, 4, 1), ("l4", "L4", 1, 8, 1), ("t4", "T4", 1, 12, 1)]
HELIX_THREE_24 = [("a100", "A100-40GB", 1, 4, 1), ("l4", "L4", 1, 2, 2), ("t4", "T4", 1, 8, 2),
                  ("l4", "L4", 1, 6, 3), ("t4", "T4", 1, 4, 3)]
HELIX_SINGLE_42 = [("a100", "A100-40GB", 1, 4, 1), ("v100", "V100-16GB", 1, 6, 1), ("l4", "L4", 1, 8, 1),
                   ("l4x2", "L4", 2, 4, 1), ("t4", "T4", 1, 10, 1), ("t4x2", "T4", 2, 6, 1), ("t4x4", "T4", 4, 4, 1)]


def _helix(layout, label: str, rng: np.random.Generator, network: Network | None, *, model: str = "llama-2-70b",
           dtype: str = "fp16", max_seq_len: int = 2048, rate: float = 0.5, target_load: float = 0.7,
           orchestrator_region: int = 1) -> dict[str, Any]:
    if network is not None:
        raise UsageError("the helix families use their own region latency model; --rtt-data does not apply")
    key = model.lower()
    if key not in HELIX_MODELS:
        raise UsageError(f"--model must be one of {', '.join(HELIX_MODELS)}, got {model!r}")
    regions = sorted({r for *_, r in layout})
    if orchestrator_region not in regions:
        raise UsageError(f"--orchestrator-region must be one of {regions}, got {orchestrator_region}")
    region_latency = {r: (0.0 if r == orchestrator_region else float(rng.uniform(40.0, 60.0))) for r in regions}
    srv, counters = [], {}
    for prefix, gpu, ngpu, count, region in layout:
        for _ in range(count):
            counters[prefix] = counters.get(prefix, 0) + 1
            rtt = region_latency[region] + float(rng.uniform(0.5, 1.5))
            entry = {"id": f"{prefix}-{counters[prefix]:02d}", "gpu": gpu}
            if ngpu > 1:
                entry["num_gpus"] = ngpu
            entry |= {"rtt_ms": _r(rtt), "region": f"region-{region}"}
            srv.append(entry)
    card = HELIX_MODELS[key]
    return {
        "description": f"{card} ({dtype}) on the Helix-style {label} cluster (SPEC 6.3)",
        "cluster": {"orchestrator": f"region-{orchestrator_region}", "servers": srv},
        "model": {"name": card, "card": card, "dtype": dtype, "max_seq_len": max_seq_len},
        "workload": {"arrival_rate": rate, "target_load": target_load, "mean_input_tokens": 2048, "mean_output_tokens": 28,
                     "block_overhead_ms": 1.0, "comm_overhead_ms": 18.0},
        "meta": {"rtt": {"source": {"kind": "helix-regions", "intra_region_ms": [0.5, 1.5], "cross_region_ms": [40.0, 60.0]},
                         "region_latency_ms": {f"region-{r}": _r(v) for r, v in region_latency.items()}}},
    }


@dataclass(frozen=True)
class Family:
    name: str
    summary: str
    func: Callable[..., dict[str, Any]]
    params: tuple[str, ...] = field(default_factory=tuple)
    uses_rtt_data: bool = True


FAMILIES: dict[str, Family] = {
    "bloom": Family("bloom", "SPEC 6.1: BLOOM-176B NF4, J servers, eta high-performance (RTTs from RIPE/Topology Zoo/synthetic)",
                    gen_bloom, ("servers", "eta", "rate", "target_load")),
    "mig": Family("mig", "SPEC 6.2: LLaMA-2-7B on 3 MIG 3g.40gb + 6 MIG 2g.20gb, random RTT draws",
                  gen_mig, ("rate", "target_load")),
    "helix-single-24": Family("helix-single-24", "SPEC 6.3: 4 A100 + 8 L4 + 12 T4, one region (~1 ms)",
                              lambda rng, net, **kw: _helix(HELIX_SINGLE_24, "single-region 24-node", rng, net, **kw),
                              ("model", "dtype", "max_seq_len", "rate", "target_load"), False),
    "helix-three-region-24": Family("helix-three-region-24", "SPEC 6.3: the 24 nodes over three regions (~50 ms between regions)",
                                    lambda rng, net, **kw: _helix(HELIX_THREE_24, "three-region 24-node", rng, net, **kw),
                                    ("model", "dtype", "max_seq_len", "rate", "target_load", "orchestrator_region"), False),
    "helix-single-42": Family("helix-single-42", "SPEC 6.3: 42 nodes (A100/V100/L4/T4, multi-GPU nodes), one region",
                              lambda rng, net, **kw: _helix(HELIX_SINGLE_42, "single-region 42-node", rng, net, **kw),
                              ("model", "dtype", "max_seq_len", "rate", "target_load"), False),
}


def _family(name: str) -> Family:
    if name not in FAMILIES:
        raise UsageError(f"unknown instance family {name!r}; available: {', '.join(FAMILIES)}")
    return FAMILIES[name]


def instance_name(family: str, seed: int, index: int, count: int = 1) -> str:
    width = max(3, len(str(max(count - 1, 0))))
    return f"{family}-s{seed}-{index:0{width}d}"


def generate_dict(family: str, *, seed: int = 0, index: int = 0, count: int = 1, network: Network | None = None,
                  name: str | None = None, geo: dict[str, float] | None = None, **params: Any) -> dict[str, Any]:
    """One instance of ``family`` in single-file form (validated).

    ``geo`` (``access_fraction``, ``ms_per_km``) parametrizes the synthetic European network that
    bloom / mig draw when no ``network`` is given (a given network carries its own).
    """
    fam = _family(family)
    unknown = set(params) - set(fam.params)
    if unknown:
        raise UsageError(f"family {family!r} does not take {', '.join(sorted(unknown))}; it takes: {', '.join(fam.params) or 'nothing'}")
    rng = np.random.default_rng([int(seed), int(index)])
    raw = fam.func(rng, network, **params, **({"geo": geo} if geo and network is None else {}))
    meta = {"generator": {"family": family, "seed": int(seed), "index": int(index), "params": params}} | raw.pop("meta", {})
    return instance_to_file_dict(name or instance_name(family, seed, index, count), raw["cluster"], raw["model"], raw["workload"],
                                 description=raw.get("description"), meta=meta)


def generate_problem(family: str, *, seed: int = 0, index: int = 0, network: Network | None = None,
                     rtt_data: str | Path | None = None, check: bool = False, **params: Any) -> Problem:
    """One instance of ``family`` as a Problem (``check`` = reject clusters that cannot host the model)."""
    if network is None and rtt_data is not None:
        network = load_network(rtt_data)
    data = generate_dict(family, seed=seed, index=index, network=network, **params)
    return load_instance_dict(data, f"<{data['name']}>", check=check)


def _check_within_limits(data: dict[str, Any], family: str) -> None:
    """Refuse to write an instance that ``solve`` would refuse (sizes beyond docs/reliability.md, Limits).

    An unhostable cluster is still written (``generate`` warns); a c range of 10⁷ slots is not.
    """
    from chaincomp.errors import InvalidInstance
    from chaincomp.io.limits import check_problem

    try:
        check_problem(load_instance_dict(data, data["name"], check=False), data["name"])
    except InvalidInstance as exc:
        raise UsageError(f"{family}: these generator options give an instance that solve would refuse, so none was "
                         f"written:\n  {exc}") from None


def write_instances(family: str, count: int, seed: int, out_dir: str | Path, *, rtt_data: str | Path | None = None,
                    access_fraction: float | None = None, ms_per_km: float | None = None, **params: Any) -> list[Path]:
    """Write ``count`` instances ``{family}-s{seed}-{index}.json`` into ``out_dir``; returns the paths.

    ``access_fraction`` / ``ms_per_km`` (defaults 0.3 and 0.01) parametrize the geographic RTT
    construction (:class:`chaincomp.instances.network.RipeNetwork` for a RIPE CSV, the synthetic
    European network without ``rtt_data``). Given for a family or data file they do not apply to
    (helix-*, a Topology Zoo graph), they are refused rather than ignored.
    """
    fam = _family(family)
    if count < 1:
        raise UsageError(f"--count must be ≥ 1, got {count}")
    geo = {k: v for k, v in (("access_fraction", access_fraction), ("ms_per_km", ms_per_km)) if v is not None}
    given = " and ".join(f"--{k.replace('_', '-')}" for k in geo)
    if geo and not fam.uses_rtt_data:
        raise UsageError(f"{given}: family {family!r} uses its own region latency model; these options apply to bloom and mig only")
    network = None
    if rtt_data is not None:
        if not fam.uses_rtt_data:
            raise UsageError(f"family {family!r} uses its own region latency model; --rtt-data does not apply")
        network = load_network(rtt_data, **geo)
        if geo and isinstance(network, TopologyNetwork):
            raise UsageError(f"{given}: {rtt_data} is a Topology Zoo graph whose RTTs come from its link delays; "
                             f"these options apply to a RIPE Atlas CSV or the synthetic network (no --rtt-data)")
    from chaincomp.io.output import atomic_write, ensure_dir

    out = ensure_dir(out_dir, "instance folder")
    paths = []
    for i in range(count):
        data = generate_dict(family, seed=seed, index=i, count=count, network=network, geo=geo, **params)
        _check_within_limits(data, family)
        path = out / f"{data['name']}.json"
        atomic_write(path, dump_instance(data), "instance file")
        paths.append(path)
    return paths
