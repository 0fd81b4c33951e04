"""Shared matplotlib helpers for every PNG the toolkit writes (batch report, experiments, simulate).

Conventions (issue 13): every figure has a title, axis labels with units, 95 % confidence intervals
as error bars where the number is a mean over runs (:mod:`chaincomp.analysis.confidence`), and no
legend entry for a series with no finite value.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def values(seq: Sequence) -> list[float]:
    """None / non-finite → NaN (matplotlib leaves a gap)."""
    out = []
    for v in seq:
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = math.nan
        out.append(f if math.isfinite(f) else math.nan)
    return out


def has_data(seq: Sequence) -> bool:
    return any(not math.isnan(v) for v in values(seq))


def line(ax, x, y, label: str, ci=None, fmt: str = "o-", **kw) -> bool:
    """A line with optional ±CI error bars; skipped entirely (no legend entry) when ``y`` has no data."""
    y = values(y)
    if not has_data(y):
        return False
    yerr = None if ci is None else [0.0 if math.isnan(e) else e for e in values(ci)]
    if yerr is not None and any(yerr):
        ax.errorbar(x, y, yerr=yerr, fmt=fmt, capsize=3, label=label, **kw)
    else:
        ax.plot(x, y, fmt, label=label, **kw)
    return True


def bars(ax, x, y, width: float, label: str, ci=None, **kw) -> bool:
    """Bars with optional ±CI error bars; skipped (no legend entry) when ``y`` has no data."""
    y = values(y)
    if not has_data(y):
        return False
    yerr = None if ci is None else [0.0 if math.isnan(e) else e for e in values(ci)]
    ax.bar(x, y, width, label=label, yerr=yerr if yerr and any(yerr) else None, capsize=3, **kw)
    return True


def finish(ax, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def save(fig, path: str | Path) -> Path:
    """Lay out, write atomically (temp file + rename; :mod:`chaincomp.io.output`) and close ``fig``."""
    from chaincomp.io.output import ensure_dir, save_figure

    path = Path(path)
    ensure_dir(path.parent, "plot folder")
    fig.tight_layout()
    try:
        save_figure(fig, path)
    finally:
        pyplot().close(fig)
    return path
