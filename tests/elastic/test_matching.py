"""Kuhn–Munkres role matching minimizes reloaded blocks: brute force over permutations (tiny cases)."""

import itertools

import numpy as np
import pytest

from chaincomp.core.placement import Placement
from chaincomp.elastic.matching import match_roles, reloaded_blocks, server_classes
from chaincomp.problem import Problem


def _count_new(held, a, m):
    """|{a..a+m-1} \\ held| by explicit sets (independent of the code under test)."""
    if m == 0:
        return 0
    new = set(range(a, a + m))
    old = set(range(held[0], held[1] + 1)) if held else set()
    return len(new - old)


def _random_case(rng, J, L):
    mem = rng.choice([2.0, 4.0], size=J)
    tau_p = np.where(mem > 3, 0.1, 0.2)
    p = Problem(tuple(f"v{j}" for j in range(J)), mem, rng.uniform(0.1, 1.0, J), tau_p, L, 0.5, 0.1, 0.5)
    a = np.zeros(J, dtype=int)
    m = np.zeros(J, dtype=int)
    held = {}
    for j in range(J):
        if rng.uniform() < 0.8:
            mm = int(rng.integers(1, L + 1))
            m[j] = mm
            a[j] = int(rng.integers(1, L - mm + 2))
        if rng.uniform() < 0.7:
            hm = int(rng.integers(1, L + 1))
            ha = int(rng.integers(1, L - hm + 2))
            held[p.server_ids[j]] = (ha, ha + hm - 1)
    return p, Placement(a, m), held


@pytest.mark.parametrize("seed", range(40))
def test_matching_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    J, L = int(rng.integers(2, 7)), int(rng.integers(2, 8))
    p, plan, held = _random_case(rng, J, L)
    matched, assign = match_roles(p, plan, held)
    # a valid reassignment: a permutation within classes of equal (memory, τ^p)
    # classes of equal memory (τ^p is a function of memory here), built independently
    classes = [[j for j in range(J) if p.memory_gb[j] == mv] for mv in sorted(set(p.memory_gb.tolist()))]
    assert sorted(map(sorted, classes)) == sorted(map(sorted, server_classes(p)))
    assert sorted(assign.tolist()) == list(range(J))
    for r in range(J):
        assert any(r in g and assign[r] in g for g in classes)
    got = sum(_count_new(held.get(p.server_ids[j]), int(matched.first_block[j]), int(matched.num_blocks[j])) for j in range(J))
    assert got == reloaded_blocks(p, matched, held)
    best = None
    for perms in itertools.product(*[itertools.permutations(g) for g in classes]):
        total = 0
        for g, perm in zip(classes, perms):
            for r, j in zip(g, perm):  # role r goes to server j
                total += _count_new(held.get(p.server_ids[j]), int(plan.first_block[r]), int(plan.num_blocks[r]))
        best = total if best is None else min(best, total)
    assert got == best
    # never worse than leaving the plan as it is
    ident = sum(_count_new(held.get(p.server_ids[j]), int(plan.first_block[j]), int(plan.num_blocks[j])) for j in range(J))
    assert got <= ident
