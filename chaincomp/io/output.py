"""Writing output files atomically (docs/reliability.md, "Outputs").

``--out``, ``--csv``, ``--plot`` and every other file the toolkit writes go through
:func:`atomic_write`: the data goes to a temporary file in the target's folder, is flushed and
``fsync``-ed, and is then renamed over the target (``os.replace``), so a reader never sees half a
file and a failure leaves the old file intact. A target that is a directory, a missing or read-only
folder, a full disk or any other ``OSError`` raises :class:`~chaincomp.errors.OutputError` naming the
file and the reason (exit code 2 for a path the user can fix, 1 for a full disk or I/O error).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Callable, Iterator, TextIO

from chaincomp.errors import OutputError, UsageError

#: errno values that mean "this path cannot be written" (the user can pick another): exit code 2
_USER_ERRNOS = {errno.EISDIR, errno.ENOTDIR, errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG, errno.ELOOP, errno.EEXIST, errno.EINVAL}


def output_error(path: str | Path, exc: OSError, what: str = "output file") -> OutputError:
    """An :class:`OutputError` for ``exc`` raised while writing ``path``."""
    reason = exc.strerror or str(exc)
    err = OutputError(f"{path}: cannot write the {what} ({reason})")
    err.exit_code = 2 if exc.errno in _USER_ERRNOS else 1
    return err


def check_target(path: str | Path, what: str = "output file") -> Path:
    """Refuse a target that exists and is not a regular file (a directory, FIFO, device)."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        return p
    except OSError as exc:
        raise output_error(p, exc, what) from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{p}: is a directory; expected a file name for the {what}")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{p}: is not a regular file; refusing to replace it with the {what}")
    return p


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", what: str = "output file", newline: str | None = None) -> Iterator[TextIO]:
    """Context manager: a file object on a temporary file that replaces ``path`` on success."""
    p = check_target(path, what)
    tmp = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        binary = "b" in mode
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": newline})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, p)
        tmp = None
    except OSError as exc:
        raise output_error(p, exc, what) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _publish(tmp: str, p: Path) -> None:
    """Give the finished temporary file the usual permissions (mkstemp creates 0600) and rename it
    onto ``p`` (atomic on POSIX)."""
    with contextlib.suppress(OSError):
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, p)


def atomic_write(path: str | Path, data: str | bytes, what: str = "output file") -> None:
    """Write ``data`` to ``path`` atomically (temporary file + rename)."""
    with atomic_open(path, "wb" if isinstance(data, bytes) else "w", what) as fh:
        fh.write(data)


def atomic_save(path: str | Path, save: Callable[[str], None], what: str = "output file") -> None:
    """Let ``save(tmp_path)`` write (e.g. ``matplotlib.Figure.savefig``), then rename onto ``path``."""
    p = check_target(path, what)
    tmp = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=p.suffix or ".tmp", dir=p.parent)
        os.close(fd)
        save(tmp)
        _publish(tmp, p)
        tmp = None
    except OSError as exc:
        raise output_error(p, exc, what) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def ensure_dir(path: str | Path, what: str = "output folder") -> Path:
    """Create folder ``path`` (and parents); an existing non-folder or an OSError → :class:`OutputError`."""
    p = Path(path)
    try:
        if p.exists() and not p.is_dir():
            raise OutputError(f"{p}: exists and is not a directory; expected a folder for the {what}")
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(p, exc, what) from None
    return p


FIGURE_FORMATS = ("png", "pdf", "svg")


def check_figure_path(path: str | Path, option: str) -> Path:
    """A figure file named by the user: its suffix must be one of :data:`FIGURE_FORMATS` (checked
    before any work, so a typo does not cost the run it was to plot)."""
    p = Path(path)
    fmt = p.suffix.lstrip(".").lower()
    if fmt not in FIGURE_FORMATS:
        raise UsageError(f"{option} {p}: expected a figure file ending in {', '.join('.' + f for f in FIGURE_FORMATS)}, "
                         f"got {'no suffix' if not fmt else repr(p.suffix)}")
    return p


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    """``fig.savefig`` through :func:`atomic_save` (format from the file name's suffix, PNG if none)."""
    p = Path(path)
    fmt = p.suffix.lstrip(".").lower() or "png"
    atomic_save(p, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt), "plot")
    return p
