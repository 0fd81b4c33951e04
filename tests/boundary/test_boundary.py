"""The input/output boundary (chaincomp/io, docs/reliability.md): each rule checked directly."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from chaincomp.batch import tasks as tk
from chaincomp.batch.manifest import load_manifest
from chaincomp.batch.store import MARKER_KEY, ResultStore, comparable, read_records
from chaincomp.cli.app import app
from chaincomp.errors import InvalidInstance, OutputError, UsageError
from chaincomp.instances.load import load_instance_dict, read_json
from chaincomp.io import files, limits, output
from chaincomp.io.text import escape
from chaincomp.sim.arrivals import load_trace

WORKED = {
    "name": "w", "cluster": {"servers": [{"id": "j1", "memory_gb": 2.0, "tau_comm_s": 1.0, "tau_comp_s": 0.001},
                                         {"id": "j2", "memory_gb": 3.0, "tau_comm_s": 2.0, "tau_comp_s": 0.002}]},
    "model": {"num_blocks": 2, "block_size_gb": 1.0, "cache_size_gb": 0.1}, "workload": {"arrival_rate": 0.1},
}


def _with(path, value):
    doc = json.loads(json.dumps(WORKED))
    cur = doc
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return doc


def test_fifo_is_refused_before_open(tmp_path):
    fifo = tmp_path / "f.json"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInstance, match="FIFO"):
        read_json(fifo)  # would block forever if it were opened


@pytest.mark.parametrize("raw,msg", [
    (json.dumps({"a": 1}).encode("utf-16"), "UTF-16"),
    (b'{"a": "\xff"}', "byte 0xff at offset 7 is not UTF-8"),
    (b'{"a": Infinity}', "not valid JSON"),
    (b'{"a": NaN}', "not valid JSON"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    (b"[" * 100 + b"]" * 100, "nested 100 levels deep; the limit is 64"),
])
def test_bad_files_name_the_file_and_the_problem(tmp_path, raw, msg):
    p = tmp_path / "x.json"
    p.write_bytes(raw)
    with pytest.raises(InvalidInstance, match=msg) as exc:
        read_json(p)
    assert str(p) in str(exc.value)


def test_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "bom.json"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(WORKED).encode())
    assert read_json(p)["name"] == "w"


@pytest.mark.parametrize("path,value,msg", [
    (("cluster", "servers", 0, "memory_gb"), True, "expected a number"),
    (("cluster", "servers", 0, "memory_gb"), "1", "expected a number"),
    (("cluster", "servers", 0, "memory_gb"), 1e30, "≤ 100000"),
    (("model", "num_blocks"), 10**6, "≤ 1000"),
    (("model", "num_blocks"), 2.0, "expected an integer"),
    (("workload", "arrival_rate"), 1e300, "≤ 1000000000"),
    (("cluster", "servers", 0, "id"), "a\nb", "control characters"),
    (("cluster", "servers", 0, "id"), "\x1b[31mred", "control characters"),
    (("cluster", "servers", 0, "count"), 200_000, "≤ 100000"),
])
def test_strict_bounded_fields(path, value, msg):
    with pytest.raises(InvalidInstance, match=msg):
        load_instance_dict(_with(path, value), "x.json")


def test_zero_time_server_and_tiny_cache_are_refused():
    doc = _with(("cluster", "servers", 0, "tau_comm_s"), 0.0)
    doc["cluster"]["servers"][0]["tau_comp_s"] = 0.0
    with pytest.raises(InvalidInstance, match="τ\\^c \\+ τ\\^p = 0"):
        load_instance_dict(doc, "x.json")
    with pytest.raises(InvalidInstance, match="beyond the limit of 50000"):
        load_instance_dict(_with(("model", "cache_size_gb"), 1e-9), "x.json")


def test_server_id_markup_prints_literally(tmp_path):
    doc = _with(("cluster", "servers", 0, "id"), "[/]")
    f = tmp_path / "i.json"
    f.write_text(json.dumps(doc))
    res = CliRunner().invoke(app, ["solve", "--instance", str(f)])
    assert res.exit_code == 0, res.output
    assert "[/]" in res.output
    assert escape("a\x1bb[x]") == "a\\x1bb\\[x]"


def test_atomic_write_and_output_errors(tmp_path):
    target = tmp_path / "out.json"
    output.atomic_write(target, "one")
    output.atomic_write(target, "two")
    assert target.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temp file left
    with pytest.raises(OutputError, match="is a directory"):
        output.atomic_write(tmp_path, "x")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.geteuid() != 0:  # root ignores permission bits
            with pytest.raises(OutputError, match="cannot write"):
                output.atomic_write(ro / "x.json", "x")
    finally:
        ro.chmod(0o700)
    err = output.output_error(tmp_path / "x", OSError(28, "No space left on device"))
    assert err.exit_code == 1 and "No space left" in str(err)


def test_store_marker_guards_resume_and_overwrite(tmp_path):
    victim = tmp_path / "notes.txt"
    victim.write_text("important\nlast line without newline")
    for mode in ("resume", "overwrite"):
        with pytest.raises(UsageError, match="marker"):
            ResultStore(victim, mode).open()
    assert victim.read_text() == "important\nlast line without newline"  # untouched
    ok = tmp_path / "r.jsonl"
    with ResultStore(ok, "new") as st:
        st.append({"task_id": "a", "status": "ok"})
    assert json.loads(ok.read_text().splitlines()[0])[MARKER_KEY] == 1
    with ResultStore(ok, "resume") as st:
        assert set(st.existing) == {"a"}


def test_comparable_drops_solver_timings():
    a = {"task_id": "t", "solution": {"solver": {"status": "optimal", "time_s": 1.0, "phases": {"greedy_s": 0.1, "colgen_s": 2.0, "columns": 5}}}}
    b = {"task_id": "t", "solution": {"solver": {"status": "optimal", "time_s": 9.0, "phases": {"greedy_s": 0.7, "colgen_s": 1.0, "columns": 5}}}}
    assert comparable(a) == comparable(b)
    assert comparable(a)["solution"]["solver"] == {"status": "optimal", "phases": {"columns": 5}}


def test_report_skips_and_counts_bad_lines(tmp_path):
    good = {MARKER_KEY: 1, "task_id": "a", "status": "ok", "method": "greedy", "config": "greedy", "solution": {"metrics": {"job_servers": 3}}}
    f = tmp_path / "r.jsonl"
    f.write_bytes(json.dumps(good).encode() + b"\n\xff\n" + b'{"task_id": 5}\n{"task_id": "b", "seed": "x"}\n')
    skipped: list = []
    recs = read_records(f, skipped=skipped)
    assert [r["task_id"] for r in recs] == ["a"] and [n for n, _ in skipped] == [2, 3, 4]
    res = CliRunner().invoke(app, ["report", str(f), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["skipped_lines"] == 3


def test_manifest_paths_stay_inside_and_types_are_checked(tmp_path):
    m = tmp_path / "m.json"
    for doc, msg in [
        ({"instances": ["/etc/x.json"], "methods": ["greedy"]}, "absolute path"),
        ({"instances": ["../x/*.json"], "methods": ["greedy"]}, "leaves the manifest's folder"),
        ({"instances": ["example:worked-example"], "methods": ["greedy"], "out": "../../r.jsonl"}, "leaves"),
        ({"instances": ["example:worked-example"], "methods": ["greedy"], "providers": ["/tmp/evil.py"]}, "absolute"),
        ({"instances": "example:worked-example", "methods": [1]}, "expected a string or a list of strings"),
        ({"instances": ["example:worked-example"], "methods": ["greedy"], "task_timeout_s": True}, "expected a number of seconds in"),
        ({"instances": ["example:worked-example"], "methods": ["greedy"], "seeds": {"a": 1}}, "seeds"),
        ({"instances": ["example:worked-example"], "methods": ["greedy"], "params": {"c": [[1]]}}, "scalar"),
    ]:
        m.write_text(json.dumps(doc))
        with pytest.raises(UsageError, match=msg):
            load_manifest(m)


def test_manifest_providers_need_the_flag(tmp_path):
    evil = tmp_path / "evil.py"
    marker = tmp_path / "ran"
    evil.write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    m = tmp_path / "m.json"
    m.write_text(json.dumps({"instances": ["example:worked-example"], "methods": ["greedy"], "providers": ["evil.py"]}))
    res = CliRunner().invoke(app, ["batch", "--manifest", str(m), "--dry-run"])
    assert isinstance(res.exception, UsageError) and "--run-provider-code" in str(res.exception)
    assert not marker.exists()  # the manifest alone never imports code
    res = CliRunner().invoke(app, ["batch", "--manifest", str(m), "--dry-run", "--run-provider-code"])
    assert res.exit_code == 0 and marker.exists()


def test_seed_limits():
    with pytest.raises(UsageError, match="exceed the limit of 100000"):
        tk.parse_seeds("0-999999999")
    with pytest.raises(UsageError, match="2\\^63"):
        tk.parse_seeds([2**64])
    assert tk.parse_seeds("0-2") == [0, 1, 2]
    with pytest.raises(UsageError, match="2\\^63"):
        limits.check_seed(2**64)


@pytest.mark.parametrize("stamp,msg", [("1700000000", "epoch seconds"), ("2263-01-01 00:00:00", "outside 1678–2261"),
                                        ("2023-11-16T18:17:03Z", "expected a timestamp")])
def test_trace_timestamps_are_never_misread(tmp_path, stamp, msg):
    f = tmp_path / "t.csv"
    f.write_text(f"TIMESTAMP,ContextTokens,GeneratedTokens\n{stamp},10,2\n")
    with pytest.raises(InvalidInstance, match=msg) as exc:
        load_trace(f)
    assert "line 2" in str(exc.value)


def test_trace_token_counts_are_bounded(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03,1e30,2\n")
    with pytest.raises(InvalidInstance, match="whole token count"):
        load_trace(f)


def test_files_module_depth_helper():
    assert files.json_depth(1) == 0 and files.json_depth([[1], {"a": []}]) == 3
