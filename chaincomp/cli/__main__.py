"""``python -m chaincomp.cli`` — same as the ``chaincomp`` console script."""

from chaincomp.cli.entry import main

main()
