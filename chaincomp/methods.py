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


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_options(options: dict, where: str = "option") -> dict:
    """Check the common method options of every ``batch`` task before any work, by the rules that
    ``solve`` applies to its command-line options (``-c``, ``--time-limit``, ``--mip-gap``,
    ``--threads``, ``--seed``): a value is never truncated (``c = 1.5``) or passed on as a string
    (``time_limit_s = "nan"``). Options a method does not know are its own to refuse.

    ``cache_reservation``: ``"auto"``/None or an integer ≥ 1; ``time_limit_s``: a finite number in
    (0, MAX_TIME_LIMIT_S]; ``mip_gap``: in [0, 10⁶]; ``threads``: 1..4096; ``seed``: 0..2⁶³−1;
    ``sim_jobs`` (batch): 1..MAX_SIM_JOBS. Returns ``options``."""
    import math

    from chaincomp.io import limits

    def bad(key: str, expected: str, value) -> UsageError:
        return UsageError(f"{where} {key}: expected {expected}, got {value!r}")

    for key, v in options.items():
        if key == "cache_reservation":
            if not (v is None or v == "auto" or (_is_int(v) and v >= 1)):
                raise bad(key, "'auto' or an integer ≥ 1 (the cache reservation c)", v)
        elif key == "time_limit_s":
            if not (_is_number(v) and math.isfinite(v) and 0 < v <= limits.MAX_TIME_LIMIT_S):
                raise bad(key, f"a number of seconds in (0, {limits.MAX_TIME_LIMIT_S:g}]", v)
        elif key == "mip_gap":
            if not (_is_number(v) and math.isfinite(v) and 0 <= v <= 1e6):
                raise bad(key, "a finite number ≥ 0 (relative gap)", v)
        elif key == "threads":
            if not (_is_int(v) and 1 <= v <= 4096):
                raise bad(key, "an integer in 1..4096", v)
        elif key == "seed":
            if not (_is_int(v) and 0 <= v <= limits.MAX_SEED):
                raise bad(key, f"an integer seed in 0..{limits.MAX_SEED}", v)
        elif key == "sim_jobs":
            if not (_is_int(v) and 1 <= v <= limits.MAX_SIM_JOBS):
                raise bad(key, f"a whole number of simulated jobs in 1..{limits.MAX_SIM_JOBS}", v)
    return options

