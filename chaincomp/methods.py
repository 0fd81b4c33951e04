"""Registry of solution methods: name → function(problem, **options) → Solution.

``chaincomp solve --method NAME``, ``chaincomp batch`` and the experiments look methods up here, so
a new method plugs in by decorating its entry function with :func:`register`. Each entry takes the
:class:`~chaincomp.problem.Problem` plus keyword options (``cache_reservation``, ``tune``,
``seed``, ``time_limit_s`` …; unknown options must raise :class:`~chaincomp.errors.UsageError`) and
returns a :class:`~chaincomp.core.solution.Solution`.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from typing import Callable

from chaincomp.errors import UsageError

_REGISTRY: dict[str, "MethodInfo"] = {}

#: modules whose import registers methods (kept lazy so the CLI starts fast)
_PROVIDERS = (
    "chaincomp.heuristics.pipeline",
    "chaincomp.formulations.methods",
    "chaincomp.heuristics.baselines",
)


@dataclass(frozen=True)
class MethodInfo:
    name: str
    func: Callable
    summary: str


def register(name: str, summary: str) -> Callable[[Callable], Callable]:
    """Decorator: make ``func`` available as method ``name``.

    The registered (and returned) function passes every Solution through
    :func:`chaincomp.core.exact.finalize`: the design is re-checked in exact arithmetic and repaired,
    flagged (``status: rate_target_missed``) or refused before anyone sees it (issue 10 item 1)."""

    def deco(func: Callable) -> Callable:
        @functools.wraps(func)
        def checked(problem, *args, **kwargs):
            from chaincomp.core.exact import finalize

            return finalize(func(problem, *args, **kwargs))

        _REGISTRY[name] = MethodInfo(name, checked, summary)
        return checked

    return deco


def _load_providers() -> None:
    for mod in _PROVIDERS:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:  # provider not written yet
            if exc.name != mod:
                raise


def available() -> dict[str, MethodInfo]:
    """All registered methods, by name."""
    _load_providers()
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> MethodInfo:
    methods = available()
    if name not in methods:
        raise UsageError(f"unknown method {name!r}; available: {', '.join(methods)}")
    return methods[name]


def run(name: str, problem, **options):
    """Run method ``name`` on ``problem`` with keyword ``options``."""
    return get(name).func(problem, **options)
