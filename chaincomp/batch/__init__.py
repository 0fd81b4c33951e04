"""Batch runs: grids of (instance × method × parameters × seed), executed on a local process pool
(default) or a Dask distributed cluster, with an append-only, resumable JSONL result store.

Library entry points (the CLI ``chaincomp batch`` / ``chaincomp report`` is a thin layer over them):

- :func:`chaincomp.batch.tasks.expand_grid` / :func:`chaincomp.batch.manifest.load_manifest` build
  :class:`~chaincomp.batch.tasks.Task` lists with stable ids;
- :class:`chaincomp.batch.local.LocalPool` and :class:`chaincomp.batch.dask_exec.DaskExecutor` run them;
- :class:`chaincomp.batch.store.ResultStore` records one JSON line per finished task;
- :func:`chaincomp.batch.runner.run_batch` ties the three together (resume, progress callbacks);
- :mod:`chaincomp.batch.report` summarizes and plots a results file.
"""

from chaincomp.batch.runner import BatchSummary, run_batch
from chaincomp.batch.store import ResultStore, comparable, read_records
from chaincomp.batch.manifest import load_manifest
from chaincomp.batch.tasks import Task, expand_grid

__all__ = [
    "BatchSummary",
    "ResultStore",
    "Task",
    "comparable",
    "expand_grid",
    "load_manifest",
    "read_records",
    "run_batch",
]
