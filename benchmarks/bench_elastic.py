"""Elastic re-composition benchmark (issue 11 goals; numbers in docs/elastic.md and the README).

1. single failure: BLOOM regime, 40 servers (η = 0.2, λ = 1.5, RIPE Atlas RTTs, seeds 1..S — the
   instances of `chaincomp generate bloom --servers 40 --eta 0.2 --rate 1.5 --seed s --rtt-data …`);
   fail each server of the fastest chain; recompose wall time (median of --repeats, warm), whether it
   meets λ/ρ̄, its Theorem-4 lower bound / the from-scratch re-plan's, its reloaded blocks / the
   from-scratch re-plan's (also / the matched from-scratch plan's).
2. day: a 24-window diurnal λ(t) (Azure trace shape, peak = the design's λ) + 10 % churn over 86 400 s,
   simulated for the four policies (none, scratch, recompose, petals): total reload, mean / P99
   response, jobs lost, thrash.
3. noise: λ = 1.5·(1 ± 10 %) in 48 windows, no other events: design changes of recompose
   (hysteresis 0.02 and 0) and of from-scratch re-planning.

Run: python benchmarks/bench_elastic.py [--quick] [--seeds 5] [--repeats 5] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from chaincomp.elastic import generators as g
from chaincomp.elastic.events import Event, Timeline, apply_event
from chaincomp.elastic.recompose import RecomposeOptions, recompose, recompose_timeline
from chaincomp.elastic.timeline_sim import simulate_timeline
from chaincomp.heuristics.pipeline import solve_greedy
from chaincomp.instances.generators import generate_problem

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def design(seed: int, data: Path):
    p = generate_problem("bloom", seed=seed, servers=40, eta=0.2, rate=1.5, rtt_data=data / "ripe_atlas_eu_rtt.csv")
    return solve_greedy(p)


def single_failure(seeds, repeats, data):
    print("== 1. one of 40 servers fails (a server of the fastest chain) ==")
    print(f"{'seed':>4} {'server':>6} {'wall ms':>8} {'meets':>5} {'cand':>22} {'Ω/Ωscratch':>10} "
          f"{'blocks':>6} {'scratch':>7} {'ratio':>6} {'matched-scratch':>15}")
    rows = []
    for seed in seeds:
        sol = design(seed, data)
        recompose(sol, apply_event(sol.problem, Event(0, "fail", sol.problem.server_ids[0])))  # warm numba
        for j in sol.allocation.chains[0].servers:
            sid = sol.problem.server_ids[j]
            ev = Event(0, "fail", sid)
            newp = apply_event(sol.problem, ev)
            walls = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                step = recompose(sol, newp, event=ev)
                walls.append(time.perf_counter() - t0)
            d = step.to_dict()
            fs = d["from_scratch"]
            c_fs = step.from_scratch_solution.parameters["cache_reservation"]
            matched = next(c for c in step.candidates if c.name == f"gbp-cr c={c_fs} matched")
            ratio_r = d["response_time_lower_s"] / fs["response_time_lower_s"]
            ratio_b = d["reloaded_blocks"] / fs["reloaded_blocks"] if fs["reloaded_blocks"] else float("nan")
            ratio_m = d["reloaded_blocks"] / matched.cost.reloaded_blocks if matched.cost.reloaded_blocks else float("nan")
            w = statistics.median(walls)
            rows.append((w, d["meets_target"], ratio_r, ratio_b, ratio_m))
            print(f"{seed:>4} {sid:>6} {w * 1000:>8.0f} {str(d['meets_target']):>5} {d['candidate']:>22} {ratio_r:>10.4f} "
                  f"{d['reloaded_blocks']:>6} {fs['reloaded_blocks']:>7} {ratio_b:>6.3f} {ratio_m:>15.3f}")
    n = len(rows)
    print(f"cases {n}: wall median {statistics.median(r[0] for r in rows) * 1000:.0f} ms, max {max(r[0] for r in rows) * 1000:.0f} ms; "
          f"meets λ/ρ̄ {sum(r[1] for r in rows)}/{n}; Ω within 5 % {sum(r[2] <= 1.05 for r in rows)}/{n} "
          f"(max ratio {max(r[2] for r in rows):.4f}); reload ≤ 20 % of from-scratch {sum(r[3] <= 0.2 for r in rows)}/{n} "
          f"(median {statistics.median(r[3] for r in rows):.3f}, max {max(r[3] for r in rows):.3f})")


def day(seed, data, horizon, windows, petals_period, peak=None):
    print(f"== 2. diurnal λ(t) (Azure shape, {windows} windows, peak {peak or 'the design λ'}) + 10 % churn over {horizon:g} s ==")
    sol = design(seed, data)
    tl = g.merge(g.churn(sol.problem, horizon, 0.1, seed=seed),
                 g.diurnal(sol.problem, horizon, windows, peak_rate=peak, seed=seed, data_dir=data))
    print(f"seed {seed}: {len(tl.events)} events ({sum(e.kind != 'rate' for e in tl.events)} churn)")
    t0 = time.perf_counter()
    rep = simulate_timeline(sol, tl, seed=seed, petals_period_s=petals_period)
    print(f"simulated in {time.perf_counter() - t0:.1f} s, {rep['simulation']['jobs']} jobs per policy")
    print(f"{'policy':>10} {'mean s':>7} {'P99 s':>7} {'lost':>5} {'dropped':>7} {'unfin':>5} {'reload GB':>9} {'thrash':>6} {'changes':>7}")
    tot = {}
    for p in rep["policies"]:
        t = p["total"]
        tot[p["policy"]] = t
        print(f"{p['policy']:>10} {t['mean_response_s']:>7.3f} {t['p99_response_s']:>7.2f} {t['jobs_lost']:>5} "
              f"{t['jobs_dropped_by_replan']:>7} {t['unfinished']:>5} {t['reload_gb']:>9.1f} {t['thrash_blocks']:>6} {t['design_changes']:>7}")
    r, s = tot["recompose"], tot["scratch"]
    print(f"recompose / scratch: reload {r['reload_gb'] / s['reload_gb']:.3f}, mean response {r['mean_response_s'] / s['mean_response_s']:.4f}")
    # predicted (Theorem-4) view over the same timeline, without simulation noise
    steps = recompose_timeline(sol, tl)
    pr = sum(st.solution.metrics["response_time_lower_s"] or 0 for st in steps) / len(steps)
    pf = sum(st.from_scratch_solution.metrics["response_time_lower_s"] or 0 for st in steps) / len(steps)
    rb = sum(st.chosen.cost.reloaded_blocks for st in steps)
    fb = sum(st.from_scratch.cost.reloaded_blocks for st in steps)
    print(f"predicted over the {len(steps)} steps: mean Ω recompose {pr:.3f} s vs from-scratch {pf:.3f} s "
          f"(ratio {pr / pf:.4f}); blocks reloaded {rb} vs {fb} (ratio {rb / fb:.3f}; each step's from-scratch "
          f"re-plan compared with the design recompose held)")


def noise(seed, data, windows):
    print(f"== 3. λ = 1.5·(1 ± 10 %) in {windows} windows, no other events ==")
    sol = design(seed, data)
    tl = g.diurnal(sol.problem, 3600.0 * windows, windows, peak_rate=1.5, shape="sine", trough=1.0, noise=0.1, seed=seed)
    for delta, h in ((1e-3, 0.02), (1e-3, 0.0), (0.0, 0.02), (0.0, 0.0)):
        steps = recompose_timeline(sol, tl, RecomposeOptions(delta=delta, hysteresis=h))
        changes = sum(bool(s.chosen.cost.moved_servers) for s in steps)
        print(f"recompose δ {delta:g}, hysteresis {h:g}: {changes} design changes in {len(steps)} rate events; "
              f"blocks reloaded {sum(s.chosen.cost.reloaded_blocks for s in steps)}")
    cur = sol.problem
    prev = None
    scratch_changes = 0
    for ev in tl.events:
        cur = apply_event(cur, ev)
        from chaincomp.elastic.recompose import from_scratch_design

        pl, _, _, _ = from_scratch_design(cur)
        key = (pl.first_block.tobytes(), pl.num_blocks.tobytes())
        scratch_changes += prev is not None and key != prev
        prev = key
    print(f"from-scratch re-planning: {scratch_changes} placement changes in {len(tl.events) - 1} transitions")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--petals-period", type=float, default=600.0)
    ap.add_argument("--only", choices=["failure", "day", "noise"], default=None)
    ap.add_argument("--peak", type=float, default=None, help="day: peak λ (default the design's λ = 1.5)")
    a = ap.parse_args()
    if a.only:
        {"failure": lambda: single_failure(range(1, a.seeds + 1), a.repeats, a.data),
         "day": lambda: day(1, a.data, 86400.0, 24, a.petals_period, a.peak), "noise": lambda: noise(1, a.data, 48)}[a.only]()
        return
    if a.quick:
        single_failure([1], 1, a.data)
        day(1, a.data, 7200.0, 4, None)
        noise(1, a.data, 6)
        return
    single_failure(range(1, a.seeds + 1), a.repeats, a.data)
    day(1, a.data, 86400.0, 24, a.petals_period)
    noise(1, a.data, 48)


if __name__ == "__main__":
    main()
