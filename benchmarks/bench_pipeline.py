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
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from chaincomp.heuristics.gbp_cr import gbp_cr
from chaincomp.heuristics.gca import gca
from chaincomp.heuristics.tuning import tune
from chaincomp.problem import Problem


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
    args = ap.parse_args()
    sizes = [20, 40] if args.quick else [40, 100, 200, 400, 1000]
    repeats = 1 if args.quick else args.repeats
    gca_j = 40 if args.quick else 400

    # warm the compiled kernel (numba caches it on disk after the first run)
    t = time.perf_counter()
    tune(bloom_instance(10), "lower")
    print(f"warm-up (includes numba load/compile): {time.perf_counter() - t:.2f} s")

    print(f"{'J':>6} {'c_max':>6} {'feasible c':>10} {'sweep median (s)':>17} {'per c (ms)':>11} {'best c':>7}")
    for J in sizes:
        p = bloom_instance(J)
        reps = repeats if J <= 400 else max(1, repeats // 2)
        med, res = timed(lambda: tune(p, "lower"), reps)
        feas = sum(c.feasible for c in res.candidates)
        line = f"{J:>6} {p.max_cache_reservation:>6} {feas:>10} {med:>17.3f} {1000 * med / p.max_cache_reservation:>11.2f} {res.best.cache_reservation:>7}"
        if args.reference and J <= 400:
            ref = reference_sweep_time(p)
            line += f"   naive reference {ref:.2f} s → {ref / med:.0f}× faster"
        print(line)

    p = bloom_instance(gca_j)
    for c in (1, 7, 30):
        g = gbp_cr(p, c)
        med, alloc = timed(lambda: gca(p, g.placement), repeats * 4)
        print(f"one GCA at J = {gca_j}, c = {c}: {len(g.placement.used)} servers used, {len(alloc.chains)} chains, median {1000 * med:.2f} ms")


if __name__ == "__main__":
    main()
