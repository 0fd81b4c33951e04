"""Metrics of simulated runs (SPEC §5) and replication statistics.

Per run, over the *measured* jobs (arrival index ≥ warm-up count):
response = completion − arrival, waiting = dispatch − arrival, service = completion − dispatch;
mean, median, P95, P99 (numpy's linear-interpolation percentiles) and max of each; throughput =
measured jobs / (last completion − first measured arrival); service share = mean service / mean
response. Per chain (tag): utilization = busy time / (c_k × window), occupancy = busy time / window
(time-average jobs in service), share = fraction of measured jobs that finished on it; the window is
[arrival of the first measured job, last completion].

Confidence intervals (95 %, :mod:`chaincomp.analysis.confidence`): with R ≥ 2 replications, Student-t
over the replication means (t_{0.975, R−1}·s/√R); with one replication, batch means over 20
consecutive batches of measured jobs (in arrival order) for the mean response, waiting and service
times (t_{0.975, 19}).
"""

from __future__ import annotations


import numpy as np

from chaincomp.analysis.confidence import ci_half_width
from chaincomp.sim.engine import RunRecord

STATS = ("mean", "median", "p95", "p99", "max")
BATCHES = 20
_RAW = {"response_time_s": "_resp", "waiting_time_s": "_wait", "service_time_s": "_serv"}

def describe(x: np.ndarray) -> dict:
    if x.size == 0:
        return {s: None for s in STATS}
    p50, p95, p99 = np.percentile(x, [50, 95, 99])
    return {"mean": float(x.mean()), "median": float(p50), "p95": float(p95), "p99": float(p99), "max": float(x.max())}


def batch_ci(x: np.ndarray, batches: int = BATCHES) -> float | None:
    if x.size < 2 * batches:
        return None
    means = np.array([b.mean() for b in np.array_split(x, batches)])
    return ci_half_width(means)


def summarize_run(rec: RunRecord, warmup_jobs: int, capacities=None) -> dict:
    """Metrics of one run (see module doc). ``capacities`` (per tag) enables utilization."""
    w = min(max(int(warmup_jobs), 0), max(rec.arrival_s.size - 1, 0))
    arr, dis, com = rec.arrival_s[w:], rec.dispatch_s[w:], rec.completion_s[w:]
    resp, wait, serv = com - arr, dis - arr, com - dis
    start = float(arr[0]) if arr.size else 0.0
    end = float(com.max()) if com.size else 0.0
    window = end - start
    out = {
        "measured_jobs": int(arr.size),
        "response_time_s": describe(resp),
        "waiting_time_s": describe(wait),
        "service_time_s": describe(serv),
        "throughput_per_s": arr.size / window if window > 0 else None,
        "service_share": float(serv.mean() / resp.mean()) if resp.size and resp.mean() > 0 else None,
        "retries": int((rec.attempts[w:] - 1).sum()),
        "_resp": resp,
        "_wait": wait,
        "_serv": serv,
    }
    if rec.busy_s.size:
        K = rec.busy_s.size
        share = np.bincount(rec.tag[w:][rec.tag[w:] >= 0], minlength=K)[:K] / max(arr.size, 1)
        occ = rec.busy_s / window if window > 0 else np.zeros(K)
        chains = []
        for k in range(K):
            c = None if capacities is None else int(capacities[k])
            chains.append({
                "chain": k,
                "occupancy": float(occ[k]),
                "utilization": float(occ[k] / c) if c else None,
                "job_share": float(share[k]),
            })
        out["chains"] = chains
    return out


def aggregate(runs: list[dict]) -> dict:
    """Combine replications: means of every statistic, 95 % CIs of the mean times."""
    R = len(runs)
    out: dict = {"replications": R, "measured_jobs": int(sum(r["measured_jobs"] for r in runs))}
    for key in ("response_time_s", "waiting_time_s", "service_time_s"):
        block = {}
        for s in STATS:
            vals = [r[key][s] for r in runs if r[key][s] is not None]
            block[s] = float(np.mean(vals)) if vals else None
        if R >= 2:
            block["mean_ci95"] = ci_half_width(np.array([r[key]["mean"] for r in runs]))
        else:
            block["mean_ci95"] = batch_ci(runs[0][_RAW[key]])
        out[key] = block
    for key in ("throughput_per_s", "service_share"):
        vals = [r[key] for r in runs if r[key] is not None]
        out[key] = float(np.mean(vals)) if vals else None
    out["retries"] = int(sum(r["retries"] for r in runs))
    if "chains" in runs[0]:
        chains = []
        for k, base in enumerate(runs[0]["chains"]):
            rec = {"chain": k}
            for f in ("occupancy", "utilization", "job_share"):
                vals = [r["chains"][k][f] for r in runs if r["chains"][k][f] is not None]
                rec[f] = float(np.mean(vals)) if vals else None
            chains.append(rec)
        out["chains"] = chains
    if R >= 2:
        out["per_replication_mean_response_s"] = [r["response_time_s"]["mean"] for r in runs]
    return out
