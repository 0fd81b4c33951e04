"""The paper's evaluation as commands: ``chaincomp experiment NAME`` (SPEC §6).

Experiments (each returns an :class:`ExperimentResult`: rows for a table, CSV and JSON, plus an
optional PNG figure):

- ``placement`` — GBP-CR vs 100 random feasible placements on c·K(c), homogeneous (η = 0) and
  heterogeneous (η = 0.2) BLOOM-176B clusters (the paper's Fig. 1);
- ``allocation`` — GCA's job servers vs GBP-CR's c·K(c), the lower bound ⌈λ/(ρ̄μ₁)⌉ and the
  fixed-chain ILP (SPEC §2.2) with λ = 10–90 % of the GCA chains' rate (Fig. 2);
- ``dispatch`` — JFFC vs JSQ, JIQ, SED, SA-JSQ at load 0.1–0.9 with the Theorem-4 bounds (Fig. 3);
- ``tuning`` — c sweep: surrogate c·K(c)/λ, both Theorem-4 bounds, simulated JFFC; c* vs λ (Fig. 5/6);
- ``overall`` — proposed vs PETALS vs BPRR over J × η, Monte Carlo (Fig. 6);
- ``testbed`` — the 9-server LLaMA-2-7B setup with the first 1000 Azure-trace requests: proposed vs
  PETALS vs BPRR vs JFFC-only (Table I).

Modules: :mod:`.runs` (the experiments; instances come from :mod:`chaincomp.instances.generators`,
families ``bloom`` and ``mig``, with RIPE Atlas RTTs from :mod:`chaincomp.instances.network`),
:mod:`.compare` (method → simulation), :mod:`.output` (CSV/JSON/PNG).
"""

from chaincomp.experiments.output import ExperimentResult  # noqa: F401

NAMES = ("placement", "allocation", "dispatch", "tuning", "overall", "testbed")

# the command-line options each experiment reads; one given to an experiment that does not read it
# is refused rather than ignored (tuning sweeps c itself, so it takes no fixed c)
OPTION_USERS = {
    "runs": ("overall",),
    "jobs": ("dispatch", "tuning", "overall"),
    "requests": ("testbed",),
    "cache_reservation": ("placement", "allocation", "dispatch", "overall", "testbed"),
    "service_scale": ("testbed",),
}


def run(name: str, **options) -> "ExperimentResult":
    from chaincomp.errors import UsageError
    from chaincomp.experiments import runs

    key = name.strip().lower()
    if key not in NAMES:
        raise UsageError(f"unknown experiment {name!r}; choose from {', '.join(NAMES)}")
    for option, users in OPTION_USERS.items():
        if options.get(option) is not None and key not in users:
            raise UsageError(f"--{option.replace('_', '-')} applies to the {' / '.join(users)} experiment"
                             f"{'s' if len(users) > 1 else ''} only; experiment {key} does not use it")
    return getattr(runs, f"run_{key}")(**options)
