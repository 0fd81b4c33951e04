"""Reading user files safely (docs/reliability.md, "Files").

Rules, in order:

1. ``stat`` before ``open``: only a regular file (or a symlink to one) is read. A directory, FIFO,
   socket or device is refused by name, so no command ever blocks on a FIFO; the file is then opened
   with ``O_NONBLOCK`` and ``fstat``-checked again (a file swapped between the two calls is refused).
2. A size cap per kind of file (:mod:`chaincomp.io.limits`).
3. Text is UTF-8 (an UTF-8 byte-order mark is accepted and dropped). UTF-16/UTF-32 (by their BOM or
   by NUL bytes) and any other undecodable byte get a message with the byte offset and line.
4. JSON: strict (``NaN``, ``Infinity`` and a key given twice in one object refused — never "the last
   one wins"), numbers of at most 4300 digits, nesting at most
   :data:`~chaincomp.io.limits.MAX_JSON_DEPTH` levels — a deeper document is refused with a message,
   never a ``RecursionError``.

Every failure raises :class:`~chaincomp.errors.InvalidInstance` (exit code 2) whose message names the
file and what was expected.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

from chaincomp.errors import InvalidInstance
from chaincomp.io import limits

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: str | Path, what: str = "file", max_bytes: int | None = None) -> BinaryIO:
    """Open ``path`` for binary reading after checking it is a regular file within ``max_bytes``."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InvalidInstance(f"{p}: no such {what}") from None
    except NotADirectoryError:
        raise InvalidInstance(f"{p}: no such {what} (a parent is not a directory)") from None
    except PermissionError:
        raise InvalidInstance(f"{p}: permission denied (cannot read the {what})") from None
    except (OSError, ValueError) as exc:
        raise InvalidInstance(f"{p}: cannot read the {what} ({_reason(exc)})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInstance(f"{p}: is {_kind(st.st_mode)}, expected a regular {what}")
    cap = limits.MAX_JSON_BYTES if max_bytes is None else max_bytes
    if st.st_size > cap:
        raise InvalidInstance(f"{p}: {st.st_size} bytes exceeds the limit of {cap} bytes for a {what}")
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        raise InvalidInstance(f"{p}: permission denied (cannot read the {what})") from None
    except OSError as exc:
        raise InvalidInstance(f"{p}: cannot read the {what} ({_reason(exc)})") from None
    st2 = os.fstat(fd)
    if not stat.S_ISREG(st2.st_mode):
        os.close(fd)
        raise InvalidInstance(f"{p}: is {_kind(st2.st_mode)}, expected a regular {what}")
    try:
        os.set_blocking(fd, True)
    except OSError:  # pragma: no cover - regular files ignore O_NONBLOCK anyway
        pass
    return os.fdopen(fd, "rb")


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def read_bytes(path: str | Path, what: str = "file", max_bytes: int | None = None) -> bytes:
    with open_regular(path, what, max_bytes) as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise InvalidInstance(f"{path}: cannot read the {what} ({_reason(exc)})") from None


def decode_utf8(raw: bytes, label: str, what: str = "file") -> str:
    """UTF-8 text of ``raw``; UTF-16/32 and stray bytes get a message with the offset and line."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for bom, name in ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"), (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16")):
        if raw.startswith(bom):
            raise InvalidInstance(f"{label}: the {what} is {name}-encoded; expected UTF-8 (re-save it as UTF-8)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if b"\x00" in raw[:4096]:
            raise InvalidInstance(f"{label}: the {what} contains NUL bytes (UTF-16 or binary?); expected UTF-8 text") from None
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InvalidInstance(f"{label}: line {line}: byte 0x{raw[exc.start]:02x} at offset {exc.start} is not UTF-8; expected UTF-8 text") from None
    if "\x00" in text:
        raise InvalidInstance(f"{label}: the {what} contains NUL characters; expected text")
    return text


def read_text(path: str | Path, what: str = "file", max_bytes: int | None = None) -> str:
    """A regular UTF-8 text file's contents (rules 1–3)."""
    return decode_utf8(read_bytes(path, what, max_bytes), str(path), what)


class DuplicateKey(ValueError):
    """An object names the same key twice (JSON leaves the meaning open; Python would keep the last)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise DuplicateKey(f"the key {dup!r} appears twice in one object (keys {', '.join(map(repr, list(obj)[:8]))}"
                           f"{', …' if len(obj) > 8 else ''}); which value is meant? keep one")
    return obj


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (expected a finite number)")


def json_depth(obj: Any) -> int:
    """Nesting depth of parsed JSON (a scalar 0, ``[]`` 1, ``[[1]]`` 2), computed without recursion."""
    depth = 0
    stack = [(obj, 1)]
    while stack:
        cur, d = stack.pop()
        if isinstance(cur, dict):
            depth = max(depth, d)
            stack.extend((v, d + 1) for v in cur.values() if isinstance(v, (dict, list)))
        elif isinstance(cur, list):
            depth = max(depth, d)
            stack.extend((v, d + 1) for v in cur if isinstance(v, (dict, list)))
    return depth


def check_depth(obj: Any, label: str) -> Any:
    d = json_depth(obj)
    if d > limits.MAX_JSON_DEPTH:
        raise InvalidInstance(f"{label}: nested {d} levels deep; the limit is {limits.MAX_JSON_DEPTH} levels of objects/lists")
    return obj


def parse_json(text: str, label: str) -> Any:
    """Strict JSON (no NaN/Infinity, no duplicate keys) with bounded nesting; errors name ``label``,
    line and column (a duplicate key: the key and its object's keys)."""
    try:
        data = json.loads(text, parse_constant=_no_constants, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise InvalidInstance(f"{label}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise InvalidInstance(f"{label}: nested too deeply; the limit is {limits.MAX_JSON_DEPTH} levels of objects/lists") from None
    except ValueError as exc:  # NaN/Infinity, or an integer of more than 4300 digits
        raise InvalidInstance(f"{label}: not valid JSON: {exc}") from None
    return check_depth(data, label)


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    """Parse a JSON file under every rule above."""
    return parse_json(read_text(path, what), str(path))


def read_toml(path: str | Path, what: str = "TOML file") -> Any:
    import tomllib

    text = read_text(path, what)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInstance(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise InvalidInstance(f"{path}: nested too deeply; the limit is {limits.MAX_JSON_DEPTH} levels") from None
    return check_depth(data, str(path))


def open_text(path: str | Path, what: str = "file", max_bytes: int | None = None, newline: str | None = None):
    """A text stream (UTF-8, strict) on a regular file; UTF-16/32 refused by their byte-order mark.
    Decoding errors surface as ``UnicodeDecodeError`` while reading (callers report the line)."""
    import io

    fh = open_regular(path, what, max_bytes)
    head = fh.peek(4)[:4] if hasattr(fh, "peek") else b""
    for bom, name in ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"), (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16")):
        if head.startswith(bom):
            fh.close()
            raise InvalidInstance(f"{path}: the {what} is {name}-encoded; expected UTF-8 (re-save it as UTF-8)")
    return io.TextIOWrapper(fh, encoding="utf-8-sig", errors="strict", newline=newline)
