"""Task grids, ids, manifests and the JSONL store (no workers started here)."""

from __future__ import annotations

import json

import pytest
from batchutil import write_instances

from chaincomp.batch import tasks as tk
from chaincomp.batch.manifest import load_manifest
from chaincomp.batch.store import ResultStore, comparable, export_csv, read_records
from chaincomp.errors import UsageError


def test_grid_size_and_order(tmp_path):
    write_instances(tmp_path / "inst", 3)
    refs = tk.resolve_instances([tmp_path / "inst"])
    grid = tk.parse_param_options(["c=auto,3", "tune=lower,upper"])
    tasks = tk.expand_grid(refs, ["greedy", "random"], grid, tk.parse_seeds("0-2"))
    assert len(tasks) == 3 * 2 * 4 * 3
    assert len({t.task_id for t in tasks}) == len(tasks)
    assert [t.seed for t in tasks[:3]] == [0, 1, 2]
    assert tasks[0].param_dict == {"cache_reservation": "auto", "tune": "lower"}


def test_task_id_depends_on_content_not_path(tmp_path):
    (a,) = write_instances(tmp_path / "a", 1)
    b = tmp_path / "b.json"
    b.write_text(a.read_text())
    c = tmp_path / "c.json"
    c.write_text(a.read_text().replace('"rand-0"', '"renamed"'))
    ids = [tk.expand_grid(tk.resolve_instances([p]), ["greedy"], {"c": [3]}, [0])[0].task_id for p in (a, b, c)]
    assert ids[0] == ids[1] != ids[2]
    # parameter order and aliases do not matter; values and seeds do
    ref = tk.resolve_instances([a])
    t1 = tk.make_task(ref[0], "greedy", {"c": 3, "tune": "upper"}, 0, None)
    t2 = tk.make_task(ref[0], "greedy", {"tune": "upper", "cache_reservation": 3}, 0, None)
    t3 = tk.make_task(ref[0], "greedy", {"tune": "upper", "cache_reservation": 3}, 1, None)
    assert t1.task_id == t2.task_id != t3.task_id


def test_parsers():
    assert tk.parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    assert tk.parse_seeds(None) == [0]
    assert tk.parse_seeds([4, 5]) == [4, 5]
    with pytest.raises(UsageError):
        tk.parse_seeds("3-1")
    assert tk.parse_param_options(["time_limit=60", "mip_gap=0.01", "solver=highs,gurobi"]) == {
        "time_limit_s": [60],
        "mip_gap": [0.01],
        "solver": ["highs", "gurobi"],
    }
    with pytest.raises(UsageError):
        tk.parse_param_options(["oops"])


def test_missing_sources_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        tk.resolve_instances([tmp_path / "nope.json"])
    with pytest.raises(UsageError, match="matches no file"):
        tk.resolve_instances([str(tmp_path / "*.json")])


def test_effective_timeout():
    assert tk.effective_timeout(None, {}) is None
    assert tk.effective_timeout(None, {"time_limit_s": 10}) == 80.0
    assert tk.effective_timeout(5, {"time_limit_s": 10}) == 5.0


def test_toml_and_json_manifests(tmp_path):
    write_instances(tmp_path / "set", 2)
    (tmp_path / "study.toml").write_text(
        """
instances = ["set/*.json"]
seeds = "0-1"
providers = ["extra.py"]
out = "res.jsonl"

[[runs]]
methods = ["greedy"]
params = { c = ["auto", 4], tune = "upper" }

[[runs]]
methods = ["random", "jffc-only"]
seeds = [7]
"""
    )
    mf = load_manifest(tmp_path / "study.toml")
    assert len(mf.tasks) == 2 * 2 * 2 + 2 * 2 * 1
    assert mf.out == tmp_path / "res.jsonl"
    assert mf.providers == [str(tmp_path / "extra.py")]
    assert {t.param_dict.get("tune") for t in mf.tasks if t.method == "greedy"} == {"upper"}
    (tmp_path / "study.json").write_text(json.dumps({"instances": ["set"], "methods": ["greedy"], "params": {"c": [3, 3]}}))
    mf2 = load_manifest(tmp_path / "study.json")
    assert len(mf2.tasks) == 2  # the duplicate grid point runs once
    (tmp_path / "bad.toml").write_text('instances = ["set"]\nmethod = "greedy"\n')
    with pytest.raises(UsageError, match="unknown key"):
        load_manifest(tmp_path / "bad.toml")


def test_store_resume_drops_partial_line_and_keeps_latest(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultStore(path, "new") as st:
        st.append({"task_id": "a", "status": "failed", "wall_time_s": 1.0})
        st.append({"task_id": "b", "status": "ok", "wall_time_s": 2.0})
    with pytest.raises(UsageError, match="already exists"):
        ResultStore(path, "new").open()
    with open(path, "a") as fh:
        fh.write('{"task_id": "c", "sta')  # a kill in the middle of a write
    with ResultStore(path, "resume") as st:
        assert st.dropped_partial
        assert set(st.existing) == {"a", "b"}
        st.append({"task_id": "a", "status": "ok", "wall_time_s": 3.0})
    recs = read_records(path)
    assert [(r["task_id"], r["status"]) for r in recs] == [("a", "ok"), ("b", "ok")]
    assert len(read_records(path, latest=False)) == 3
    assert comparable({"task_id": "a", "wall_time_s": 1, "solution": {"provenance": {"wall_time_s": 2, "seed": 0}}}) == {
        "task_id": "a",
        "solution": {"provenance": {"seed": 0}},
    }
    assert export_csv(recs, tmp_path / "r.csv") == 2
    assert (tmp_path / "r.csv").read_text().splitlines()[0].startswith("task_id,instance")


def test_store_lock_excludes_second_writer(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultStore(path, "new"):
        with pytest.raises(UsageError, match="another batch"):
            ResultStore(path, "resume").open()
