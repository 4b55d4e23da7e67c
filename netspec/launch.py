"""The `netspec` console script: the CLI, started the way a command that lives a fraction of
a second should be.

Start-up (pydantic, typer, rich, lark and the IR's classes) allocates a few hundred thousand
objects and frees almost none, so the cyclic garbage collector's passes over them, during
start-up and once more over everything at exit, are pure cost: a fifth of `netspec check`'s
whole process (254 ms without this, 202 ms with it, side by side on the EPYC of the README's
figures). The collector is off while the CLI loads; what loading made is then frozen out of
its sight (`gc.freeze`), and it runs as usual for the command itself, so long commands
(`train`, `lsp`) collect their own garbage.
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    try:
        from netspec.cli import main as run_cli
    finally:
        gc.freeze()
        gc.enable()
    try:
        run_cli()
    finally:
        # Nothing of value is left to finalise: skip the full collection at exit.
        gc.freeze()
