"""Drive the real CLI on fuzzed input and check the reliability contract (docs/reliability.md).

Every run must end with exit code 0, 1 or 2, print no 'Traceback', and finish within a time limit.
In-process runs call :func:`chaincomp.cli.app.main` — the console script's own entry — with
``CHAINCOMP_DEBUG=1`` so an internal error raises here (and fails the test with its traceback)
instead of being reported as one line. A few runs go through ``python -m chaincomp.cli``.

Modes: quick (CI, the default: few examples per input kind, derandomized) or full
(``CHAINCOMP_FUZZ=full``: many examples, random seeds). ``CHAINCOMP_FUZZ_EXAMPLES=N`` overrides the
example count. Counters of every run are kept in :data:`STATS` and written to
``$CHAINCOMP_FUZZ_STATS`` (JSON) at the end of the session when that variable is set.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings

FULL = os.environ.get("CHAINCOMP_FUZZ", "").lower() == "full"
EXAMPLES = int(os.environ.get("CHAINCOMP_FUZZ_EXAMPLES", "400" if FULL else "12"))
#: wall-clock limit of one in-process run (s); a hang fails the test
TIME_LIMIT_S = 60.0
ROOT = Path(__file__).resolve().parents[2]

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not FULL,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture],
)

#: per command: runs and exit codes (written to $CHAINCOMP_FUZZ_STATS)
STATS: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class _Hang(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise _Hang


def run_cli(*argv: str, limit_s: float = TIME_LIMIT_S) -> Result:
    """Run ``chaincomp ARGV`` in-process and assert the contract; returns the result."""
    from chaincomp.cli.app import main

    os.environ["CHAINCOMP_DEBUG"] = "1"
    os.environ["CHAINCOMP_NO_FAST_EXIT"] = "1"
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    t0 = time.monotonic()
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except _Hang:
        raise AssertionError(f"chaincomp {' '.join(argv)} ran past {limit_s} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        os.environ.pop("CHAINCOMP_DEBUG", None)
        from chaincomp import interrupts

        interrupts.reset()
        for sig in (signal.SIGINT, signal.SIGTERM):  # main() installed the CLI's handlers; give pytest its own back
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)
    res = Result(code, out.getvalue(), err.getvalue(), time.monotonic() - t0)
    STATS[argv[0]][code] += 1
    check(res, argv)
    return res


def check(res: Result, argv) -> None:
    # 0 ok, 1 failure / verify found violations, 2 bad input or proved infeasible, 3 no design found
    # within the budget, 4 a baseline's design written but missing λ/ρ̄ (README, exit codes)
    assert res.code in (0, 1, 2, 3, 4), f"exit code {res.code} from chaincomp {' '.join(map(str, argv))}:\n{res.output[-2000:]}"
    assert "Traceback" not in res.output, f"traceback from chaincomp {' '.join(map(str, argv))}:\n{res.output[-3000:]}"
    if res.code in (2, 3, 4):
        assert res.stderr.strip(), f"exit {res.code} without a message from chaincomp {' '.join(map(str, argv))}"


def run_subprocess(*argv: str, limit_s: float = TIME_LIMIT_S) -> Result:
    """``python -m chaincomp.cli ARGV`` in a fresh interpreter, same contract."""
    t0 = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k not in ("CHAINCOMP_DEBUG",)}
    proc = subprocess.run([sys.executable, "-m", "chaincomp.cli", *argv], capture_output=True, text=True,
                          timeout=limit_s, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    res = Result(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)
    STATS["subprocess:" + argv[0]][res.code] += 1
    check(res, argv)
    return res


def write_stats() -> None:
    path = os.environ.get("CHAINCOMP_FUZZ_STATS")
    if path:
        data = {cmd: {str(k): v for k, v in sorted(c.items())} for cmd, c in sorted(STATS.items())}
        data["_total"] = sum(sum(c.values()) for c in STATS.values())
        data["_mode"] = "full" if FULL else "quick"
        data["_examples_per_test"] = EXAMPLES
        Path(path).write_text(json.dumps(data, indent=2) + "\n")
