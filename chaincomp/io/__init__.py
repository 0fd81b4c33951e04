"""The input/output boundary: every user file is read and every output file is written here.

* :mod:`chaincomp.io.limits` — the documented size limits (servers, blocks, c range, seeds, trace
  rows, nesting depth, token counts, file sizes) and the checks that refuse input above them;
* :mod:`chaincomp.io.files` — reading: regular files only (a FIFO, device or directory is refused
  after ``stat`` and before ``open``, so nothing blocks), a size cap, UTF-8 only with a clear
  message for UTF-16/UTF-32/other encodings, JSON with bounded nesting and no ``NaN``/``Infinity``;
* :mod:`chaincomp.io.output` — writing: a temporary file in the target's folder, ``fsync``, then
  ``os.replace``; any ``OSError`` (a directory, a read-only folder, a full disk) becomes a
  :class:`~chaincomp.errors.OutputError` message instead of a traceback;
* :mod:`chaincomp.io.text` — user text that reaches the terminal: rich markup escaped, control
  characters refused in identifiers.

The rules and limits are listed in docs/reliability.md.
"""
