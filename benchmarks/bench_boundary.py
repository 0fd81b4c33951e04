"""Cost of the input boundary (chaincomp/io): reading + strict validation of instance files.

    python benchmarks/bench_boundary.py            # medians of 5 repeats

Measures, for the embedded bloom-j20 instance and a generated 5000-server instance (the documented
limit): read_json (regular-file check, UTF-8, strict JSON, depth check) and load_instance_dict
(strict pydantic schema, derivation, limit checks); and report's per-line checks on 10 000 records.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chaincomp.batch.store import MARKER_KEY, read_records  # noqa: E402
from chaincomp.instances.load import load_instance_dict, read_json  # noqa: E402
from chaincomp.io import files  # noqa: E402


def median_time(fn, repeats: int = 5) -> float:
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    bloom = json.loads((Path(__file__).resolve().parents[1] / "chaincomp/instances/examples/bloom-j20.json").read_text())
    big = json.loads(json.dumps(bloom))
    big["cluster"]["servers"] = [dict(bloom["cluster"]["servers"][j % 20], id=f"s{j}") for j in range(5000)]
    rows = []
    for name, doc in (("bloom-j20 (20 servers)", bloom), ("5000 servers", big)):
        f = tmp / "i.json"
        f.write_text(json.dumps(doc))
        t_read = median_time(lambda: read_json(f))
        t_load = median_time(lambda: load_instance_dict(read_json(f), str(f)))
        rows.append((name, f.stat().st_size, t_read, t_load))
    rec = {MARKER_KEY: 1, "task_id": "t", "status": "ok", "method": "greedy", "config": "greedy", "seed": 0,
           "solution": {"metrics": {"job_servers": 3, "total_capacity": 5}}, "wall_time_s": 0.1}
    jl = tmp / "r.jsonl"
    jl.write_text("\n".join(json.dumps({**rec, "task_id": f"t{i}"}) for i in range(10_000)) + "\n")
    t_report = median_time(lambda: read_records(jl))
    t_depth = median_time(lambda: files.json_depth(big))
    print("| input | bytes | read_json (ms) | read + validate + derive (ms) |")
    print("|---|---|---|---|")
    for name, size, a, b in rows:
        print(f"| {name} | {size} | {a * 1e3:.2f} | {b * 1e3:.2f} |")
    print(f"\nread_records of 10 000 JSONL lines with per-line checks: {t_report * 1e3:.1f} ms; "
          f"json_depth of the 5000-server document: {t_depth * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
