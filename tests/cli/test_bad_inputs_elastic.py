"""Bad input to the elastic and auxiliary verbs: exit 2 with the file, the field and what was expected —
never a crash, a hang or a runaway allocation (docs/reliability.md). Each case below was found by a
CLI fuzz campaign (issue 10 session 6 note) and failed before: the comment says how."""

from __future__ import annotations

import copy
import csv
import json
import os
from pathlib import Path

import pytest

from tests.fuzz import strategies as S
from tests.fuzz.harness import run_cli

ROOT = Path(__file__).resolve().parents[2]
RATE_EVENT = {"events": [{"time_s": 10, "kind": "rate", "arrival_rate": 0.3}], "horizon_s": 100}


@pytest.fixture(scope="module")
def design() -> dict:
    return S.solution("worked-example")


@pytest.fixture()
def files(tmp_path, design):
    def write(name: str, doc) -> str:
        p = tmp_path / name
        p.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
        return str(p)

    write.design = write("design.json", design)
    write.events = write("events.json", RATE_EVENT)
    return write


def _broken(design: dict, how: str) -> dict:
    d = copy.deepcopy(design)
    if how == "huge capacity":  # recompose grew to 24 GB, whatif hung
        d["chains"][0]["capacity"] = 10**9
    elif how == "empty chain":  # ZeroDivisionError in core/allocation.py
        d["chains"][0]["servers"], d["chains"][0]["blocks"] = [], []
    elif how == "range beyond L":  # IndexError in the GCA kernel
        d["placement"][0]["first_block"] = d["instance"]["num_blocks"] + 4
    elif how == "region a list":  # TypeError in elastic/whatif.py
        d["instance"]["meta"]["servers"] = [{"id": d["placement"][0]["server"], "region": ["eu"]}]
    elif how == "bandwidth a string":  # ValueError in elastic/switching.py
        d["instance"]["meta"]["servers"] = [{"id": d["placement"][0]["server"], "load_bandwidth_gb_s": "fast"}]
    return d


def _argv(verb: str, design: str, events: str) -> list[str]:
    return {"recompose": ["recompose", design, events], "whatif": ["whatif", design],
            "events": ["events", "churn", design], "simulate --events": ["simulate", design, "--events", events]}[verb]


@pytest.mark.parametrize("how,says", [
    ("huge capacity", "cache slots reserved"),
    ("empty chain", "empty"),
    ("range beyond L", "outside 1..3"),
    ("region a list", "instance.meta.servers[0].region: expected a region label"),
    ("bandwidth a string", "instance.meta.servers[0].load_bandwidth_gb_s: expected a block load bandwidth"),
])
@pytest.mark.parametrize("verb", ["recompose", "whatif", "events", "simulate --events"])
def test_an_invalid_design_is_refused_by_every_elastic_verb(files, design, how, says, verb):
    f = files("bad.json", _broken(design, how))
    res = run_cli(*_argv(verb, f, files.events), limit_s=30)
    assert res.code == 2, res.output
    assert f in res.stderr and says in res.stderr
    assert "\\n" not in res.stderr  # a list of violations is printed one per line, not as a literal \n


def test_a_valid_design_below_the_rate_target_is_still_accepted(files, design):
    """A baseline's design that misses λ/ρ̄ is not malformed: the elastic verbs take it as it is."""
    d = copy.deepcopy(design)
    d["instance"]["arrival_rate"] = 100.0
    d["metrics"] = {}
    res = run_cli("whatif", files("slow.json", d), "--json", limit_s=30)
    assert res.code == 0, res.output
    assert json.loads(res.stdout)["design"]["service_rate"] < 100.0 / 0.7


@pytest.mark.parametrize("verb,opt,value,says", [
    ("recompose", "--hysteresis", "nan", "--hysteresis: expected a finite number"),
    ("recompose", "--load-bandwidth", "inf", "--load-bandwidth (GB/s): expected a finite number"),
    ("recompose", "--load-bandwidth", "1e-308", "--load-bandwidth (GB/s): expected a finite number in [1e-06"),
    ("whatif", "--hysteresis", "-1", "--hysteresis: expected a finite number in [0,"),
    ("simulate --events", "--petals-period", "-1", "--petals-period"),  # hung
    ("simulate --events", "--petals-period", "1e-9", "PETALS rebalancing checks"),  # 10¹¹ checks
    ("simulate --events", "--thrash-window", "nan", "--thrash-window: expected a finite number"),  # NaN reached the JSON
    ("churn", "--horizon", "nan", "--horizon (s): expected a finite number"),  # OverflowError
    ("churn", "--seed", "-1", "--seed: expected a seed in 0.."),  # ValueError in numpy
    ("churn", "--fail-share", "nan", "--fail-share: expected a finite number in [0, 1]"),  # accepted silently
    ("churn", "--downtime", "-1", "--downtime: expected a finite number in [0, 1e+09] s"),  # accepted silently
    ("diurnal", "--windows", "100000000", "exceeds the limit of 100000"),  # hung
    ("diurnal", "--peak-rate", "-1", "--peak-rate (req/s): expected a finite number"),  # recompose refused the file later
    ("region", "--at", "inf", "--at: expected a finite number"),
])
def test_elastic_options_are_checked(files, verb, opt, value, says):
    argv = {"recompose": ["recompose", files.design, files.events], "whatif": ["whatif", files.design],
            "simulate --events": ["simulate", files.design, "--events", files.events],
            "churn": ["events", "churn", files.design], "diurnal": ["events", "diurnal", files.design, "--shape", "sine"],
            "region": ["events", "region", files.design, "--servers", "j1"]}[verb]
    res = run_cli(*argv, opt, value, limit_s=30)
    assert res.code == 2 and says in res.stderr, res.output


@pytest.mark.parametrize("event,field", [
    ({"time_s": 0, "kind": "join", "server": {"id": "new", "memory_gb": 1e300, "tau_comm_s": 1, "tau_comp_s": 0.1}}, "events[0].server.memory_gb"),
    ({"time_s": 0, "kind": "join", "server": {"id": "a\nb", "memory_gb": 2, "tau_comm_s": 1, "tau_comp_s": 0.1}}, "events[0].server.id"),
    ({"time_s": 1e300, "kind": "rate", "arrival_rate": 1}, "events[0].time_s"),
    ({"time_s": 0, "kind": "rate", "arrival_rate": 1e300}, "events[0].arrival_rate"),
])
def test_event_fields_are_bounded(files, event, field):
    res = run_cli("recompose", files.design, files("ev.json", {"events": [event]}), limit_s=30)
    assert res.code == 2 and field in res.stderr, res.output


def test_a_json_key_given_twice_is_refused(files, design):
    text = json.dumps(design)
    dup = text.replace('"method": ', '"method": "x", "method": ', 1)
    res = run_cli("verify", files("dup.json", dup), limit_s=30)
    assert res.code == 2 and "the key 'method' appears twice" in res.stderr, res.output


def test_an_hf_config_error_names_the_model_field(files, tmp_path):
    files("config.json", '{"model_type": "bloom", "model_type": "llama"}')
    model = files("model.json", {"name": "m", "hf_config": "config.json"})
    res = run_cli("solve", "--cluster", str(ROOT / "docs/examples/cluster.json"), "--model", model, limit_s=30)
    assert res.code == 2, res.output
    assert "model.json: hf_config = 'config.json':" in res.stderr and "appears twice" in res.stderr


def _measurements(tmp_path, column: str, value: str) -> str:
    rows = list(csv.reader((ROOT / "docs/examples/measurements.csv").open()))
    rows[1][rows[0].index(column)] = value
    p = tmp_path / "m.csv"
    with p.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return str(p)


@pytest.mark.parametrize("column,value", [("compute_s", "1e308"), ("input_tokens", "99999999999"), ("blocks", "100000")])
def test_calibrate_bounds_every_measured_number(tmp_path, column, value):
    f = _measurements(tmp_path, column, value)
    res = run_cli("calibrate", f, limit_s=30)
    assert res.code == 2 and f"line 2, column {column}: {value} exceeds the limit" in res.stderr, res.output


def test_calibrate_refuses_a_fifo_and_bad_token_options(tmp_path):
    fifo = tmp_path / "m.csv"
    os.mkfifo(fifo)
    res = run_cli("calibrate", str(fifo), limit_s=10)
    assert res.code == 2 and "FIFO" in res.stderr
    res = run_cli("calibrate", str(ROOT / "docs/examples/measurements.csv"), "--input-tokens", "nan", limit_s=30)
    assert res.code == 2 and "--input-tokens" in res.stderr


@pytest.mark.parametrize("argv", [["schema", "solution", "--out", "/proc/chaincomp-x"],
                                  ["examples", "--show", "worked-example", "--out", "{tmp}"]])
def test_file_outputs_of_schema_and_examples_are_checked(tmp_path, argv):
    res = run_cli(*[a.replace("{tmp}", str(tmp_path)) for a in argv], limit_s=30)
    assert res.code == 2 and "cannot write" in res.stderr or "is a directory" in res.stderr, res.output
