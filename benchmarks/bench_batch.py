"""Benchmark the batch runner (issue 7): per-task overhead and worker speed-up on the local pool.

1. Overhead: a trivial method (returns a precomputed greedy solution; its own time ≈ 0) over N tasks
   on 1 worker. Overhead per task = (batch wall time − Σ method time) / N, reported two ways:
   *total* (including pool start-up: forkserver + preloading the toolkit) and *steady* (from the
   first finished task to the last, per task). It covers payload transfer, instance parsing,
   verification of the solution, JSON encoding, the pipe and the flushed append to the store.
   Target: < 50 ms per task.
2. Speed-up: N greedy solves (GBP-CR + GCA with the full Theorem-4 tuning sweep, SPEC §3.5) on
   BLOOM-like instances (J = 20, L = 70, η = 0.2, λ = 0.2 req/s; SPEC §6.1) with 1 and then 2
   workers; ratio = wall(1 worker) / wall(2 workers).

Prints medians over repeats. Usage:

    python benchmarks/bench_batch.py            # 1000 trivial tasks (3 repeats), 1000 greedy solves
    python benchmarks/bench_batch.py --quick    # 200 trivial tasks, 100 greedy solves, 1 repeat
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from chaincomp import methods
from chaincomp.methods import register
from chaincomp.problem import Problem

_CACHE: dict = {}


@register("bench-trivial", "benchmark only: returns a precomputed greedy solution (≈ 0 s of method time)")
def _trivial(problem, seed=0, **_):
    key = problem.name
    if key not in _CACHE:
        _CACHE[key] = methods.run("greedy", problem, cache_reservation=2)
    return _CACHE[key]


def bloom_instance(seed: int, J: int = 20, eta: float = 0.2, L: int = 70) -> Problem:
    """SPEC §6.1 regime with random τ^c (RTT 5–60 ms, 20 output tokens, 18 ms overhead)."""
    rng = np.random.default_rng(seed)
    high = np.zeros(J, dtype=bool)
    high[rng.choice(J, size=int(round(eta * J)), replace=False)] = True
    rtt = rng.uniform(0.005, 0.06, J)
    return Problem(
        tuple(f"s{j}" for j in range(J)),
        np.where(high, 40.0, 20.0),
        20 * (rtt + 0.018),
        np.where(high, 0.109, 0.175),
        L,
        1.32,
        0.11,
        0.2,
        0.7,
        name=f"bloom-{seed}",
    )


def write_set(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        p = folder / f"bloom-{i:04d}.json"
        p.write_text(json.dumps(bloom_instance(i).to_dict()))
        paths.append(p)
    return paths


def run(tasks, jobs: int, out: Path) -> tuple[float, list[dict]]:
    from chaincomp.batch.local import LocalPool
    from chaincomp.batch.runner import run_batch
    from chaincomp.batch.store import ResultStore, read_records

    t = time.perf_counter()
    with ResultStore(out, "overwrite") as store:
        summary = run_batch(tasks, store, LocalPool(jobs), providers=[str(Path(__file__).resolve())])
    wall = time.perf_counter() - t
    if summary.ok != len(tasks):
        raise SystemExit(f"benchmark batch had failures: {summary.failures[:3]}")
    return wall, read_records(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--trivial-tasks", type=int, default=1000)
    ap.add_argument("--greedy-tasks", type=int, default=1000)
    args = ap.parse_args()
    if args.quick:
        args.repeats, args.trivial_tasks, args.greedy_tasks = 1, 200, 100
    from chaincomp.batch import tasks as tk

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        tmp = Path(tmp)
        paths = write_set(tmp / "inst", 50)
        refs = tk.resolve_instances(paths)

        # 1. overhead with a trivial method, 1 worker
        seeds = list(range((args.trivial_tasks + len(refs) - 1) // len(refs)))
        trivial = tk.expand_grid(refs, ["bench-trivial"], {}, seeds)[: args.trivial_tasks]
        totals, steadies, methods_ms = [], [], []
        for _ in range(args.repeats):
            wall, recs = run(trivial, 1, tmp / "trivial.jsonl")
            meth = sum(r["method_time_s"] for r in recs)
            ends = sorted(dt.datetime.fromisoformat(r["finished_at"]).timestamp() for r in recs)
            steady = (ends[-1] - ends[0]) / (len(recs) - 1) - meth / len(recs)
            totals.append((wall - meth) / len(recs))
            steadies.append(steady)
            methods_ms.append(meth / len(recs))
        print(f"trivial method, {len(trivial)} tasks, 1 worker, median of {args.repeats}:")
        print(f"  overhead per task (incl. pool start-up): {1e3 * statistics.median(totals):.2f} ms")
        print(f"  overhead per task (steady state):        {1e3 * statistics.median(steadies):.2f} ms")
        print(f"  method time per task:                    {1e3 * statistics.median(methods_ms):.3f} ms")
        ok = statistics.median(totals) < 0.050
        print(f"  target < 50 ms: {'met' if ok else 'NOT met'}")

        # 2. speed-up 1 → 2 workers on greedy solves
        seeds = list(range((args.greedy_tasks + len(refs) - 1) // len(refs)))
        greedy = tk.expand_grid(refs, ["greedy"], {"tune": ["lower"]}, seeds)[: args.greedy_tasks]
        walls = {}
        for jobs in (1, 2):
            ws = []
            for _ in range(max(1, args.repeats - 2) if not args.quick else 1):
                w, recs = run(greedy, jobs, tmp / f"greedy{jobs}.jsonl")
                ws.append(w)
            walls[jobs] = statistics.median(ws)
            meth = statistics.median(r["method_time_s"] for r in recs)
            cpu_share = sum(r["method_cpu_time_s"] for r in recs) / sum(r["method_time_s"] for r in recs)
            busy = sum(r["wall_time_s"] for r in recs) / (jobs * walls[jobs])
            print(
                f"greedy, {len(greedy)} tasks, {jobs} worker(s): {walls[jobs]:.2f} s (median method time {1e3 * meth:.1f} ms; "
                f"workers busy {100 * busy:.0f} % of the time; CPU share of a core while solving {100 * cpu_share:.0f} %)"
            )
        print(f"speed-up 1 → 2 workers: {walls[1] / walls[2]:.2f}×")
        print("  (a CPU share well below 100 % means other processes competed for the cores: the ratio is then machine-bound)")


if __name__ == "__main__":
    sys.exit(main())
