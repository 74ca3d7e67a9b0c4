"""The `astrokeras` command line: one typer application, one module per command."""
