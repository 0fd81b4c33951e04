"""The typer command-line interface. Thin: parse → call the library → render.

Importing this package installs the CLI's SIGINT/SIGTERM handlers (:mod:`chaincomp.interrupts`)
first, so an interrupt while the command modules and their dependencies load ends with one line
instead of a traceback (docs/reliability.md, "Signals").
"""

from chaincomp import interrupts as _interrupts

_interrupts.install()
