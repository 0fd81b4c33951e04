"""Typed exceptions. The CLI maps ``ChaincompError`` subclasses to a one-paragraph message.

Exit codes: :class:`InvalidInstance` and :class:`UsageError` → 2 (user input);
:class:`InfeasibleInstance` → 2 (the instance admits no design: a proof, with the reason);
:class:`NoDesignFound` → 3 (the budget ran out or the search stopped before any design was found, or
a heuristic found none — not a proof; the message gives the bound reached); :class:`RateTargetMissed` → 4 (a baseline's
design was written but misses ν ≥ λ/ρ̄); everything else → 1 (failure).
"""


class ChaincompError(Exception):
    """Base class of every error the toolkit raises on purpose."""

    exit_code = 1


class InvalidInstance(ChaincompError):
    """A user file or parameter is malformed. The message names the file, the field and what was expected."""

    exit_code = 2


class UsageError(ChaincompError):
    """Options that do not fit together or name something that does not exist."""

    exit_code = 2


class InfeasibleInstance(ChaincompError):
    """The instance admits no solution; the message says why (e.g. memory hosts only 61 of 70 blocks)."""

    exit_code = 2


class NoDesignFound(ChaincompError):
    """No design within the budget (or before an interrupt). Not a proof of infeasibility: the message
    says how far the search got; ``bound`` is the valid bound reached, or None (job servers: a lower
    bound; the throughput objective: an upper bound on ν)."""

    exit_code = 3

    def __init__(self, message: str, bound: int | float | None = None) -> None:
        super().__init__(message)
        self.bound = bound


class RateTargetMissed(ChaincompError):
    """A method (a baseline) emitted a design whose exact ν falls short of λ/ρ̄ (see core/exact.py)."""

    exit_code = 4


class SolverUnavailable(ChaincompError):
    """A requested solver backend is not installed or not licensed for this model size."""

    exit_code = 2


class VerificationError(ChaincompError):
    """A solution failed the independent verifier."""

    exit_code = 1


class OutputError(ChaincompError):
    """An output file could not be written (a directory, a read-only folder, a full disk).

    Exit code 2 when the path is at fault (the user can choose another), 1 for a full disk or I/O
    error; :func:`chaincomp.io.output.output_error` sets it per instance.
    """

    exit_code = 2
