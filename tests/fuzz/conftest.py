"""Fuzz-suite session hooks: write the run counters (see harness.write_stats)."""

from tests.fuzz import harness


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    harness.write_stats()
