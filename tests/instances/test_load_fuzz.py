"""Property: any corruption of a valid instance either loads or raises a ChaincompError — never
another exception (the CLI turns ChaincompError into a message; anything else would be a traceback)."""

from __future__ import annotations

import copy
import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chaincomp.errors import ChaincompError
from chaincomp.instances.examples import example_path
from chaincomp.instances.load import load_instance_dict

BASES = {n: json.loads(example_path(n).read_text()) for n in ("mig-testbed", "worked-example")}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**12) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


PATHS = [(n, p) for n, base in BASES.items() for p in _paths(base) if p]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PATHS), json_values, st.booleans())
def test_corrupted_instance_never_crashes(target, value, delete):
    name, path = target
    data = copy.deepcopy(BASES[name])
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    try:
        p = load_instance_dict(data, "fuzz.json")
    except ChaincompError as exc:
        assert str(exc).startswith("fuzz.json") or "arrival rate" in str(exc), str(exc)
        return
    assert p.num_servers >= 1 and (p.memory_gb > 0).all() and np.isfinite(p.tau_comp_s).all()
