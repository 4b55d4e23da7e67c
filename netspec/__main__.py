"""`python -m netspec` is the `netspec` command, installed backends included."""

from netspec.cli import main

main()
