"""Experiment figures (issue 13 item 6): every axes has a title and axis labels (with units where the
quantity has one), mean-over-runs series carry 95 % CI error bars, and empty series get no legend entry."""

import pytest

from chaincomp import experiments, plots


@pytest.mark.parametrize("name,kw", [
    ("dispatch", {"jobs": 1500}),
    ("overall", {"runs": 2, "jobs": 300}),
    ("allocation", {}),
])
def test_figures_are_labelled(name, kw, shared_data, tmp_path, monkeypatch):
    seen = []
    real = plots.save

    def save(fig, path):
        seen.append([(ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), ax.get_legend_handles_labels()[1],
                      ax.containers) for ax in fig.axes])
        return real(fig, path)

    monkeypatch.setattr(plots, "save", save)
    res = experiments.run(name, quick=True, data_dir=shared_data, **kw)
    files = res.figures(tmp_path)
    assert files and all(p.exists() for p in files)
    for axes in seen:
        for title, xlabel, ylabel, labels, containers in axes:
            assert title and xlabel and ylabel
            assert len(labels) == len(set(labels))
    if name in ("dispatch", "overall"):
        axes = seen[0]
        assert "(s)" in axes[0][2] and "CI" in axes[0][0]
        errorbars = [c for ax in axes for c in ax[4] if hasattr(c, "has_yerr") and c.has_yerr
                     or getattr(c, "errorbar", None) is not None]
        assert errorbars, "no error bars drawn"
    if name == "allocation":  # the ILP column may be empty in the quick variant: then no legend entry for it
        rows = res.rows
        labels = seen[0][0][3]
        assert ("optimal ILP (§2.2)" in labels) == any(r.get("ilp_job_servers") is not None for r in rows)
