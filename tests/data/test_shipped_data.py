"""The data shipped in chaincomp/data: identical to the project's data folder, found by default,
overridden by an option or $CHAINCOMP_DATA, and enough for the experiments on a fresh clone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chaincomp.data import ENV_VAR, FILES, SHIPPED, data_dir, data_file, verify
from chaincomp.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"


@pytest.mark.parametrize("name", FILES)
def test_shipped_files_are_byte_identical_to_the_shared_folder(name):
    """Against ../shared/data when it is beside the clone, and always against the recorded SHA-256
    of the collected public files (so the check also runs on a fresh clone)."""
    shipped = SHIPPED / name
    assert shipped.is_file() and shipped.stat().st_size > 1000
    assert verify(SHIPPED)[name]
    if SHARED.is_dir():
        assert shipped.read_bytes() == (SHARED / name).read_bytes()
        assert verify(SHARED)[name]


def test_readme_carries_provenance_and_licences():
    text = (SHIPPED / "README.md").read_text()
    for needle in ("CC-BY-4.0", "RIPE NCC", "CC BY-SA 3.0", "MIT", "058ff0de1e1da9a99bb2b5da983485d2f5b6d580"):
        assert needle in text


def test_package_data_declared():
    text = (REPO / "pyproject.toml").read_text()
    assert '"chaincomp.data" = ["*.csv", "README.md", "topology/*.graph"]' in text


def test_resolution_order(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert data_dir() == SHIPPED
    assert data_file("topology/GtsCe.graph") == SHIPPED / "topology" / "GtsCe.graph"
    (tmp_path / "ripe_atlas_eu_rtt.csv").write_text("x")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert data_dir() == tmp_path and data_file("ripe_atlas_eu_rtt.csv") == tmp_path / "ripe_atlas_eu_rtt.csv"
    with pytest.raises(UsageError, match="no such data file"):  # no silent switch to the shipped copy
        data_file("azure_llm_inference_2023_code.csv")
    assert data_dir(SHIPPED) == SHIPPED  # an explicit folder beats the variable
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(UsageError, match=r"\$CHAINCOMP_DATA"):
        data_dir()


def test_testbed_experiment_runs_with_no_flags_from_a_fresh_copy(tmp_path):
    """A copy of the package with no data folder beside it: `experiment testbed` works as written."""
    import shutil

    assert not (tmp_path.parent / "shared" / "data").exists()  # no data folder beside the copy
    shutil.copytree(REPO / "chaincomp", tmp_path / "chaincomp", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    env["PYTHONPATH"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "chaincomp.cli", "experiment", "testbed", "--quick"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Azure trace" in proc.stdout and "LLaMA-2-7B on 9 MIG servers" in proc.stdout


def test_bare_shipped_names_resolve_from_any_folder(tmp_path, monkeypatch):
    from chaincomp.data import resolve
    from chaincomp.instances.network import load_network
    from chaincomp.sim.arrivals import load_trace

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve("azure_llm_inference_2023_code.csv") == SHIPPED / "azure_llm_inference_2023_code.csv"
    assert resolve("GtsCe.graph") == SHIPPED / "topology" / "GtsCe.graph"
    assert resolve("mine.csv") == Path("mine.csv")       # not a shipped name: left for the reader to report
    (tmp_path / "ripe_atlas_eu_rtt.csv").write_text("own")
    assert resolve("ripe_atlas_eu_rtt.csv") == Path("ripe_atlas_eu_rtt.csv")  # a local file wins
    stream = load_trace("azure_llm_inference_2023_code.csv", first=10)
    assert len(stream.arrival_s) == 10 and stream.input_tokens[0] > 0
    assert load_network("Abvt.graph").num_nodes > 0
