"""Experiments run end to end, are seeded/reproducible, and the CLI writes CSV + JSON + PNG."""

import json

import pytest
from typer.testing import CliRunner

from chaincomp import experiments
from chaincomp.cli.app import app


def test_testbed_reproducible_and_ordered(shared_data):
    a = experiments.run("testbed", quick=True, requests=80, data_dir=shared_data)
    b = experiments.run("testbed", quick=True, requests=80, data_dir=shared_data)
    assert a.rows == b.rows
    methods = {r["method"] for r in a.rows}
    assert methods == {"petals", "bprr", "jffc-only", "proposed"}
    for r in a.rows:
        assert r["response_mean_s"] == pytest.approx(r["waiting_mean_s"] + r["service_mean_s"])


def test_overall_tiny(shared_data):
    res = experiments.run("overall", quick=True, runs=1, jobs=150, servers=(20,), fractions=(0.2,),
                          data_dir=shared_data)
    row = res.rows[0]
    for m in ("proposed", "petals", "bprr"):
        assert row[f"{m}_s"] is None or row[f"{m}_s"] > 0


def test_placement_gbp_cr_beats_random_homogeneous(shared_data):
    res = experiments.run("placement", quick=True, num_random=10, data_dir=shared_data)
    for r in res.rows:
        if r["case"] == "homogeneous" and r["random_best"] is not None:
            assert r["gbp_cr_cK"] <= r["random_best"]  # Theorem 2


def test_cli_writes_files(shared_data, tmp_path):
    r = CliRunner().invoke(app, ["experiment", "testbed", "--quick", "--requests", "50", "--data", str(shared_data),
                                 "--out", str(tmp_path), "--plot", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "testbed.csv").is_file() and (tmp_path / "testbed.png").is_file()
    data = json.loads((tmp_path / "testbed.json").read_text())
    assert data["experiment"] == "testbed" and len(data["rows"]) == 4


def test_unknown_experiment():
    r = CliRunner().invoke(app, ["experiment", "nope"])
    assert r.exit_code != 0
