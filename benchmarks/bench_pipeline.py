"""Benchmark the paper's pipeline (issue 3): full tuning sweep and one GCA, BLOOM regime.

Instances: BLOOM-176B NF4 (L = 70, s_m = 1.32 GB, s_c = 0.11 GB); a fraction η = 0.2 of the J
servers high-performance (40 GB, τ^p = 0.109 s), the rest low (20 GB, τ^p = 0.175 s); τ^c uniform in
[0.05, 0.6] s; λ = 0.05·J req/s, ρ̄ = 0.7; seeded.

Full sweep = every c in 1..c_max with GBP-CR + GCA + Theorem-4 bounds (``tune(problem, 'lower')``).
Prints medians over repeats. Usage:

    python benchmarks/bench_pipeline.py            # J = 40, 200, 1000 sweeps; GCA at J = 400
    python benchmarks/bench_pipeline.py --quick    # small sizes, one repeat (CI smoke check)
    python benchmarks/bench_pipeline.py --reference  # also time the naive pure-Python pipeline
                                                      # (tests/reference.py) for the speed-up ratio
    python benchmarks/bench_pipeline.py --scale      # issue 14: J = 1 000 … 100 000, one fresh
                                                      # subprocess per J: sweep time (wall and CPU),
                                                      # peak RSS above the process baseline, growth
                                                      # exponent, naive reference where it finishes

Wall-clock medians are reported together with CPU-time (``time.process_time``) medians: on a
shared machine the CPU time is the fairer measure of the work done (the ratios are taken between
runs interleaved in the same process).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure the code next to this script

from chaincomp.heuristics.gbp_cr import gbp_cr  # noqa: E402
from chaincomp.heuristics.gca import gca  # noqa: E402
from chaincomp.heuristics.tuning import tune  # noqa: E402
from chaincomp.problem import Problem  # noqa: E402


def bloom_instance(J: int, seed: int = 0, eta: float = 0.2) -> Problem:
    rng = np.random.default_rng(seed)
    high = np.zeros(J, dtype=bool)
    high[rng.choice(J, size=int(round(eta * J)), replace=False)] = True
    return Problem(
        tuple(f"s{j}" for j in range(J)),
        np.where(high, 40.0, 20.0),
        rng.uniform(0.05, 0.6, J),
        np.where(high, 0.109, 0.175),
        70,
        1.32,
        0.11,
        0.05 * J,
        0.7,
        name=f"bloom-J{J}",
    )


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def timed_cpu(fn, repeats: int) -> tuple[float, float, object]:
    """(median wall s, median CPU s, last result)."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        out = None  # free the previous result before the next run (peak memory of one run)
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - t)
    timed_cpu.last_min = (min(walls), min(cpus))
    return statistics.median(walls), statistics.median(cpus), out


def _rss_mib() -> float:
    """Current resident set size of this process (MiB)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def scale_one(J: int, repeats: int, ref_timeout: float) -> dict:
    """One J of ``--scale`` (runs in a fresh process): sweep time and peak RSS above baseline."""
    tune(bloom_instance(10), "lower")  # load the compiled kernels before the baseline
    p = bloom_instance(J)
    base = _rss_mib()
    wall, cpu, res = timed_cpu(lambda: tune(p, "lower"), repeats)
    out = {
        "J": J,
        "repeats": repeats,
        "sweep_wall_s": wall,
        "sweep_cpu_s": cpu,
        "sweep_wall_min_s": timed_cpu.last_min[0],
        "sweep_cpu_min_s": timed_cpu.last_min[1],
        "peak_rss_above_baseline_mib": max(0.0, _peak_rss_mib() - base),
        "baseline_rss_mib": base,
        "feasible_c": sum(c.feasible for c in res.candidates),
        "best_c": res.best.cache_reservation,
        "chains_at_best": res.best.result.num_chains,
    }
    return out


def reference_one(J: int) -> dict:
    """The naive reference sweep for one J (runs in a fresh process, killed at the timeout)."""
    p = bloom_instance(J)
    c = time.process_time()
    wall = reference_sweep_time(p)
    return {"J": J, "reference_wall_s": wall, "reference_cpu_s": time.process_time() - c}


def _child(args: list[str], timeout: float | None) -> dict | None:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True,
                              cwd=str(Path(__file__).resolve().parents[1]))
    except subprocess.TimeoutExpired:
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_scale(sizes: list[int], repeats: int, ref_timeout: float, out_json: str | None, reference: bool = True) -> None:
    print(f"BLOOM regime, λ = 0.05·J; one fresh process per J; sweep = tune(problem, 'lower') over c = 1..351; "
          f"medians of {repeats} (fewer above J = 20 000); naive reference (tests/reference.py) killed after {ref_timeout:.0f} s")
    print(f"{'J':>7} {'wall (s)':>9} {'CPU (s)':>8} {'CPU min':>8} {'peak RSS +MiB':>13} {'exp. (CPU)':>10} {'feasible c':>10} {'c*':>4} {'chains':>7}   naive reference")
    rows = []
    ref_alive = reference
    for J in sizes:
        reps = repeats if J <= 20000 else max(1, min(repeats, 2))
        row = _child(["--scale-one", str(J), "--repeats", str(reps)], None)
        ref = None
        attempted = ref_alive
        if attempted:
            ref = _child(["--reference-one", str(J)], ref_timeout)
            ref_alive = ref is not None  # a larger J would not finish either
        row["reference"] = ref
        exp = ""
        if rows:
            prev = rows[-1]
            exp = f"{math.log(row['sweep_cpu_s'] / prev['sweep_cpu_s']) / math.log(J / prev['J']):.2f}"
        if ref:
            ref_txt = f"{ref['reference_cpu_s']:.1f} s CPU → {ref['reference_cpu_s'] / row['sweep_cpu_s']:.0f}×"
        elif attempted:
            ref_txt = f"did not finish in {ref_timeout:.0f} s"
        elif not reference:
            ref_txt = "skipped (--skip-reference)"
        else:
            ref_txt = "not run (a smaller J did not finish)"
        print(f"{J:>7} {row['sweep_wall_s']:>9.3f} {row['sweep_cpu_s']:>8.3f} {row['sweep_cpu_min_s']:>8.3f} {row['peak_rss_above_baseline_mib']:>13.1f} {exp:>10} "
              f"{row['feasible_c']:>10} {row['best_c']:>4} {row['chains_at_best']:>7}   {ref_txt}", flush=True)
        rows.append(row)
    if len(rows) >= 2:
        xs = [math.log(r["J"]) for r in rows]
        ys = [math.log(r["sweep_cpu_s"]) for r in rows]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        print(f"growth exponent (least squares of log CPU time on log J, J = {rows[0]['J']}…{rows[-1]['J']}): {slope:.2f}")
        r10 = {r["J"]: r for r in rows}
        if 1000 in r10 and 10000 in r10:
            print(f"J = 10 000 / J = 1 000: {r10[10000]['sweep_cpu_s'] / r10[1000]['sweep_cpu_s']:.1f}× (CPU), "
                  f"{r10[10000]['sweep_wall_s'] / r10[1000]['sweep_wall_s']:.1f}× (wall)")
    if out_json:
        Path(out_json).write_text(json.dumps(rows, indent=2) + "\n")


def reference_sweep_time(p: Problem) -> float:
    """One full sweep with the naive implementations of tests/reference.py (explicit edge sets)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests/reference.py
    from tests.reference import ref_gbp_cr, ref_gca

    from chaincomp.analysis.bounds import jffc_bounds

    M, tc, tp = list(p.memory_gb), list(p.tau_comm_s), list(p.tau_comp_s)
    L, s_m, s_c = p.num_blocks, p.block_size_gb, p.cache_size_gb
    t = time.perf_counter()
    for c in range(1, p.max_cache_reservation + 1):
        a, m, _, ok = ref_gbp_cr(M, tc, tp, L, s_m, s_c, p.arrival_rate, p.target_load, c)
        if ok:
            chains = ref_gca(a, m, M, tc, tp, L, s_m, s_c)
            jffc_bounds(p.arrival_rate, [1 / x[2] for x in chains], [x[3] for x in chains])
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--reference", action="store_true", help="time the naive reference sweep (J ≤ 400) for ratios")
    ap.add_argument("--scale", action="store_true", help="issue 14: J = 1 000 … 100 000 in fresh processes")
    ap.add_argument("--sizes", type=str, default="1000,2000,5000,10000,20000,50000,100000", help="--scale: the J's")
    ap.add_argument("--ref-timeout", type=float, default=300.0, help="--scale: seconds before the naive reference is abandoned")
    ap.add_argument("--json-out", type=str, default=None, help="--scale: also write the rows as JSON")
    ap.add_argument("--skip-reference", action="store_true", help="--scale: do not run the naive reference")
    ap.add_argument("--scale-one", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--reference-one", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.scale_one is not None:
        print(json.dumps(scale_one(args.scale_one, args.repeats, args.ref_timeout)))
        return
    if args.reference_one is not None:
        print(json.dumps(reference_one(args.reference_one)))
        return
    if args.scale:
        run_scale([int(x) for x in args.sizes.split(",")], 3 if args.repeats == 5 else args.repeats, args.ref_timeout, args.json_out,
                  not args.skip_reference)
        return
    sizes = [20, 40] if args.quick else [20, 40, 100, 200, 400, 1000]
    repeats = 1 if args.quick else args.repeats
    gca_j = 40 if args.quick else 400

    # warm the compiled kernel (numba caches it on disk after the first run)
    t = time.perf_counter()
    tune(bloom_instance(10), "lower")
    print(f"warm-up (includes numba load/compile): {time.perf_counter() - t:.2f} s")

    print(f"{'J':>6} {'c_max':>6} {'feasible c':>10} {'sweep median (s)':>17} {'CPU median (s)':>15} {'per c (ms)':>11} {'best c':>7}")
    for J in sizes:
        p = bloom_instance(J)
        reps = repeats if J <= 400 else max(1, repeats // 2)
        if J <= 40:
            reps = max(reps, 4 * repeats)  # millisecond sweeps: more repeats for a stable median
        med, cpu, res = timed_cpu(lambda: tune(p, "lower"), reps)
        feas = sum(c.feasible for c in res.candidates)
        line = f"{J:>6} {p.max_cache_reservation:>6} {feas:>10} {med:>17.4f} {cpu:>15.4f} {1000 * med / p.max_cache_reservation:>11.3f} {res.best.cache_reservation:>7}"
        if args.reference and J <= 400:
            ref_reps = reps if J <= 40 else 1
            ref_wall, ref_cpu, _ = timed_cpu(lambda: reference_sweep_time(p), ref_reps)
            line += f"   naive reference {ref_wall:.3f} s ({ref_cpu:.3f} s CPU) → {ref_wall / med:.1f}× faster wall, {ref_cpu / cpu:.1f}× CPU"
        print(line)

    p = bloom_instance(gca_j)
    for c in (1, 7, 30):
        g = gbp_cr(p, c)
        med, alloc = timed(lambda: gca(p, g.placement), repeats * 4)
        print(f"one GCA at J = {gca_j}, c = {c}: {len(g.placement.used)} servers used, {len(alloc.chains)} chains, median {1000 * med:.2f} ms")


if __name__ == "__main__":
    main()
