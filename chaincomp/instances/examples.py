"""Embedded example instances shipped inside the package (``chaincomp/instances/examples/*.json``),
so ``chaincomp solve --example NAME`` works on a fresh install without the shared data folder.

* ``worked-example`` — SPEC §8 / the paper's Fig. 2: five servers, L = 3, s_m = 1, s_c = 0.1,
  M = (2, 3, 2, 2, 2), τ^c = (1, 2, 1, 1, 1), τ^p = (1..5)·1e-3 (explicit τ overrides), λ = 0.4, ρ̄ = 0.7.
* ``bloom-j20`` — SPEC §6.1 defaults (J = 20, η = 0.2, λ = 0.2, ρ̄ = 0.7), RTTs drawn with the
  RIPE Atlas construction of :mod:`chaincomp.instances.network` from
  ``ripe_atlas_eu_rtt.csv`` by generator ``bloom`` with seed 0; the drawn ``rtt_ms`` are stored in
  the file (the package never reads the shared data at run time).
* ``mig-testbed`` — SPEC §6.2: 3 × MIG 3g.40gb + 6 × 2g.20gb, LLaMA-2-7B (L = 32, s_m = 0.4375,
  s_c = 0.0336), λ = 2.57, l_in 2048, l_out 28, RTTs drawn the same way (generator ``mig``, seed 0).

:func:`regenerate_example` rebuilds the two RIPE-based files from the data file (a test checks the
shipped files equal the regeneration).
"""

from __future__ import annotations

import json
from pathlib import Path

from chaincomp.errors import UsageError
from chaincomp.problem import Problem

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"

#: listing order: the three SPEC examples first, then any other file alphabetically
_ORDER = ("worked-example", "bloom-j20", "mig-testbed")

#: how the RIPE-based examples were drawn: name → (family, seed, params, description)
RECIPES = {
    "bloom-j20": ("bloom", 0, {},
                  "SPEC 6.1 defaults: BLOOM-176B NF4 (L=70, s_m=1.32 GB, s_c=0.11 GB) on J=20 servers, eta=0.2 "
                  "(4 x 40 GB/120 TFLOPS/1020 GB/s, 16 x 20 GB/80 TFLOPS/510 GB/s), lambda=0.2, rho=0.7, RIPE Atlas RTTs"),
    "mig-testbed": ("mig", 0, {},
                    "SPEC 6.2: LLaMA-2-7B (L=32, s_m=0.4375 GB, s_c=0.0336 GB) on 3 A100 MIG 3g.40gb + 6 MIG 2g.20gb, "
                    "lambda=2.57 (Azure code trace), l_in 2048, l_out 28, RIPE Atlas RTTs"),
}


def _paths() -> dict[str, Path]:
    return {p.stem: p for p in sorted(EXAMPLES_DIR.glob("*.json"))}


def example_names() -> list[str]:
    names = list(_paths())
    return [n for n in _ORDER if n in names] + sorted(n for n in names if n not in _ORDER)


def example_path(name: str) -> Path:
    paths = _paths()
    if name not in paths:
        raise UsageError(f"unknown example {name!r}; available examples: {', '.join(example_names())}")
    return paths[name]


def list_examples() -> list[tuple[str, str]]:
    """(name, description) of every embedded example, SPEC examples first."""
    out = []
    for name in example_names():
        data = json.loads(_paths()[name].read_text(encoding="utf-8"))
        out.append((name, data.get("description", "")))
    return out


def load_example(name: str) -> Problem:
    """The embedded example ``name`` as a Problem (unknown name → UsageError listing the names)."""
    from chaincomp.instances.load import load_instance_file

    return load_instance_file(example_path(name))


def regenerate_example(name: str, rtt_data: str | Path) -> dict:
    """Rebuild a RIPE-based example's file content from the RIPE Atlas CSV (see :data:`RECIPES`)."""
    from chaincomp.instances.generators import generate_dict
    from chaincomp.instances.network import load_network

    if name not in RECIPES:
        raise UsageError(f"example {name!r} is not generated from RTT data; regenerable: {', '.join(RECIPES)}")
    family, seed, params, description = RECIPES[name]
    data = generate_dict(family, seed=seed, network=load_network(rtt_data), name=name, **params)
    data["description"] = description
    data["meta"]["note"] = (f"rtt_ms drawn once by `chaincomp generate {family} --seed {seed} --rtt-data "
                            f"ripe_atlas_eu_rtt.csv` (RIPE Atlas construction, chaincomp.instances.network) "
                            f"and stored here; the package does not read the data file at run time")
    return data

