"""`python -m netspec` is the `netspec` command, installed backends included."""

from netspec.launch import main

main()
