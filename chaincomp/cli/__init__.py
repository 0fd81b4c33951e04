"""The typer command-line interface. Thin: parse → call the library → render."""
