"""Benchmark the paper's pipeline (issue 3): full tuning sweep and one GCA, BLOOM regime.

Instances: BLOOM-176B NF4 (L = 70, s_m = 1.32 GB, s_c = 0.11 GB); a fraction η = 0.2 of the J
servers high-performance (40 GB, τ^p = 0.109 s), the rest low (20 GB, τ^p = 0.175 s); τ^c uniform in
[0.05, 0.6] s; λ = 0.05·J req/s, ρ̄ = 0.7; seeded.

Full sweep = every c in 1..c_max with GBP-CR + GCA + Theorem-4 bounds (``tune(problem, 'lower')``).
Prints medians over repeats. Usage:

    python benchmarks/bench_pipeline.py            # J = 40, 200, 1000 sweeps; GCA at J = 400
    python benchmarks/bench_pipeline.py --quick    # small sizes, one repeat (CI smoke check)
"""

from __future__ import annotations

import argparse
import statistics
import time

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
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
        print(f"{J:>6} {p.max_cache_reservation:>6} {feas:>10} {med:>17.3f} {1000 * med / p.max_cache_reservation:>11.2f} {res.best.cache_reservation:>7}")

    p = bloom_instance(gca_j)
    for c in (1, 7, 30):
        g = gbp_cr(p, c)
        med, alloc = timed(lambda: gca(p, g.placement), repeats * 4)
        print(f"one GCA at J = {gca_j}, c = {c}: {len(g.placement.used)} servers used, {len(alloc.chains)} chains, median {1000 * med:.2f} ms")


if __name__ == "__main__":
    main()
