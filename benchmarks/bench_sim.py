"""Simulator throughput: jobs per second of wall time vs. the number of chains (JFFC and others).

    python benchmarks/bench_sim.py            # 1 000 000 jobs, K = 10, 100, 1000, 5 repeats
    python benchmarks/bench_sim.py --quick    # 100 000 jobs, 2 repeats (CI smoke test)

Chain set: K single-server chains with T_k ~ U(1, 10) s and c_k ~ U{1..10}, Poisson arrivals at
load ρ = λ/ν (default 0.7), Exp(1) job sizes. Timed: the numba kernel alone (streams are drawn
before, compilation is excluded by a warm-up call), and the whole `simulate()` call (streams +
kernel + metrics). Prints medians over repeats, jobs/s, and ns per event (2 events per job).

The general Python engine is timed on a smaller job count for the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from chaincomp.core.allocation import Allocation, Chain
from chaincomp.problem import Problem
from chaincomp.sim.runner import make_streams, run_chain_policy, simulate


def chain_set(K: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    T = rng.uniform(1.0, 10.0, K)
    problem = Problem(tuple(f"s{k}" for k in range(K)), np.full(K, 100.0), T, np.zeros(K),
                      num_blocks=1, block_size_gb=1.0, cache_size_gb=0.1, arrival_rate=1.0)
    chains = tuple(Chain.build(problem, (k,), (1,)) for k in range(K))
    caps = tuple(int(c) for c in rng.integers(1, 11, K))
    return problem, Allocation(chains, caps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--load", type=float, default=0.7)
    ap.add_argument("--chains", type=int, nargs="*", default=[10, 100, 1000])
    ap.add_argument("--policies", nargs="*", default=["jffc", "jsq", "jiq", "sed", "sa-jsq", "jffc-migrate"])
    args = ap.parse_args()
    n = args.jobs or (100_000 if args.quick else 1_000_000)
    reps = args.repeats or (2 if args.quick else 5)

    # compile once (cache=True keeps it on disk afterwards)
    p0, a0 = chain_set(3)
    st0 = make_streams(p0.with_workload(0.5 * a0.service_rate), 1000, 0, 0, "exp")
    for pol in args.policies:
        run_chain_policy(p0, a0, pol, st0, "exp")

    print(f"{n} jobs per run, load {args.load}, median of {reps} repeats (numba kernel only / whole simulate())")
    print(f"{'K':>6} {'C':>6} {'policy':>13} {'kernel s':>9} {'jobs/s':>12} {'ns/event':>9} {'simulate s':>11} {'jobs/s':>12}")
    rows = []
    for K in args.chains:
        problem, alloc = chain_set(K)
        problem = problem.with_workload(args.load * alloc.service_rate)
        st = make_streams(problem, n, 1, 0, "exp")
        for pol in args.policies:
            tk, ts = [], []
            for _ in range(reps):
                t0 = time.perf_counter()
                rec = run_chain_policy(problem, alloc, pol, st, "exp", n // 10)
                tk.append(time.perf_counter() - t0)
            for _ in range(max(1, reps // 2)):
                t0 = time.perf_counter()
                simulate(problem, alloc, [pol], num_jobs=n, seed=1)
                ts.append(time.perf_counter() - t0)
            mk, ms = statistics.median(tk), statistics.median(ts)
            print(f"{K:>6} {alloc.total_capacity:>6} {pol:>13} {mk:>9.3f} {n / mk:>12,.0f} {1e9 * mk / rec.events:>9.1f} "
                  f"{ms:>11.3f} {n / ms:>12,.0f}", flush=True)
            rows.append((K, pol, n / mk, n / ms))

    # general engine for the ratio (JFFC, K = 100, fewer jobs)
    m = 20_000 if args.quick else 100_000
    problem, alloc = chain_set(100)
    problem = problem.with_workload(args.load * alloc.service_rate)
    st = make_streams(problem, m, 1, 0, "exp")
    t0 = time.perf_counter()
    run_chain_policy(problem, alloc, "jffc", st, "exp", m // 10, engine="python")
    tp = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_chain_policy(problem, alloc, "jffc", st, "exp", m // 10)
    tn = time.perf_counter() - t0
    print(f"\ngeneral Python engine, JFFC, K = 100, {m} jobs: {tp:.2f} s ({m / tp:,.0f} jobs/s); "
          f"numba kernel {tn:.3f} s → ratio {tp / tn:.0f}×")
    jffc100 = [r for r in rows if r[0] == 100 and r[1] == "jffc"]
    if jffc100:
        print(f"target: ≥ 100,000 jobs/s (1 M jobs per 10 s) with JFFC on 100 chains — whole simulate(): "
              f"{jffc100[0][3]:,.0f} jobs/s ({'met' if jffc100[0][3] >= 1e5 else 'NOT met'})")


if __name__ == "__main__":
    main()
