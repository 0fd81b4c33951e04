"""Events files: schema, validation against the cluster, and exit code 2 with file/field/expectation."""

import json
import subprocess
import sys

import pytest

from chaincomp.elastic.events import apply_event, parse_events
from chaincomp.errors import InvalidInstance
from tests.elastic.helpers import bloom_design

CLI = [sys.executable, "-m", "chaincomp.cli"]


def test_parse_and_apply():
    sol = bloom_design()
    p = sol.problem
    tl = parse_events({"events": [
        {"time_s": 0, "kind": "fail", "server": "s16"},
        {"time_s": 10, "kind": "join", "server": {"id": "n1", "memory_gb": 40, "tau_comm_s": 0.5, "tau_comp_s": 0.109}},
        {"time_s": 20, "kind": "rate", "arrival_rate": 2.0},
        {"time_s": 30, "kind": "leave", "server": "n1"}]}, "x.json", p)
    assert [e.kind for e in tl.events] == ["fail", "join", "rate", "leave"]
    assert tl.horizon_s == 30 + 10  # last + mean gap
    q = apply_event(p, tl.events[0])
    assert "s16" not in q.server_ids and q.num_servers == p.num_servers - 1
    q = apply_event(q, tl.events[1])
    assert q.server_ids[-1] == "n1" and q.memory_gb[-1] == 40 and q.tau_comp_s[-1] == 0.109
    q = apply_event(q, tl.events[2])
    assert q.arrival_rate == 2.0


@pytest.mark.parametrize("events, where, expect", [
    ([{"time_s": 0, "kind": "fail", "server": "nope"}], "events[0].server", "expected the id of a server in the cluster"),
    ([{"tme_s": 0, "kind": "fail", "server": "s01"}], "events[0].tme_s", "unknown field"),
    ([{"time_s": 5, "kind": "rate", "arrival_rate": 1}, {"time_s": 1, "kind": "rate", "arrival_rate": 1}],
     "events[1].time_s", "expected a time ≥ the previous event's 5 s"),
    ([{"time_s": 0, "kind": "rate"}], "events[0]", "needs 'arrival_rate'"),
    ([{"time_s": 0, "kind": "rate", "arrival_rate": -1}], "events[0].arrival_rate", "expected a number ≥ 1e-09"),
    ([{"time_s": 0, "kind": "join", "server": {"id": "x", "tau_comm_s": 1, "tau_comp_s": 0.1}}],
     "events[0].server", "memory_gb"),
    ([{"time_s": 0, "kind": "join", "server": {"id": "s01", "memory_gb": 40, "tau_comm_s": 1, "tau_comp_s": 0.1}}],
     "events[0].server.id", "expected a new server id"),
    ([{"time_s": 0, "kind": "boom", "server": "s01"}], "events[0].kind", "expected one of"),
    ([{"time_s": 0, "kind": "fail", "server": "s01"}, {"time_s": 1, "kind": "leave", "server": "s01"}],
     "events[1].server", "in the cluster at t=1 s"),
])
def test_bad_events_name_file_field_expectation(events, where, expect):
    sol = bloom_design()
    with pytest.raises(InvalidInstance) as exc:
        parse_events({"events": events}, "bad.json", sol.problem)
    msg = str(exc.value)
    assert msg.startswith("bad.json: ") and where in msg and expect in msg, msg


def test_cli_bad_events_exit_2(tmp_path):
    sol = bloom_design()
    d = tmp_path / "d.json"
    d.write_text(sol.to_json())
    cases = {
        "notjson.json": "{not json",
        "unknown.json": json.dumps({"events": [{"time_s": 0, "kind": "fail", "server": "zz"}]}),
        "typo.json": json.dumps({"events": [{"time_s": 0, "kind": "rate", "arival_rate": 1}]}),
    }
    for name, text in cases.items():
        f = tmp_path / name
        f.write_text(text)
        verbs = [["recompose", str(d), str(f)]]
        if name == "unknown.json":
            verbs.append(["simulate", str(d), "--events", str(f)])
        for verb in verbs:
            proc = subprocess.run([*CLI, *verb], capture_output=True, text=True, timeout=120)
            assert proc.returncode == 2, (verb, proc.stderr)
            assert name in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([*CLI, "recompose", str(d), str(tmp_path / "missing.json")], capture_output=True, text=True)
    assert proc.returncode == 2 and "missing.json: no such file" in proc.stderr


def test_schema_events_cli():
    proc = subprocess.run([*CLI, "schema", "events"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert "events" in schema["properties"]
    import jsonschema

    jsonschema.validate({"events": [{"time_s": 0, "kind": "fail", "server": "a"}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"events": [{"time_s": -1, "kind": "fail", "server": "a"}]}, schema)
