"""Which form of a numba kernel to run: compiled, or its pure-Python original (issue 10 item 6).

numba compiles a kernel on its first call (``cache=True`` then keeps it on disk). On a fresh install
that first call costs seconds per kernel — 13 s for the six pricing kernels on the 3-block worked
example, far more than the solve. For *tiny* instances this module hands out the kernel's
``py_func``: the very same source, run by the Python interpreter (no compilation). It is not a
different algorithm and not a silent fallback: the choice is made from the instance size only, and
it can be forced with the environment variable ``CHAINCOMP_JIT``:

- ``auto`` (default): pure Python when the work size (e.g. J·L² for pricing) is ≤ :data:`TINY_WORK`;
- ``always``: always the compiled kernel; ``never``: always pure Python (slow beyond tiny instances).
"""

from __future__ import annotations

import os

#: largest work size (J·L² for pricing, J·L for GCA) run as pure Python under ``auto``
TINY_WORK = 160
MODES = ("auto", "always", "never")


def mode() -> str:
    m = os.environ.get("CHAINCOMP_JIT", "auto").strip().lower() or "auto"
    if m not in MODES:
        from chaincomp.errors import UsageError

        raise UsageError(f"CHAINCOMP_JIT must be one of {', '.join(MODES)}, got {m!r}")
    return m


def use_compiled(work: int) -> bool:
    """Run the compiled kernel for a problem of this work size?"""
    m = mode()
    return m == "always" or (m == "auto" and work > TINY_WORK)


_PURE: dict[str, dict] = {}


def _is_kernel(obj) -> bool:
    return hasattr(obj, "py_func") and hasattr(obj, "signatures")


def pick(kernel, compiled: bool):
    """The compiled dispatcher, or its pure-Python original (``py_func``).

    In the pure-Python form every kernel of the same module that it calls (e.g. a DFS calling its
    expansion step) is pure Python as well, so nothing is compiled on the way."""
    if compiled or not _is_kernel(kernel):
        return kernel
    import types

    mod = kernel.py_func.__module__
    g = _PURE.get(mod)
    if g is None:
        g = dict(kernel.py_func.__globals__)
        for name, obj in list(g.items()):
            if _is_kernel(obj):
                f = obj.py_func
                g[name] = types.FunctionType(f.__code__, g, f.__name__, f.__defaults__, f.__closure__)
        _PURE[mod] = g
    return g[kernel.py_func.__name__]
