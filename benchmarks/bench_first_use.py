"""First use of ``chaincomp solve --method milp`` on a fresh install (issue 10 item 6).

Each repeat runs the CLI in a new process with an empty numba cache (``NUMBA_CACHE_DIR`` set to a
new temporary directory), as on a fresh install, and reports the median wall time. ``--modes``
compares ``CHAINCOMP_JIT=auto`` (tiny instances run the kernels' pure-Python originals) with
``always`` (compile every kernel, the behaviour before).

    python benchmarks/bench_first_use.py --repeats 5
    python benchmarks/bench_first_use.py --quick       # CI: one repeat, auto only
    python benchmarks/bench_first_use.py --example bloom-j20 --modes auto --time-limit 60 --repeats 3

With ``--time-limit`` the solve gets that limit; the compiled kernels of a non-tiny instance are then
compiled up front inside it (chaincomp/formulations/warmup.py), and the wall time shows whether the
limit held on first use.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def first_use(example: str, mode: str, time_limit: float | None = None) -> float:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "CHAINCOMP_JIT": mode}
        t = time.perf_counter()
        cmd = [sys.executable, "-m", "chaincomp.cli", "solve", "--example", example, "--method", "milp", "--json"]
        if time_limit is not None:
            cmd += ["--time-limit", f"{time_limit:g}"]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(f"solve failed ({proc.returncode}): {proc.stderr}")
        return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--example", default="worked-example")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--modes", default="auto,always")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--time-limit", type=float, default=None, help="the solve's --time-limit (default: its own)")
    a = ap.parse_args()
    modes = ["auto"] if a.quick else a.modes.split(",")
    reps = 1 if a.quick else a.repeats
    print(f"{'CHAINCOMP_JIT':>14} {'median s':>9} {'min s':>7} {'max s':>7}  (fresh numba cache, {reps} repeats, "
          f"load {os.getloadavg()[0]:.1f})")
    for mode in modes:
        walls = [first_use(a.example, mode, a.time_limit) for _ in range(reps)]
        print(f"{mode:>14} {statistics.median(walls):9.2f} {min(walls):7.2f} {max(walls):7.2f}")


if __name__ == "__main__":
    main()
