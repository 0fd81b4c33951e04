"""The six experiments of SPEC §6 (see :mod:`chaincomp.experiments` for what each compares).

Every experiment takes ``quick`` (a small variant for CI), ``seed``, ``data_dir`` (the folder with the
RIPE Atlas file and the Azure trace) and a few experiment-specific options, and returns an
:class:`~chaincomp.experiments.output.ExperimentResult`.

Instances come from the instance generators (:mod:`chaincomp.instances.generators`, families
``bloom`` for SPEC §6.1 and ``mig`` for §6.2) on the RIPE Atlas network of
:class:`chaincomp.instances.network.RipeNetwork` (one construction for the whole toolkit: access
latency = 0.3 × an anchor's median sample, RTT = access_i + access_j + 0.01 ms/km × distance), so
``chaincomp generate bloom --seed S --rtt-data …/ripe_atlas_eu_rtt.csv`` writes the same instances
the experiments use (instance r of a run is generator ``index`` r).

Seeds: instance r of a sweep is ``bloom`` with (``seed``, index r) — the same orchestrator and
server anchors in every (J, η) cell of run r (common random numbers across cells; the η draw picks
which servers are high-performance); the arrival/size streams of replication r use the simulator's
``SeedSequence(seed).spawn`` scheme (common random numbers across methods).
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from chaincomp.analysis.confidence import ci_half_width
from chaincomp.data import RIPE_FILE, TRACE_FILE, data_file
from chaincomp.data import data_dir as resolve_data_dir
from chaincomp.errors import ChaincompError, UsageError
from chaincomp.experiments.output import ExperimentResult



@lru_cache(maxsize=4)
def _ripe(data_dir: str):
    """The RIPE Atlas network of ``data_dir`` (parsed once per process)."""
    from chaincomp.instances.network import load_network

    return load_network(Path(data_dir) / RIPE_FILE)


def bloom_problem(data_dir: str, num_servers: int = 20, eta: float = 0.2, arrival_rate: float = 0.2,
                  seed: int = 0, index: int = 0):
    """SPEC §6.1 instance: generator family ``bloom`` on the RIPE Atlas anchors of ``data_dir``."""
    from chaincomp.instances.generators import generate_problem

    return generate_problem("bloom", seed=seed, index=index, network=_ripe(str(data_dir)),
                            servers=num_servers, eta=eta, rate=arrival_rate)


def testbed_problem(data_dir: str, arrival_rate: float = 2.57, seed: int = 0):
    """SPEC §6.2 instance: generator family ``mig`` on the RIPE Atlas anchors of ``data_dir``."""
    from chaincomp.instances.generators import generate_problem

    return generate_problem("mig", seed=seed, index=0, network=_ripe(str(data_dir)), rate=arrival_rate)


def _data(data_dir) -> str:
    """The data folder (``--data``, else $CHAINCOMP_DATA, else the shipped copy; :mod:`chaincomp.data`)."""
    for name in (RIPE_FILE, TRACE_FILE):
        data_file(name, data_dir)
    return str(resolve_data_dir(data_dir))


def _progress(cb, msg):
    if cb is not None:
        cb(msg)


# ------------------------------------------------------------------------------------------------
# placement (Fig. 1)
# ------------------------------------------------------------------------------------------------
def run_placement(quick: bool = False, seed: int = 0, data_dir=None, cache_reservation: int = 7,
                  num_random: int | None = None, num_servers: int = 20, on_progress=None, **_):
    from chaincomp.heuristics.gbp_cr import gbp_cr
    from chaincomp.heuristics.random_placement import random_placements

    d = _data(data_dir)
    n_rand = num_random or (20 if quick else 100)
    instances = 2 if quick else 10
    c = int(cache_reservation)
    rows = []
    for eta, label in ((0.0, "homogeneous"), (0.2, "heterogeneous")):
        for r in range(instances):
            p = bloom_problem(d, num_servers, eta, 0.2, seed, index=r)
            g = gbp_cr(p, c)
            rand = [x.surrogate for x in random_placements(p, c, n_rand, seed + 1000 * r)]
            feas = [x for x in rand if math.isfinite(x)]
            rows.append({
                "case": label, "eta": eta, "instance": r, "cache_reservation": c,
                "gbp_cr_cK": g.surrogate if g.feasible else None,
                "random_best": min(feas) if feas else None, "random_median": float(np.median(feas)) if feas else None,
                "random_worst": max(feas) if feas else None, "random_infeasible": len(rand) - len(feas),
                "gbp_cr_le_best_random": (g.surrogate <= min(feas)) if feas and g.feasible else None,
                "random_values": feas,
            })
            _progress(on_progress, f"placement {label} instance {r + 1}/{instances}")
    cols = [("case", "case"), ("instance", "inst"), ("gbp_cr_cK", "GBP-CR c·K"), ("random_best", "random best"),
            ("random_median", "random median"), ("random_worst", "random worst"),
            ("gbp_cr_le_best_random", "GBP-CR ≤ best")]
    meta = {"num_servers": num_servers, "random_placements": n_rand, "instances_per_case": instances,
            "cache_reservation": c, "arrival_rate": 0.2, "seed": seed, "data": d}
    return ExperimentResult("placement", "GBP-CR vs random feasible placements (c·K(c), smaller is better)",
                            cols, rows, meta, _plot_placement)


def _plot_placement(res, d):
    from chaincomp import plots

    fig, axes = plots.pyplot().subplots(1, 2, figsize=(10, 4))
    for ax, case in zip(axes, ("homogeneous", "heterogeneous")):
        rows = [r for r in res.rows if r["case"] == case]
        ax.boxplot([r["random_values"] or [np.nan] for r in rows], positions=range(len(rows)))
        plots.line(ax, range(len(rows)), [r["gbp_cr_cK"] for r in rows], "GBP-CR", fmt="r*", ms=12)
        ax.set_xticks(range(len(rows)), [str(i + 1) for i in range(len(rows))])
        plots.finish(ax, f"{case} servers, c = {res.meta['cache_reservation']}: GBP-CR vs random (box)",
                     "instance #", "c·K(c) (job servers reserved)")
    return [plots.save(fig, d / "placement.png")]


# ------------------------------------------------------------------------------------------------
# allocation (Fig. 2)
# ------------------------------------------------------------------------------------------------
def run_allocation(quick: bool = False, seed: int = 0, data_dir=None, cache_reservation: int = 7,
                   num_servers: int = 20, solver: str = "highs", time_limit_s: float = 10.0, on_progress=None, **_):
    from chaincomp.formulations.cache_allocation import solve_allocation
    from chaincomp.heuristics.gbp_cr import gbp_cr
    from chaincomp.heuristics.gca import gca

    d = _data(data_dir)
    c = int(cache_reservation)
    base = bloom_problem(d, num_servers, 0.2, 0.2, seed)
    g = gbp_cr(base, c)
    if not g.feasible:
        raise UsageError(f"GBP-CR infeasible at c = {c} on the base instance: {g.reason}")
    alloc = gca(base, g.placement)
    total = alloc.service_rate
    fracs = [0.1, 0.5, 0.9] if quick else [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    rows = []
    for f in fracs:
        lam = f * total * base.target_load  # λ/ρ̄ = f × (total rate of GCA's chains)
        p = base.with_workload(arrival_rate=lam)
        gp = gbp_cr(p, c)
        mu1 = alloc.chains[0].rate
        row = {"fraction": f, "arrival_rate": lam, "gca_job_servers": alloc.job_servers_needed(p.required_rate),
               "gbp_cr_cK": gp.surrogate if gp.feasible else None,
               "lower_bound": math.ceil(p.required_rate / mu1 - 1e-9)}
        try:
            ilp, res = solve_allocation(p, g.placement, list(alloc.chains), solver=solver, time_limit_s=time_limit_s)
            row["ilp_job_servers"] = res.objective
            row["ilp_bound"] = res.bound
            row["ilp_status"] = res.status
        except ChaincompError as exc:
            row["ilp_job_servers"], row["ilp_status"] = None, str(exc)
        rows.append(row)
        _progress(on_progress, f"allocation λ = {f:.0%} of GCA rate")
    cols = [("fraction", "λ/ρ̄ ÷ ν_GCA"), ("gca_job_servers", "GCA"), ("gbp_cr_cK", "c·K(c)"),
            ("lower_bound", "⌈λ/(ρ̄μ₁)⌉"), ("ilp_job_servers", "ILP (§2.2)"), ("ilp_status", "ILP status")]
    meta = {"num_servers": num_servers, "eta": 0.2, "cache_reservation": c, "gca_chains": len(alloc.chains),
            "gca_total_rate": total, "seed": seed, "solver": solver, "data": d}
    return ExperimentResult("allocation", "Job servers needed: GCA vs c·K(c), lower bound and the fixed-chain ILP",
                            cols, rows, meta, _plot_allocation)


def _plot_allocation(res, d):
    from chaincomp import plots

    fig, ax = plots.pyplot().subplots(figsize=(6, 4))
    x = [r["fraction"] for r in res.rows]
    for key, lab in (("gca_job_servers", "GCA"), ("gbp_cr_cK", "c·K(c) (GBP-CR)"), ("lower_bound", "lower bound ⌈λ/(ρ̄μ₁)⌉"),
                     ("ilp_job_servers", "optimal ILP (§2.2)")):
        plots.line(ax, x, [r.get(key) for r in res.rows], lab)
    plots.finish(ax, "Job servers needed to reach λ/ρ̄ (cache allocation)",
                 "λ/ρ̄ as a fraction of the GCA chains' total rate ν", "job servers needed")
    return [plots.save(fig, d / "allocation.png")]


# ------------------------------------------------------------------------------------------------
# dispatch (Fig. 3)
# ------------------------------------------------------------------------------------------------
def run_dispatch(quick: bool = False, seed: int = 0, data_dir=None, cache_reservation: int = 7,
                 num_servers: int = 20, jobs: int | None = None, replications: int | None = None, on_progress=None, **_):
    from chaincomp.analysis.bounds import jffc_bounds
    from chaincomp.heuristics.gbp_cr import gbp_cr
    from chaincomp.heuristics.gca import gca
    from chaincomp.sim.runner import simulate

    d = _data(data_dir)
    n = jobs or (5_000 if quick else 50_000)
    reps = replications or (1 if quick else 5)
    base = bloom_problem(d, num_servers, 0.2, 0.2, seed)
    # GBP-CR stops once λ/(ρ̄c) is reached, which at λ = 0.2 leaves a single chain — nothing to balance.
    # Place for the whole cluster instead (run Alg. 1 until the servers run out), then vary the load
    # on GCA's chains of that placement.
    full = gbp_cr(base.with_workload(arrival_rate=1e9), int(cache_reservation))
    alloc = gca(base, full.placement)
    nu = alloc.service_rate
    if not alloc.chains:
        raise UsageError(f"dispatch experiment: at c = {int(cache_reservation)} GBP-CR + GCA form no chain on the "
                         f"{num_servers}-server cluster (its servers have no room for c jobs' cache next to their "
                         "blocks), so there is no load to vary; give a smaller -c")
    loads = [0.3, 0.6, 0.9] if quick else [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    pols = ("jffc", "jsq", "jiq", "sed", "sa-jsq")
    rows = []
    for rho in loads:
        lam = rho * nu
        rep = simulate(base, alloc, pols, num_jobs=n, replications=reps, seed=seed, service="exp", rate=lam)
        b = jffc_bounds(lam, alloc.rates, alloc.capacity_array)
        row = {"load": rho, "arrival_rate": lam, "theorem4_lower_s": b.lower_s, "theorem4_upper_s": b.upper_s}
        for pr in rep.data["policies"]:
            row[f"{pr['policy']}_s"] = pr["response_time_s"]["mean"]
            row[f"{pr['policy']}_ci95_s"] = pr["response_time_s"].get("mean_ci95")
        row["jffc_service_share"] = next(pr["service_share"] for pr in rep.data["policies"] if pr["policy"] == "jffc")
        rows.append(row)
        _progress(on_progress, f"dispatch load {rho}")
    cols = [("load", "ρ"), ("theorem4_lower_s", "Thm-4 lower"), ("jffc_s", "JFFC"), ("theorem4_upper_s", "Thm-4 upper"),
            ("jsq_s", "JSQ"), ("jiq_s", "JIQ"), ("sed_s", "SED"), ("sa-jsq_s", "SA-JSQ"),
            ("jffc_service_share", "JFFC service share")]
    meta = {"num_servers": num_servers, "cache_reservation": cache_reservation, "num_chains": len(alloc.chains),
            "placement": "GBP-CR over the whole cluster (all servers placed), GCA chains",
            "service_rate": nu, "jobs": n, "replications": reps, "seed": seed, "service": "exp", "data": d}
    return ExperimentResult("dispatch", "Mean response time (s) of dispatch policies over GCA's chains",
                            cols, rows, meta, _plot_dispatch)


def _plot_dispatch(res, d):
    from chaincomp import plots

    fig, ax = plots.pyplot().subplots(figsize=(6, 4))
    x = [r["load"] for r in res.rows]
    for key, lab in (("jffc", "JFFC"), ("jsq", "JSQ"), ("jiq", "JIQ"), ("sed", "SED"), ("sa-jsq", "SA-JSQ")):
        plots.line(ax, x, [r.get(f"{key}_s") for r in res.rows], lab, ci=[r.get(f"{key}_ci95_s") for r in res.rows])
    plots.line(ax, x, [r["theorem4_lower_s"] for r in res.rows], "Thm 4 lower", fmt="k--")
    plots.line(ax, x, [r["theorem4_upper_s"] for r in res.rows], "Thm 4 upper", fmt="k:")
    plots.finish(ax, f"Dispatch over {res.meta['num_chains']} GCA chains (± 95 % CI, {res.meta['replications']} rep." + (", batch means)" if res.meta["replications"] == 1 else ")"),
                 "load ρ = λ/ν", "mean response time (s)")
    return [plots.save(fig, d / "dispatch.png")]


# ------------------------------------------------------------------------------------------------
# tuning (Fig. 5 and c* vs λ)
# ------------------------------------------------------------------------------------------------
def run_tuning(quick: bool = False, seed: int = 0, data_dir=None, num_servers: int = 20, jobs: int | None = None,
               on_progress=None, **_):
    from chaincomp.heuristics import tuning
    from chaincomp.sim.runner import simulate

    d = _data(data_dir)
    n = jobs or (3_000 if quick else 20_000)
    base = bloom_problem(d, num_servers, 0.2, 0.2, seed)
    res = tuning.tune(base, score="lower")
    rows = []
    for cand in res.candidates:
        if not cand.feasible:
            continue
        rep = simulate(base, cand.allocation, ("jffc",), num_jobs=n, replications=1, seed=seed, service="exp")
        sim = rep.data["policies"][0]["response_time_s"]
        rows.append({"cache_reservation": cand.cache_reservation,
                     "surrogate_s": cand.scores.get("surrogate"), "lower_s": cand.scores.get("lower"),
                     "upper_s": cand.scores.get("upper"), "simulated_s": sim["mean"],
                     "simulated_ci95_s": sim.get("mean_ci95")})
        _progress(on_progress, f"tuning c = {cand.cache_reservation}")
    best = {}
    for key in ("surrogate_s", "lower_s", "upper_s", "simulated_s"):
        vals = [(r[key], r["cache_reservation"]) for r in rows if r[key] is not None and math.isfinite(r[key])]
        best[key] = min(vals)[1] if vals else None
    # c* vs λ
    lams = [0.1, 0.3, 0.5] if quick else [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    cstar = []
    for lam in lams:
        p = base.with_workload(arrival_rate=lam)
        try:
            tr = tuning.tune(p, score="lower")
        except ChaincompError as exc:
            cstar.append({"arrival_rate": lam, "error": str(exc)})
            continue
        feas = [c for c in tr.candidates if c.feasible]
        row = {"arrival_rate": lam}
        for key in ("surrogate", "lower", "upper"):
            vals = [(c.scores[key], c.cache_reservation) for c in feas if math.isfinite(c.scores.get(key, math.inf))]
            row[f"c_star_{key}"] = min(vals)[1] if vals else None
        cstar.append(row)
        _progress(on_progress, f"c* at λ = {lam}")
    cols = [("cache_reservation", "c"), ("surrogate_s", "c·K(c)/λ"), ("lower_s", "Thm-4 lower"),
            ("upper_s", "Thm-4 upper"), ("simulated_s", "simulated JFFC")]
    meta = {"num_servers": num_servers, "arrival_rate": base.arrival_rate, "jobs": n, "seed": seed,
            "best_c": best, "data": d}
    return ExperimentResult("tuning", "Mean response time (s) vs cache reservation c", cols, rows, meta, _plot_tuning,
                            {"c_star_vs_lambda": cstar})


def _plot_tuning(res, d):
    from chaincomp import plots

    fig, axes = plots.pyplot().subplots(1, 2, figsize=(11, 4))
    x = [r["cache_reservation"] for r in res.rows]
    for key, lab in (("surrogate_s", "surrogate c·K(c)/λ"), ("lower_s", "Thm 4 lower"), ("upper_s", "Thm 4 upper")):
        plots.line(axes[0], x, [r[key] for r in res.rows], lab)
    plots.line(axes[0], x, [r["simulated_s"] for r in res.rows], "simulated JFFC (± 95 % CI, batch means)",
               ci=[r.get("simulated_ci95_s") for r in res.rows])
    axes[0].set_yscale("log")
    plots.finish(axes[0], f"Scores vs c (λ = {res.meta['arrival_rate']:g} req/s, J = {res.meta['num_servers']})",
                 "cache reservation c (jobs per server)", "mean response time (s, log scale)")
    cs = [r for r in res.extra_tables["c_star_vs_lambda"] if "error" not in r]
    for key, lab in (("surrogate", "surrogate c·K(c)/λ"), ("lower", "Thm 4 lower"), ("upper", "Thm 4 upper")):
        plots.line(axes[1], [r["arrival_rate"] for r in cs], [r[f"c_star_{key}"] for r in cs], lab)
    plots.finish(axes[1], "Best c by each score vs arrival rate", "arrival rate λ (req/s)", "c* (jobs per server)")
    return [plots.save(fig, d / "tuning.png")]


# ------------------------------------------------------------------------------------------------
# overall (Fig. 6)
# ------------------------------------------------------------------------------------------------
def run_overall(quick: bool = False, seed: int = 0, data_dir=None, runs: int | None = None, jobs: int | None = None,
                servers=None, fractions=None, arrival_rate: float = 0.2, cache_reservation: int | None = None,
                methods=("proposed", "petals", "bprr"), on_progress=None, **_):
    from chaincomp.experiments.compare import run_method
    from chaincomp.sim.runner import make_streams

    d = _data(data_dir)
    Js = list(servers or ((20, 40) if quick else (10, 20, 30, 40)))
    etas = list(fractions or ((0.2,) if quick else (0.1, 0.2, 0.3, 0.4)))
    R = runs or (2 if quick else 20)
    n = jobs or (600 if quick else 2000)
    warm = n // 10
    rows, t_all = [], time.perf_counter()
    for J in Js:
        for eta in etas:
            per = {m: [] for m in methods}
            errors = {m: 0 for m in methods}
            place_t = {m: [] for m in methods}
            for r in range(R):
                p = bloom_problem(d, J, eta, arrival_rate, seed, index=r)
                st = make_streams(p, n, seed + r, 0, "exp")
                for m in methods:
                    mr = run_method(p, m, [st], "exp", warm, seed=seed + r, cache_reservation=cache_reservation)
                    if mr.summary is None:
                        errors[m] += 1
                        continue
                    per[m].append(mr.summary["response_time_s"]["mean"])
                    place_t[m].append(mr.placement_time_s)
                _progress(on_progress, f"overall J={J} η={eta} run {r + 1}/{R}")
            row = {"num_servers": J, "eta": eta, "runs": R}
            for m in methods:
                v = np.array(per[m])
                row[f"{m}_s"] = float(v.mean()) if v.size else None
                row[f"{m}_ci95_s"] = ci_half_width(v)
                row[f"{m}_infeasible_runs"] = errors[m]
                row[f"{m}_placement_time_s"] = float(np.median(place_t[m])) if place_t[m] else None
            if row.get("proposed_s") is not None:
                for m in methods:
                    if m != "proposed" and row.get(f"{m}_s"):
                        row[f"reduction_vs_{m}"] = 1.0 - row["proposed_s"] / row[f"{m}_s"]
            rows.append(row)
    cols = [("num_servers", "J"), ("eta", "η")] + [(f"{m}_s", f"{m} (s)") for m in methods] + \
           [(f"reduction_vs_{m}", f"gain vs {m}") for m in methods if m != "proposed"] + \
           [(f"{m}_infeasible_runs", f"{m} infeas.") for m in methods]
    meta = {"runs": R, "jobs_per_run": n, "warmup_jobs": warm, "arrival_rate": arrival_rate, "service": "exp",
            "arrivals": "poisson", "cache_reservation": cache_reservation or "tuned (Theorem-4 lower bound)",
            "seed": seed, "wall_time_s": time.perf_counter() - t_all, "data": d,
            "note": "mean response time per run averaged over runs; ci95 = t_{0.975, runs−1}·std/√runs over runs (Student t); "
                    "infeasible runs (method cannot host all blocks) are left out of that method's mean"}
    return ExperimentResult("overall", "Mean response time (s): proposed vs PETALS vs BPRR over J × η",
                            cols, rows, meta, _plot_overall)


def _plot_overall(res, d):
    from chaincomp import plots

    etas = sorted({r["eta"] for r in res.rows})
    fig, axes = plots.pyplot().subplots(1, len(etas), figsize=(4.5 * len(etas), 4), squeeze=False)
    methods = [k[:-2] for k in res.rows[0] if k.endswith("_s") and not k.endswith("ci95_s")
               and not k.endswith("time_s")]
    for ax, eta in zip(axes[0], etas):
        rows = [r for r in res.rows if r["eta"] == eta]
        x = np.arange(len(rows))
        w = 0.8 / max(len(methods), 1)
        for i, m in enumerate(methods):
            plots.bars(ax, x + i * w, [r[f"{m}_s"] for r in rows], w, m, ci=[r.get(f"{m}_ci95_s") for r in rows])
        ax.set_xticks(x + w * (len(methods) - 1) / 2, [str(r["num_servers"]) for r in rows])
        plots.finish(ax, f"η = {eta}: mean over {res.meta['runs']} runs (± 95 % CI, Student t)",
                     "servers J", "mean response time (s)")
    return [plots.save(fig, d / "overall.png")]


# ------------------------------------------------------------------------------------------------
# testbed (Table I)
# ------------------------------------------------------------------------------------------------
def run_testbed(quick: bool = False, seed: int = 0, data_dir=None, requests: int | None = None,
                arrival_rate: float | None = None, service: str = "length", cache_reservation: int | None = None,
                methods=("petals", "bprr", "jffc-only", "proposed"), service_scale: float = 1.0, on_progress=None, **_):
    from chaincomp.experiments.compare import method_info, run_method
    from chaincomp.sim import arrivals as arr
    from chaincomp.sim.runner import make_streams

    d = _data(data_dir)
    n = requests or (200 if quick else 1000)
    trace = arr.load_trace(Path(d) / TRACE_FILE, first=n)
    lam = 2.57 if arrival_rate is None else float(arrival_rate)
    p = testbed_problem(d, arrival_rate=lam, seed=seed)
    if service_scale != 1.0:  # sensitivity: every τ constant × service_scale (Problem.with_time_scale)
        p = p.with_time_scale(service_scale)
    st = make_streams(p, n, seed, 0, service, trace=trace)
    rows, infos = [], {}
    for m in methods:
        mr = run_method(p, m, [st], service, 0, seed=seed, cache_reservation=cache_reservation)
        infos[m] = {"error": mr.error, **method_info(mr), "placement_time_s": mr.placement_time_s}
        if mr.summary is None:
            rows.append({"method": m, "error": mr.error})
            continue
        s = mr.summary
        row = {"method": m}
        for part in ("response", "waiting", "service"):
            for stat in ("mean", "median", "p95", "p99", "max"):
                row[f"{part}_{stat}_s"] = s[f"{part}_time_s"][stat]
            row[f"{part}_mean_ci95_s"] = s[f"{part}_time_s"].get("mean_ci95")
        row["retries"] = s["retries"]
        rows.append(row)
        _progress(on_progress, f"testbed {m}")
    base = next((r for r in rows if r["method"] == "petals" and "response_mean_s" in r), None)
    def gain(key: str, r: dict) -> float | None:
        """1 − r/PETALS for the figure ``key`` (None when PETALS' figure is 0: no ratio)."""
        return 1 - r[key] / base[key] if base[key] > 0 else None

    for r in rows:
        if base and "response_mean_s" in r:
            r["gain_mean_response_vs_petals"] = gain("response_mean_s", r)
            r["gain_mean_waiting_vs_petals"] = gain("waiting_mean_s", r)
            r["gain_p95_response_vs_petals"] = gain("response_p95_s", r)
    cols = [("method", "method"), ("response_mean_s", "resp mean"), ("response_median_s", "resp median"),
            ("response_p95_s", "resp P95"), ("response_p99_s", "resp P99"), ("waiting_mean_s", "wait mean"),
            ("waiting_median_s", "wait median"), ("waiting_p95_s", "wait P95"), ("waiting_max_s", "wait max"),
            ("service_mean_s", "serv mean"), ("service_median_s", "serv median"), ("service_p95_s", "serv P95"),
            ("gain_mean_response_vs_petals", "gain resp vs PETALS"),
            ("gain_mean_waiting_vs_petals", "gain wait vs PETALS")]
    meta = {"requests": n, "trace": trace.source, "design_arrival_rate": lam, "service": service, "seed": seed,
            "service_scale": service_scale,
            "instance": {"servers": list(p.server_ids), "memory_gb": p.memory_gb.tolist(),
                         "tau_comm_s": p.tau_comm_s.tolist(), "tau_comp_s": p.tau_comp_s.tolist(),
                         **{k: v for k, v in p.meta.items() if k != "model"}},
            "methods": infos, "data": d}
    return ExperimentResult("testbed", "LLaMA-2-7B on 9 MIG servers, Azure trace: response / waiting / service (s)",
                            cols, rows, meta, _plot_testbed)


def _plot_testbed(res, d):
    from chaincomp import plots

    rows = [r for r in res.rows if "response_mean_s" in r]
    fig, ax = plots.pyplot().subplots(figsize=(7, 4))
    x = np.arange(len(rows))
    for i, (part, lab) in enumerate((("waiting", "waiting"), ("service", "service"))):
        plots.bars(ax, x + 0.4 * i, [r[f"{part}_mean_s"] for r in rows], 0.4, f"mean {lab}",
                   ci=[r.get(f"{part}_mean_ci95_s") for r in rows])
    ax.set_xticks(x + 0.2, [r["method"] for r in rows])
    plots.finish(ax, f"Testbed: {res.meta['requests']} trace requests (± 95 % CI, batch means)", "method",
                 "mean time per request (s)")
    p = plots.save(fig, d / "testbed.png")
    return [p]
