"""Experiment results: one table (rows of plain values) + metadata; CSV, JSON and PNG writers."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


@dataclass
class ExperimentResult:
    """``columns``: (key, header) pairs shown in the table; ``rows``: dicts (may hold more keys than
    shown — every key goes to the CSV/JSON); ``meta``: parameters, seeds, timings, notes;
    ``plot``: function(result, directory) → list of PNG paths."""

    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)
    plot: Callable[["ExperimentResult", Path], list[Path]] | None = None
    extra_tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return _clean({"experiment": self.name, "title": self.title, "meta": self.meta, "rows": self.rows,
                       **({"tables": self.extra_tables} if self.extra_tables else {})})

    def write(self, out_dir: str | Path) -> list[Path]:
        from chaincomp.io.output import atomic_write, ensure_dir

        out = ensure_dir(out_dir, "results folder")
        paths = [out / f"{self.name}.csv", out / f"{self.name}.json"]
        _write_csv(paths[0], self.rows)
        atomic_write(paths[1], json.dumps(self.to_dict(), indent=2, allow_nan=False), "results JSON")
        for key, rows in self.extra_tables.items():
            p = out / f"{self.name}_{key}.csv"
            _write_csv(p, rows)
            paths.append(p)
        return paths

    def figures(self, plot_dir: str | Path) -> list[Path]:
        if self.plot is None:
            return []
        from chaincomp.io.output import ensure_dir

        d = ensure_dir(plot_dir, "plot folder")
        import matplotlib

        matplotlib.use("Agg")
        return self.plot(self, d)


def _write_csv(path: Path, rows: list[dict]) -> None:
    keys: list[str] = []
    for r in rows:
        for k in r:
            if k not in keys and not isinstance(r[k], (list, dict)):
                keys.append(k)
    from chaincomp.io.output import atomic_open

    with atomic_open(path, "w", "results CSV", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt(r.get(k)) for k in keys})


def _fmt(v):
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(v)
    return "" if v is None else v


def _clean(obj):
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_clean(v) for v in obj.tolist()]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
