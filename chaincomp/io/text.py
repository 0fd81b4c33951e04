"""User text on its way to the terminal: markup escaped, control characters refused in ids."""

from __future__ import annotations

import unicodedata

from rich.markup import escape as _escape


def escape(text: object) -> str:
    """``str(text)`` with rich markup escaped (a server id ``[/]`` prints literally) and control
    characters (ANSI escapes, newlines) shown as ``\\xNN`` so they never reach the terminal raw."""
    s = str(text)
    if any(_is_control(ch) for ch in s):
        s = "".join(repr(ch)[1:-1] if _is_control(ch) else ch for ch in s)
    return _escape(s)


def short_number(value: object, keep: int = 20) -> str:
    """``repr(value)``, or for a number too long to read (10⁴⁰⁰) its first digits and its length."""
    text = repr(value)
    return text if len(text) <= keep else f"{text[:6]}… ({len(text)} digits)"


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != " "


def control_characters(text: str) -> list[str]:
    """The control / format characters in ``text`` (``\\n``, ``\\x1b``, U+202E …) as escapes."""
    return sorted({repr(ch)[1:-1] if ch.isascii() else f"U+{ord(ch):04X}" for ch in text if _is_control(ch)})


def check_identifier(value: str) -> str:
    """Validator for ids and names: no control characters (pydantic turns the ValueError into
    ``file: field: …``). Used by the instance schema for server ids and names."""
    bad = control_characters(value)
    if bad:
        raise ValueError(f"expected an identifier without control characters, got {value!r} (contains {', '.join(bad)})")
    if value != value.strip():
        raise ValueError(f"expected an identifier without leading/trailing whitespace, got {value!r}")
    return value
