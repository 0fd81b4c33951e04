"""Zero-wrong-answers sweep of the milp against the exact rational brute force (issue 10 item 1).

Tiny instances of six kinds — random, busy (λ × 3), exact slot boundaries (M = s_m·m + s_c·k in
decimals), exact ties (λ/ρ̄ = n/T*), near ties (λ/ρ̄ = (n/T*)(1 ± δ), δ = 1e-6…1e-10; T* the fastest
usable chain) and infeasible (λ × 50). For each: the exact optimum (tests/formulations/exact_bruteforce.py)
vs the milp's outcome. A *wrong answer* is a proved claim that is not the optimum, a design failing the
exact check, a bound above the optimum, or a feasible instance called infeasible.

    python benchmarks/check_milp_exact.py --count 200 --seed 1
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chaincomp import methods  # noqa: E402
from chaincomp.core.exact import check  # noqa: E402
from chaincomp.errors import InfeasibleInstance, NoDesignFound  # noqa: E402
from chaincomp.problem import Problem  # noqa: E402
from tests.formulations.exact_bruteforce import exact_brute_force, fastest_chain_time  # noqa: E402

KINDS = ("random", "busy", "slots", "tie", "near", "infeasible")


MAX_J, MAX_L = 4, 3


def instance(rng, kind: str, i: int) -> Problem | None:
    J, L = int(rng.integers(2, MAX_J + 1)), int(rng.integers(2, MAX_L + 1))
    s_m, s_c = 1.0, float(rng.choice([0.1, 0.25, 0.2]))
    blocks = rng.integers(1, L + 1, J)
    if kind == "slots":  # exact decimal slot boundaries
        memory = np.array([float(f"{b * s_m + k * s_c:.10g}") for b, k in zip(blocks, rng.integers(1, 2 * L + 2, J))])
    else:
        memory = s_m * blocks + s_c * rng.integers(1, 2 * L + 2, J) + rng.choice([0.0, 0.05], J)
    tau_c = rng.uniform(0.2, 1.0, J).round(3)
    tau_p = rng.uniform(0.1, 0.6, J).round(3)
    T = L * float(np.median(tau_p)) + 2 * float(np.median(tau_c))
    lam = 0.7 * rng.uniform(1.0, 4.0) / T
    p = Problem(tuple(f"s{j}" for j in range(J)), memory, tau_c, tau_p, L, s_m, s_c, lam, 0.7, name=f"{kind}-{i}")
    if kind == "busy":
        return replace(p, arrival_rate=lam * 3)
    if kind == "infeasible":
        return replace(p, arrival_rate=lam * 50)
    if kind in ("tie", "near"):
        Ts = fastest_chain_time(p)
        if Ts is None:
            return None
        n = int(rng.integers(1, 4))
        rel = Fraction(0) if kind == "tie" else Fraction(float(rng.choice([1, -1]) * rng.choice([1e-6, 1e-7, 1e-8, 1e-9, 1e-10])))
        return replace(p, arrival_rate=float(Fraction(n) / Ts * (1 + rel) * Fraction(7, 10)))
    return p


def judge(p, limit):
    truth = exact_brute_force(p)
    try:
        sol = methods.run("milp", p, time_limit_s=limit)
    except InfeasibleInstance:
        return ("infeasible", None if truth is None else f"feasible (optimum {truth}) called infeasible")
    except NoDesignFound:
        return ("no_design", None)
    res = check(p, sol.placement, sol.allocation)
    if not res.feasible:
        return ("design", "design fails the exact check")
    if truth is None:
        return ("design", "a design on an instance the oracle calls infeasible")
    s, value = sol.solver, sol.allocation.total_capacity
    if s["bound"] is not None and s["bound"] > truth:
        return (s["status"], f"bound {s['bound']} > optimum {truth}")
    if s["proved_optimal"] or s["status"] == "optimal":
        if value != truth:
            return ("optimal", f"proved {value}, optimum {truth}")
    return (s["status"], None)


def main() -> None:
    global MAX_J, MAX_L
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--max-servers", type=int, default=4, help="J is drawn from 2..this (5: slower oracle)")
    ap.add_argument("--max-blocks", type=int, default=3, help="L is drawn from 2..this")
    a = ap.parse_args()
    MAX_J, MAX_L = a.max_servers, a.max_blocks
    rng = np.random.default_rng(a.seed)
    tally: dict = collections.defaultdict(collections.Counter)
    wrong = []
    t0 = time.perf_counter()
    i = 0
    while sum(sum(c.values()) for c in tally.values()) < a.count:
        kind = KINDS[i % len(KINDS)]
        p = instance(rng, kind, i)
        i += 1
        if p is None:
            continue
        outcome, error = judge(p, a.time_limit)
        tally[kind][outcome] += 1
        if error:
            wrong.append((p.name, error))
            print(f"WRONG {p.name}: {error}", flush=True)
        elif outcome not in ("optimal", "infeasible"):
            print(f"undecided {p.name}: {outcome}", flush=True)
    for kind in KINDS:
        print(f"{kind:>10}: " + ", ".join(f"{k} {v}" for k, v in sorted(tally[kind].items())))
    print(f"{a.count} instances, {len(wrong)} wrong answers, {time.perf_counter() - t0:.0f} s")
    raise SystemExit(1 if wrong else 0)


if __name__ == "__main__":
    main()
