"""`python -m netspec` is the `netspec` command."""

from netspec.cli import app

app()
