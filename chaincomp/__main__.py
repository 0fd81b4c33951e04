"""``python -m chaincomp`` — same as the ``chaincomp`` console script."""

from chaincomp.cli.app import main

if __name__ == "__main__":
    main()
