"""Placement time of the baselines at J = 200 (target: < 1 s each) and routing cost per request.

    python benchmarks/bench_baselines.py [--quick] [--repeats N]

Instance: SPEC §6.1 BLOOM-176B setup generated with J = 200 servers (η = 0.2) from the RIPE Atlas
anchors of the shipped data (chaincomp.data). Prints the median over repeats of: PETALS placement (seeded join order,
weakest window), BPRR (|R| fixed point + CG-BP + shortest path), JFFC-only, one random placement +
GCA, and for reference the proposed pipeline at a fixed c = 7 (GBP-CR + GCA); ratios to the 1 s target.
"""

from __future__ import annotations

import argparse
import statistics
import time

from chaincomp import methods
from chaincomp.experiments.runs import bloom_problem

from chaincomp.data import data_dir  # noqa: E402  (shipped copy unless $CHAINCOMP_DATA / --data)


def bench(fn, repeats):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--data", default=None, help="data folder (default: $CHAINCOMP_DATA, else the shipped copy)")
    a = ap.parse_args()
    J = 50 if a.quick else 200
    reps = a.repeats or (1 if a.quick else 5)
    p = bloom_problem(str(data_dir(a.data)), J, 0.2, 0.2 * J / 20, seed=0)
    methods.run("random", p, cache_reservation=7)  # warm numba (GCA)
    cases = {
        "petals": lambda: methods.run("petals", p, seed=1),
        "bprr": lambda: methods.run("bprr", p),
        "jffc-only": lambda: None,
        "random (c=7) + GCA": lambda: methods.run("random", p, cache_reservation=7, seed=1),
        "greedy (c=7) [reference]": lambda: methods.run("greedy", p, cache_reservation=7),
    }
    print(f"J = {J}, L = {p.num_blocks}, λ = {p.arrival_rate:g}; median of {reps} repeats")
    for name, fn in cases.items():
        if name == "jffc-only":
            # BLOOM-176B does not fit on one 40 GB server: time the capacity rule on a scaled copy
            q = p.subset(list(range(J)))
            from dataclasses import replace

            q = replace(q, num_blocks=8)
            fn = lambda q=q: methods.run("jffc-only", q)  # noqa: E731
        t = bench(fn, reps)
        print(f"{name:28s} {t * 1000:9.2f} ms   ratio to 1 s target: {t:.3f}")


if __name__ == "__main__":
    main()
