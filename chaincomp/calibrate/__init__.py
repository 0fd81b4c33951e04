"""``chaincomp calibrate``: fit the SPEC §1.1 timing model to measured request timings and write a
cluster file with explicit τ's (``tau_comp_s``, ``tau_comm_s``) that ``solve`` / ``simulate`` accept.

* per GPU type: t_o, t^I, t^O from ``compute_s = blocks · (t_o + t^I l_in + t^O (l_out − 1))``;
* per server: θ = RTT + o from ``comm_s = l_out · θ``;
* then, for the workload's means l̄_in, l̄_out: τ^p_j = t_o + t^I l̄_in + t^O (l̄_out − 1) of the
  server's GPU type and τ^c_j = l̄_out · θ_j (SPEC §1.1).

Fits and their quality: :mod:`chaincomp.calibrate.fit`; the CSV: :mod:`chaincomp.calibrate.measurements`
and docs/calibrate.md.

Choices: a server's GPU type is the CSV's ``gpu`` column, else the cluster file's ``gpu``, else the
server id (its own type). l̄_in, l̄_out come from the options, else the workload file, else the means
over the measurement rows (the report says which). Servers of the cluster file without
measurements keep their modelled τ and are listed under ``not_calibrated`` — never silently mixed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chaincomp.calibrate.fit import Fit, fit_comm, fit_compute
from chaincomp.calibrate.measurements import Measurements, read_measurements
from chaincomp.errors import InvalidInstance
from chaincomp.instances import catalog

__all__ = ["Calibration", "calibrate", "read_measurements", "fit_compute", "fit_comm"]


@dataclass
class Calibration:
    compute: dict[str, Fit]
    comm: dict[str, Fit]
    server_gpu: dict[str, str]
    input_tokens: float
    output_tokens: float
    token_source: str
    cluster: dict[str, Any]
    not_calibrated: dict[str, list[str]] = field(default_factory=dict)
    source: str = ""
    weighting: str = "relative"

    def tau_comp_s(self, gpu: str) -> float:
        t_o, t_i, t_out = self.compute[gpu].estimate
        return t_o + t_i * self.input_tokens + t_out * max(self.output_tokens - 1.0, 0.0)

    def tau_comm_s(self, server: str) -> float:
        return self.output_tokens * self.comm[server].estimate[0]

    def report(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "workload": {"mean_input_tokens": self.input_tokens, "mean_output_tokens": self.output_tokens,
                         "from": self.token_source},
            "gpu_types": {g: f.as_dict() | {"tau_comp_s": self.tau_comp_s(g)} for g, f in self.compute.items()},
            "servers": {s: f.as_dict() | {"gpu": self.server_gpu[s], "tau_comm_s": self.tau_comm_s(s)}
                        for s, f in self.comm.items()},
            "weighting": self.weighting,
            "not_calibrated": self.not_calibrated,
            "cluster": self.cluster,
        }


def _fitted_time(value: float, name: str, who: str, label: str, positive: bool) -> float:
    """A fitted τ as the cluster file needs it (τ^p > 0, τ^c ≥ 0; −0.0 written as 0.0): a fit outside
    that range is refused, never written as a cluster that ``solve`` would refuse later."""
    ok = value > 0 if positive else value >= 0
    if not (math.isfinite(value) and ok):
        bound = "> 0" if positive else "≥ 0"
        raise InvalidInstance(f"{label}: the fit for {who} gives {name} = {value:.6g} s, but it must be {bound}: "
                              "are the measured times zero, or do they fall as the work grows? check those rows")
    return value + 0.0  # −0.0 → 0.0


def _canon_gpu(name: str) -> str:
    spec = catalog.find_gpu(name)
    return spec.name if spec else name


def _cluster_servers(cluster_path: Path | None) -> tuple[dict | None, list[dict]]:
    """The cluster file's servers, one dict per expanded id (count > 1 entries split)."""
    if cluster_path is None:
        return None, []
    from chaincomp.instances.load import _validate, read_json
    from chaincomp.instances.schema import ClusterSpec

    spec = _validate(ClusterSpec, read_json(cluster_path), str(cluster_path))
    out = []
    for s in spec.servers:
        base = s.model_dump(exclude_none=True, exclude_unset=True)
        base.pop("count", None)
        for sid in s.expanded_ids():
            out.append(base | {"id": sid})
    return spec.model_dump(exclude_none=True, exclude_unset=True), out


def calibrate(measurements: str | Path | Measurements, *, cluster: str | Path | None = None,
              workload: str | Path | None = None, input_tokens: float | None = None,
              output_tokens: float | None = None, weighting: str = "relative") -> Calibration:
    """Fit the timing model and build the calibrated cluster (module docstring).

    Raises :class:`InvalidInstance` for a bad CSV or cluster file, too few rows, a GPU type whose
    rows do not vary, or measured servers missing from the cluster file.
    """
    m = measurements if isinstance(measurements, Measurements) else read_measurements(measurements)
    label = m.path
    cluster_path = Path(cluster) if cluster is not None else None
    cluster_dict, servers = _cluster_servers(cluster_path)
    by_id = {s["id"]: s for s in servers}

    # GPU type of every row (and of every measured server, consistently)
    server_gpu: dict[str, str] = {}
    where: dict[str, int] = {}
    if m.server is None:
        if cluster_path is None:
            raise InvalidInstance(f"{label}: without a server column, give the cluster file (--cluster) whose servers the GPU types belong to")
        row_types = [_canon_gpu(g) for g in m.gpu]
    else:
        for sid, g, line in zip(m.server, m.gpu, m.lines):
            if cluster_path is not None and sid not in by_id:
                raise InvalidInstance(f"{label}: line {line}, column server: {sid!r} is not a server of {cluster_path}")
            typ = _canon_gpu(g) if g else (by_id[sid].get("gpu") if sid in by_id and by_id[sid].get("gpu") else sid)
            if sid in server_gpu and server_gpu[sid] != typ:
                raise InvalidInstance(f"{label}: line {line}, column gpu: server {sid!r} is {typ!r} here but "
                                      f"{server_gpu[sid]!r} on line {where[sid]}")
            server_gpu.setdefault(sid, typ)
            where.setdefault(sid, line)
        row_types = [server_gpu[s] for s in m.server]

    types = np.array(row_types)
    compute = {}
    for g in dict.fromkeys(row_types):
        sel = types == g
        compute[g] = fit_compute(m.blocks[sel], m.input_tokens[sel], m.output_tokens[sel], m.compute_s[sel], g, weighting)
    comm = {}
    if m.server is not None and m.comm_s is not None:
        sids = np.array(m.server)
        comm = {s: fit_comm(m.output_tokens[sids == s], m.comm_s[sids == s], s, weighting) for s in dict.fromkeys(m.server)}

    # the workload the τ's are for
    if input_tokens is not None or output_tokens is not None:
        if input_tokens is None or output_tokens is None:
            raise InvalidInstance("give both --input-tokens and --output-tokens (or neither)")
        l_in, l_out, src = float(input_tokens), float(output_tokens), "options"
    elif workload is not None:
        from chaincomp.instances.load import _validate, read_json
        from chaincomp.instances.schema import WorkloadSpec

        w = _validate(WorkloadSpec, read_json(workload), str(workload))
        l_in, l_out, src = w.mean_input_tokens, w.mean_output_tokens, f"workload file {workload}"
    else:
        l_in, l_out = float(m.input_tokens.mean()), float(m.output_tokens.mean())
        src = f"means over the {len(m)} measurement rows"
    if l_in < 0 or l_out < 1:
        raise InvalidInstance(f"mean tokens must be input ≥ 0 and output ≥ 1, got {l_in}, {l_out}")

    cal = Calibration(compute, comm, server_gpu, l_in, l_out, src, {}, source=label, weighting=weighting)
    out_servers = []
    not_cal: dict[str, list[str]] = {"tau_comp": [], "tau_comm": []}
    ids = [s["id"] for s in servers] if cluster_path is not None else list(dict.fromkeys(m.server))
    for sid in ids:
        rec = dict(by_id.get(sid) or {"id": sid})
        typ = server_gpu.get(sid) or (_canon_gpu(rec["gpu"]) if rec.get("gpu") else sid)
        notes = []
        if typ in compute:
            rec["tau_comp_s"] = _fitted_time(cal.tau_comp_s(typ), "τ^p", f"GPU type {typ}", label, positive=True)
            notes.append(f"tau_comp_s fitted on GPU type {typ} ({compute[typ].n} rows)")
        else:
            not_cal["tau_comp"].append(sid)
        if sid in comm:
            rec["tau_comm_s"] = _fitted_time(cal.tau_comm_s(sid), "τ^c", f"server {sid}", label, positive=False)
            notes.append(f"tau_comm_s fitted on {comm[sid].n} rows")
        else:
            not_cal["tau_comm"].append(sid)
        if cluster_path is None:
            spec = catalog.find_gpu(typ)
            if spec is None:
                raise InvalidInstance(f"{label}: server {sid!r}: its GPU type {typ!r} is not in the catalog, so its memory is "
                                      f"unknown; give the cluster file with --cluster (or a catalog type in the gpu column)")
            rec["gpu"] = spec.name
        rec["note"] = "calibrated by chaincomp calibrate: " + "; ".join(notes) if notes else rec.get("note")
        if rec["note"] is None:
            rec.pop("note")
        out_servers.append(rec)
    cal.not_calibrated = {k: v for k, v in not_cal.items() if v}
    base = dict(cluster_dict or {"name": Path(label).stem + "-calibrated"})
    base["servers"] = out_servers
    base["meta"] = dict(base.get("meta") or {}) | {"calibration": {
        "measurements": label, "mean_input_tokens": l_in, "mean_output_tokens": l_out, "tokens_from": src,
        "gpu_types": {g: dict(zip(f.names, f.estimate)) for g, f in compute.items()},
        "servers": {s: {"rtt_plus_overhead_s": f.estimate[0]} for s, f in comm.items()},
    }}
    from chaincomp.instances.load import _validate
    from chaincomp.instances.schema import ClusterSpec

    cal.cluster = _validate(ClusterSpec, base, "<calibrated cluster>").model_dump(exclude_none=True, exclude_unset=True)
    return cal
