"""The indented JSON writer is byte-identical to json.dumps(indent=2, allow_nan=False)."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaincomp.core.jsonfast import dumps_indented

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False), st.text())
data = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(), inner, max_size=5)), max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(data)
def test_same_bytes_as_json(obj):
    assert dumps_indented(obj) == json.dumps(obj, indent=2, allow_nan=False)
    assert dumps_indented(obj, 4) == json.dumps(obj, indent=4, allow_nan=False)


def test_tuples_unicode_and_nonfinite():
    obj = {"a": (1, 2.5, "é\n\"x\""), "b": [], "c": {}, "d": [{"e": None, "f": True}]}
    assert dumps_indented(obj) == json.dumps(obj, indent=2, allow_nan=False)
    with pytest.raises(ValueError):
        dumps_indented({"x": math.inf})
    assert dumps_indented({1: "int key"}) == json.dumps({1: "int key"}, indent=2)  # falls back


def test_solution_json_unchanged(worked_example):
    from chaincomp.heuristics.pipeline import solve_greedy
    from chaincomp.core.solution import _jsonable

    sol = solve_greedy(worked_example)
    assert sol.to_json() == json.dumps(_jsonable(sol.to_dict()), indent=2, allow_nan=False)
