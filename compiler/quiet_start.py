"""TensorFlow's C++ start-up noise ("All log messages before absl::InitializeLog()", the
oneDNN notice) kept off the terminal unless the user asks for it with --verbose.

TF_CPP_MIN_LOG_LEVEL alone does not do it in TensorFlow 2.21: those lines are written to
file descriptor 2 before absl's logging reads any setting. So stderr is pointed at
/dev/null for the import only; Python errors raised by the import still surface after.
"""

from __future__ import annotations

import os
import sys


def import_tensorflow(verbose: bool) -> None:
    """Import TensorFlow and Keras now, quietly unless `verbose`; where they do not import
    (netspec installed without its `cpu` or `gpu` extra), say how to install them and exit 1
    rather than end in a traceback."""
    if "tensorflow" in sys.modules:
        return
    try:
        if verbose:
            _import()
        else:
            _import_quietly()
    except ImportError as exc:
        from netspec.cli import INSTALL_BACKEND, console

        console(stderr=True).print(
            f"error: this command needs TensorFlow and Keras, which do not import ({exc}): "
            f"{INSTALL_BACKEND}",
            markup=False,
            soft_wrap=True,
        )
        raise SystemExit(1) from None


def _import() -> None:
    import keras  # noqa: F401
    import tensorflow  # noqa: F401


def _import_quietly() -> None:
    # C++ INFO and WARNING lines after start-up (errors still show).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    try:
        _import()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
