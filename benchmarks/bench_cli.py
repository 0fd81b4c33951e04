"""CLI start-up benchmark: median wall time of a fresh ``chaincomp`` process (what a user waits for
on every command and on every TAB once shell completion is installed).

    python benchmarks/bench_cli.py [--repeats N]

Measures, as subprocesses from the repository root: ``--version``, ``--help``, one completion
request (``chaincomp solve --example <TAB>``) and ``solve --example worked-example -c 1 --json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = "import sys; sys.argv=['chaincomp', *sys.argv[1:]]; from chaincomp.cli.app import main; main()"

CASES = {
    "--version": (["--version"], {}),
    "--help": (["--help"], {}),
    "completion (solve --example TAB)": ([], {"_CHAINCOMP_COMPLETE": "complete_zsh",
                                             "_TYPER_COMPLETE_ARGS": "chaincomp solve --example "}),
    "solve worked-example -c 1 --json": (["solve", "--example", "worked-example", "-c", "1", "--json"], {}),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    print(f"{'case':36s} {'median (s)':>10s} {'min (s)':>8s}   (repeats {args.repeats}, load {os.getloadavg()[0]:.1f})")
    for name, (argv, env) in CASES.items():
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", CODE, *argv], cwd=ROOT, capture_output=True,
                                  env={**os.environ, **env}, timeout=300)
            times.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                raise SystemExit(f"{name}: exit {proc.returncode}: {proc.stderr.decode()[-500:]}")
        print(f"{name:36s} {statistics.median(times):10.3f} {min(times):8.3f}")


if __name__ == "__main__":
    main()
