"""Random sweep of issue 10's regime through the CLI: does `chaincomp solve --method milp` keep its
promises on instances nobody tuned for?

Each instance: `chaincomp generate bloom` with J ∈ [40, 60], η ∈ [0.2, 0.3], λ ∈ [0.6, 3.2]·J/40
(light to beyond the family's busiest, λ = 2.4 at J = 40), RIPE Atlas RTTs, a random seed; then
`chaincomp solve --instance F --method milp --time-limit T --json` in a fresh process. Checked per
instance: exit code 0 (a design) or 3 (no design, with the JSON outcome and its bound) — anything else,
a traceback on stderr, or a wall time (measured around the whole process, start-up included — the
CLI's limit covers it) above T + 5 % is flagged BAD. Printed: one JSON line per instance, then a summary.

    python benchmarks/sweep_milp_regime.py --count 14 --time-limit 20 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "chaincomp.cli"]


def one(i: int, rng: random.Random, limit: float, workdir: Path) -> dict:
    J = rng.randint(40, 60)
    eta = round(rng.uniform(0.2, 0.3), 2)
    lam = round(rng.uniform(0.6, 3.2) * J / 40, 2)
    seed = rng.randint(1000, 99999)
    out = workdir / str(i)
    subprocess.run([*CLI, "generate", "bloom", "--servers", str(J), "--eta", str(eta), "--rate", str(lam),
                    "--seed", str(seed), "--rtt-data", "ripe_atlas_eu_rtt.csv", "--out", str(out)],
                   check=True, capture_output=True)
    instance = sorted(out.glob("*.json"))[0]
    t = time.perf_counter()
    proc = subprocess.run([*CLI, "solve", "--instance", str(instance), "--method", "milp", "--time-limit", str(limit),
                           "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - t
    row = {"i": i, "J": J, "eta": eta, "lambda": lam, "seed": seed, "exit": proc.returncode, "wall_s": round(wall, 1)}
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        data = {}
    if proc.returncode == 0:
        s = data.get("solver", {})
        row.update({k: s.get(k) for k in ("status", "objective", "bound", "gap", "greedy_objective", "incumbent_source")})
    elif proc.returncode == 3:
        row.update(outcome=data.get("outcome"), bound=data.get("bound"))
    bad = ("Traceback" in proc.stderr or proc.returncode not in (0, 3) or wall > 1.05 * limit
           or (proc.returncode == 3 and data.get("outcome") != "no_design_found"))
    row["BAD"] = bad
    if bad:
        row["stderr"] = proc.stderr[-400:]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=14)
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.count):
            rows.append(one(i, rng, args.time_limit, Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
    designs = [r for r in rows if r["exit"] == 0]
    gaps = sorted(r["gap"] for r in designs if r.get("gap") is not None)
    beaten = sum(1 for r in designs if r.get("greedy_objective") is not None and r["objective"] < r["greedy_objective"])
    print(f"{len(rows)} instances: {len(designs)} designs, {sum(r['exit'] == 3 for r in rows)} no design (exit 3), "
          f"{sum(r['BAD'] for r in rows)} BAD; max wall {max(r['wall_s'] for r in rows):.1f} s "
          f"(limit {args.time_limit:g} s); gap median {gaps[len(gaps) // 2]:.1%} worst {gaps[-1]:.1%}; "
          f"greedy beaten on {beaten}/{len(designs)}" if gaps else "no designs")


if __name__ == "__main__":
    main()
