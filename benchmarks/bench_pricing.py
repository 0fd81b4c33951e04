"""Completion hulls of the milp's pricing: the incremental kernel (formulations/completion_hulls.py)
against the reference that hulls every translated point at once (tests/formulations/hull_oracle.py),
both compiled, at the duals of a real column generation (20 rounds from the greedy start) on
``chaincomp generate bloom`` instances with RIPE Atlas RTTs. Median over repeats, one run.

    python benchmarks/bench_pricing.py             # J = 40 (η 0.2, λ 2.4) and J = 100 (η 0.2, λ 4)
    python benchmarks/bench_pricing.py --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numba  # noqa: E402

from chaincomp.formulations.column_generation import _column_generation  # noqa: E402
from chaincomp.formulations.common import chain_segments, greedy_start, segments  # noqa: E402
from chaincomp.formulations.completion_hulls import completion_hulls  # noqa: E402
from chaincomp.formulations.master import _Master  # noqa: E402
from chaincomp.formulations.pricing import Pricer  # noqa: E402
from chaincomp.instances.generators import generate_problem  # noqa: E402
from chaincomp.instances.network import load_network  # noqa: E402
from tests.formulations.hull_oracle import completion_hulls_reference  # noqa: E402

reference = numba.njit(cache=False)(completion_hulls_reference)


def duals_after_rounds(problem, rounds: int):
    segs = segments(problem)
    pricer = Pricer(problem, segs)
    master = _Master(problem, segs, "job-servers")
    g = greedy_start(problem)
    for _c, pl, al in g.candidates:
        for ch in al.chains:
            master.add_chain(chain_segments(segs, pl, ch), ch.service_time_s)
    _column_generation(master, pricer, True, time.perf_counter() + 600, max_rounds=rounds)
    return pricer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rtt-data", default=str(ROOT.parent / "shared" / "data" / "ripe_atlas_eu_rtt.csv"))
    args = ap.parse_args()
    net = load_network(args.rtt_data) if Path(args.rtt_data).exists() else load_network(None)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'instance':>16} {'reference s':>12} {'incremental s':>14} {'speed-up':>9} {'hull points Q(0)':>17}")
    for J, rate in ((40, 2.4), (100, 4.0)):
        p = generate_problem("bloom", seed=40, index=0, network=net, servers=J, eta=0.2, rate=rate)
        pr = duals_after_rounds(p, 20)
        args_ = (pr.price, pr.tau_c, pr.tau_p, pr.bmax, pr.tmin, pr.pmin, pr.J, pr.L, 256)
        reference(*args_), completion_hulls(*args_)  # compile
        times = {}
        for name, fn in (("reference", reference), ("incremental", completion_hulls)):
            ts = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                out = fn(*args_)
                ts.append(time.perf_counter() - t)
            times[name] = statistics.median(ts)
        print(f"{f'J{J} λ{rate:g}':>16} {times['reference']:>12.4f} {times['incremental']:>14.4f} "
              f"{times['reference'] / times['incremental']:>8.1f}× {int(out[2][0]):>17}")


if __name__ == "__main__":
    main()
