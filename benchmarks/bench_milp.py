"""Benchmark of the exact BPCA method (``milp``) on BLOOM-like random instances (SPEC §6.1 scaled).

For each J × L: the first seed whose greedy (GBP-CR + GCA over every c) is feasible, then
``milp`` with HiGHS and a wall-clock limit. Printed per size: model size (of the last integer model,
or of the LP master when the bound closed the gap), status, time to proved optimality or the gap at
the limit, the incumbent, the bound, and the greedy's gap to the best bound.

    python benchmarks/bench_milp.py            # 4×4 … 40×70, 60 s each (≈ 6 min)
    python benchmarks/bench_milp.py --quick    # 4×4 and 6×6, 10 s each (CI)

``--family bloom``: the issue-10 family — ``chaincomp generate bloom`` instances with RIPE Atlas RTTs
(J = 40, η = 0.2, λ ∈ {1, 1.5, 2, 2.4}; J = 60, η = 0.3, λ = 3; ``--count`` instances each, base
``--seed``; J = 100, η = 0.2, λ ∈ {2, 4}, one each). Per instance: the best-c greedy (GBP-CR + GCA),
the milp's design, its valid bound, the gap, the wall time and the primal integral
PI = ∫₀ᵀ (v(t) − v*)/v(t) dt (seconds; v(t) = incumbent at time t, v* = the final incumbent; 0 when
the final design was known at once), from ``ColgenResult.history``. Every design is verified.

    python benchmarks/bench_milp.py --family bloom --time-limit 60            # ≈ 17 instances × 60 s
    python benchmarks/bench_milp.py --family bloom --quick                    # 2 instances, 10 s each
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout's chaincomp

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


RTT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ripe_atlas_eu_rtt.csv"


def bloom_family(seed: int, count: int, quick: bool) -> list[tuple[str, dict, int]]:
    """(label, generator params, index) of the issue-10 BLOOM family (see the module docstring)."""
    if quick:
        return [("J40 λ2.4", dict(servers=40, eta=0.2, rate=2.4), 0), ("J40 λ1.5", dict(servers=40, eta=0.2, rate=1.5), 0)]
    out = []
    for rate in (1.0, 1.5, 2.0, 2.4):
        out += [(f"J40 λ{rate:g}", dict(servers=40, eta=0.2, rate=rate), i) for i in range(count)]
    out += [("J60 λ3", dict(servers=60, eta=0.3, rate=3.0), i) for i in range(count)]
    out += [(f"J100 λ{rate:g}", dict(servers=100, eta=0.2, rate=rate), 0) for rate in (2.0, 4.0)]
    return out


def run_family(args) -> None:
    from chaincomp import methods
    from chaincomp.instances.generators import generate_problem
    from chaincomp.instances.network import load_network

    limit = args.time_limit or (10.0 if args.quick else 60.0)
    net = load_network(args.rtt_data)
    rows = []
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; threads={args.threads}; "
          f"time limit {limit:g} s; base seed {args.seed}")
    print(f"{'instance':>14} {'idx':>3} {'greedy':>6} {'milp':>5} {'bound':>5} {'gap':>6} {'time s':>6} "
          f"{'PI s':>6} {'source':>22} {'status':>10}")
    for label, params, index in bloom_family(args.seed, args.count, args.quick):
        p = generate_problem("bloom", seed=args.seed, index=index, network=net, **params)
        t = time.perf_counter()
        sol = methods.run("milp", p, time_limit_s=limit, threads=args.threads, seed=0)  # as `chaincomp solve` runs it
        wall = time.perf_counter() - t
        assert_valid(sol)
        sv = sol.solver
        value, bound = sv["objective"], sv["bound"]
        gap = None if value is None or bound is None else (value - bound) / value
        pi = sv.get("primal_integral_s")
        row = {"instance": label, "index": index, "seed": args.seed, "J": p.num_servers, "L": p.num_blocks,
               "greedy": sv.get("greedy_objective"), "milp": value, "bound": bound, "gap": gap, "time_s": round(wall, 2),
               "primal_integral_s": None if pi is None else round(pi, 2), "status": sv["status"],
               "incumbent_source": sv.get("incumbent_source", ""), "lp_bound": sv.get("lp_bound"),
               "lp_converged": sv.get("lp_converged"), "history": sv.get("history")}
        rows.append(row)
        g = "—" if gap is None else f"{100 * gap:.1f}%"
        print(f"{label:>14} {index:>3} {row['greedy']!s:>6} {value!s:>5} {bound!s:>5} {g:>6} {wall:>6.1f} "
              f"{'—' if pi is None else f'{pi:.1f}':>6} {row['incumbent_source'][:22]:>22} {row['status']:>10}", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    gaps = [r["gap"] for r in rows if r["gap"] is not None]
    beaten = sum(1 for r in rows if r["milp"] is not None and r["greedy"] is not None and r["milp"] < r["greedy"])
    no_greedy = sum(1 for r in rows if r["milp"] is not None and r["greedy"] is None)
    print(f"worst gap {100 * max(gaps):.1f}%, median {100 * sorted(gaps)[len(gaps) // 2]:.1f}%; "
          f"greedy beaten on {beaten}/{len(rows)}" + (f" (+ a design on {no_greedy} where the greedy has none)"
                                                      if no_greedy else "")
          + f"; proved optimal on {sum(r['status'] == 'optimal' for r in rows)}")
    if args.json:
        print(json.dumps(rows, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--family", choices=["sizes", "bloom"], default="sizes",
                    help="sizes: the seeded J×L ladder (default); bloom: the issue-10 BLOOM/RIPE family")
    ap.add_argument("--seed", type=int, default=40, help="bloom: base seed of `chaincomp generate` (default 40)")
    ap.add_argument("--count", type=int, default=3, help="bloom: instances per (J, λ) (default 3)")
    ap.add_argument("--threads", type=int, default=1, help="solver threads (default 1)")
    ap.add_argument("--rtt-data", default=str(RTT_DATA), help="RIPE Atlas RTT CSV")
    args = ap.parse_args()
    if args.family == "bloom":
        run_family(args)
        return
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
