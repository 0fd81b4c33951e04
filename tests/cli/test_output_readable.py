"""Output people read (issue 13 item 6): one definition per number, routing policies implied by the
method, plots with titles / labels / units / CIs and no empty legend entries."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from chaincomp.cli.app import app
from chaincomp.errors import UsageError

runner = CliRunner()


def test_surrogate_metric_is_total_capacity_over_rate_and_distinct_from_the_tuning_score():
    """Worked example (SPEC §8), c = 1: GCA's chains have capacities 5, 5, 5 → Σc = 15, λ = 0.4 →
    Σc/λ = 37.5 s; job servers needed = 2 (so 2/λ = 5 would be a different number); GBP-CR at c = 1
    forms K = 2 groups, so the tuning score c·K(c)/λ = 1·2/0.4 = 5 s."""
    res = runner.invoke(app, ["solve", "--example", "worked-example", "--json"])
    assert res.exit_code == 0, res.output
    sol = json.loads(res.stdout)
    m = sol["metrics"]
    assert [c["capacity"] for c in sol["chains"]] == [5, 5, 5]
    assert m["total_capacity"] == 15 and m["job_servers"] == 2
    assert m["surrogate_response_time_s"] == pytest.approx(15 / 0.4)
    cand = {r["cache_reservation"]: r for r in sol["extra"]["tuning"]["candidates"]}
    assert cand[1]["score_surrogate"] == pytest.approx(1 * 2 / 0.4)
    table = runner.invoke(app, ["solve", "--example", "worked-example"]).stdout
    assert "surrogate Σc/λ, Σc = total capacity (s)" in table and "37.5" in table
    assert "c·K(c)/λ (s)" in table


def test_verify_rechecks_the_surrogate(tmp_path):
    res = runner.invoke(app, ["solve", "--example", "worked-example", "-c", "1", "--json"])
    sol = json.loads(res.stdout)
    sol["metrics"]["surrogate_response_time_s"] = 5.0  # job_servers/λ: the old, mislabelled number
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(sol))
    v = runner.invoke(app, ["verify", str(bad), "--json"])
    assert v.exit_code == 1
    assert any("surrogate_response_time_s" in e for e in json.loads(v.stdout)["violations"])


def _sim(*args):
    return runner.invoke(app, ["simulate", *args, "--jobs", "2000", "--json"])


def test_policy_petals_on_an_instance_solves_with_petals():
    res = _sim("--example", "bloom-j20", "--policy", "petals")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["design"]["method"] == "petals" and [p["policy"] for p in data["policies"]] == ["petals"]


def test_method_petals_implies_its_routing():
    res = _sim("--example", "bloom-j20", "--method", "petals")
    assert res.exit_code == 0, res.output
    assert [p["policy"] for p in json.loads(res.stdout)["policies"]] == ["petals"]
    res = _sim("--example", "bloom-j20", "--method", "bprr")
    assert res.exit_code == 0, res.output
    assert [p["policy"] for p in json.loads(res.stdout)["policies"]] == ["bprr-wsrr"]


def test_petals_policy_on_a_non_petals_design_is_a_clear_error():
    res = _sim("--example", "bloom-j20", "--method", "greedy", "--policy", "petals")
    assert isinstance(res.exception, UsageError), res.exception
    assert "--method petals" in str(res.exception)


def _capture(monkeypatch):
    from chaincomp import plots

    figs = {}
    real = plots.save

    def save(fig, path):
        figs[str(path).rsplit("/", 1)[-1]] = [
            (ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), ax.get_legend_handles_labels()[1],
             len(ax.containers)) for ax in fig.axes]
        return real(fig, path)

    monkeypatch.setattr(plots, "save", save)
    return figs


def test_report_plots_have_titles_labels_cis_and_no_empty_series(tmp_path, monkeypatch):
    from chaincomp.batch import report as rp
    from chaincomp.batch.store import read_records

    out = tmp_path / "r.jsonl"
    res = runner.invoke(app, ["batch", "example:worked-example", "example:bloom-j20", "-m", "greedy", "-m", "random",
                              "--seeds", "0-2", "-w", "1", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    figs = _capture(monkeypatch)
    files = rp.plot(read_records(out), tmp_path / "plots")
    assert {f.name for f in files} == {"job_servers.png", "ratio_to_best.png", "response_time.png", "wall_time.png"}
    for name, axes in figs.items():
        for title, xlabel, ylabel, _, _ in axes:
            assert title and xlabel and ylabel, name
    assert "Σc" not in figs["job_servers.png"][0][2]  # job servers needed ≠ total capacity Σc
    labels = figs["response_time.png"][0][3]
    assert labels == ["Theorem-4 lower bound", "Theorem-4 upper bound"]  # no simulation ran → no "simulated"
    assert "(s)" in figs["response_time.png"][0][2] and "CI" in figs["response_time.png"][0][0]


def test_simulate_plot_has_title_labels_and_ci_markers(tmp_path, monkeypatch):
    figs = _capture(monkeypatch)
    png = tmp_path / "cdf.png"
    res = runner.invoke(app, ["simulate", "--example", "bloom-j20", "--rate", "1", "--policy", "jffc,jsq",
                              "--jobs", "4000", "--replications", "2", "--plot", str(png)])
    assert res.exit_code == 0, res.output
    (title, xlabel, ylabel, labels, containers), = figs["cdf.png"]
    assert "CI" in title and "(s" in xlabel and ylabel
    assert labels[:2] == ["jffc", "jsq"] and containers >= 2  # one errorbar container per policy
