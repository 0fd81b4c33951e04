"""Benchmark of the exact BPCA method (``milp``) on BLOOM-like random instances (SPEC §6.1 scaled).

For each J × L: the first seed whose greedy (GBP-CR + GCA over every c) is feasible, then
``milp`` with HiGHS and a wall-clock limit. Printed per size: model size (of the last integer model,
or of the LP master when the bound closed the gap), status, time to proved optimality or the gap at
the limit, the incumbent, the bound, and the greedy's gap to the best bound.

    python benchmarks/bench_milp.py            # 4×4 … 40×70, 60 s each (≈ 6 min)
    python benchmarks/bench_milp.py --quick    # 4×4 and 6×6, 10 s each (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from milp_instances import bloom_like  # noqa: E402

from chaincomp import methods  # noqa: E402
from chaincomp.core.verify import assert_valid  # noqa: E402
from chaincomp.formulations.common import greedy_start  # noqa: E402

SIZES = [(4, 4), (6, 6), (8, 8), (10, 10), (20, 16), (40, 70)]
HIGH_LOAD = (40, 70, 0.8)  # extra row: λ = 0.8 (instead of 0.5) × ρ̄ × the greedy's best ν — SPEC §6.1's busy regime


def run(J: int, L: int, limit: float, fraction: float = 0.5) -> dict:
    for seed in range(50):
        p = bloom_like(J, L, seed, fraction=fraction)
        g = greedy_start(p)
        if g is not None:
            break
    t = time.perf_counter()
    sol = methods.run("milp", p, time_limit_s=limit)
    wall = time.perf_counter() - t
    assert_valid(sol)
    s = sol.solver
    value, bound = sol.metrics["job_servers"], s["bound"]
    return {
        "size": f"{J}x{L}" + ("" if fraction == 0.5 else f"@{fraction}"), "seed": seed, "rows": s["rows"], "columns": s["columns"], "integers": s["integers"],
        "status": s["status"], "proved": s["proved_optimal"], "time_s": round(wall, 2), "milp": value,
        "bound": bound, "gap": s["gap"], "greedy": g.job_servers,
        "greedy_gap": (g.job_servers - bound) / g.job_servers if bound is not None else None,
        "lp_bound": s.get("lp_bound"), "cg_columns": s["phases"].get("columns"),
        "lp_converged": s.get("lp_converged"), "colgen_s": s["phases"].get("colgen_s"),
        "cg_early": s["phases"].get("colgen_stopped_early"),
        "incumbent_source": s.get("incumbent_source"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sizes = SIZES[:2] if args.quick else SIZES
    limit = args.time_limit or (10.0 if args.quick else 60.0)
    rows = []
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'J×L':>10} {'seed':>4} {'rows':>6} {'cols':>6} {'ints':>6} {'status':>11} {'time s':>7} "
          f"{'milp':>5} {'bound':>6} {'gap':>6} {'greedy':>6} {'greedy gap':>10}")
    cases = [(J, L, 0.5) for J, L in sizes] + ([] if args.quick else [HIGH_LOAD])
    for J, L, fraction in cases:
        r = run(J, L, limit, fraction)
        rows.append(r)
        gap = "—" if r["gap"] is None else f"{100 * r['gap']:.1f}%"
        ggap = "—" if r["greedy_gap"] is None else f"{100 * r['greedy_gap']:.1f}%"
        print(f"{r['size']:>10} {r['seed']:>4} {r['rows']!s:>6} {r['columns']!s:>6} {r['integers']!s:>6} "
              f"{r['status']:>11} {r['time_s']:>7} {r['milp']:>5} {r['bound']!s:>6} {gap:>6} {r['greedy']:>6} {ggap:>10}",
              flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for r in rows:
        print(f"  {r['size']}: LP bound {r['lp_bound']}, column generation "
              f"{'converged' if r['lp_converged'] else 'stopped early (rounded bound final)' if r['cg_early'] else 'not converged'}"
              f" in {r['colgen_s']:.2f} s "
              f"({r['cg_columns']} columns); incumbent from {r['incumbent_source']}")
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
