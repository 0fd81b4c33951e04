"""Speed of the issue-13 pieces: HF config import, PETALS export, calibration fits.

    python benchmarks/bench_models.py            # 7 repeats
    python benchmarks/bench_models.py --quick    # 3 repeats, 20 000 calibration rows

Timed (medians over repeats, wall clock, in-process — no CLI start-up):
* ``read_hf_config`` of the Mixtral-8x7B config (per call, averaged over 1000 calls);
* ``petals_export`` of the greedy design of the embedded ``bloom-j20`` example;
* ``calibrate`` on N synthetic rows (6 servers, 2 GPU types; CSV parse + fits + cluster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chaincomp import methods  # noqa: E402
from chaincomp.calibrate import calibrate  # noqa: E402
from chaincomp.export import petals_export  # noqa: E402
from chaincomp.instances.examples import load_example  # noqa: E402
from chaincomp.instances.hf import read_hf_config  # noqa: E402
from tests.calibrate.synth import rows, write  # noqa: E402
from tests.instances.test_hf_import import MIXTRAL_8X7B  # noqa: E402


def median_time(fn, repeats):
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rows", type=int, default=None)
    args = ap.parse_args()
    repeats = 3 if args.quick else 7
    n = args.rows or (20_000 if args.quick else 100_000)
    t = median_time(lambda: [read_hf_config(MIXTRAL_8X7B) for _ in range(1000)], repeats) / 1000
    print(f"read_hf_config (Mixtral-8x7B): {t * 1e6:.1f} µs per config")
    sol = methods.get("greedy").func(load_example("bloom-j20"), cache_reservation=7)
    t = median_time(lambda: petals_export(sol), repeats)
    print(f"petals_export (bloom-j20, {len(petals_export(sol).servers)} servers): {t * 1e3:.2f} ms")
    with tempfile.TemporaryDirectory() as d:
        path = write(Path(d) / "m.csv", rows(n, noise=0.05, seed=0))
        t = median_time(lambda: calibrate(path), repeats)
    print(f"calibrate ({n} rows): {t:.3f} s ({n / t / 1e3:.0f} k rows/s)")


if __name__ == "__main__":
    main()
