"""Unpickling CIFAR's python batches without letting the file run code.

The official batches are Python 2 pickles of dicts holding bytes, lists and, in some
copies, numpy arrays. Only numpy's array reconstruction is allowed; any other global a
file asks for is refused before it is imported.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from compiler.datasets.errors import DatasetError

ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    # Python 3 writes bytes at protocol 2 as _codecs.encode(text, "latin1"), as re-pickled
    # copies of the archives do; it only encodes a string.
    ("_codecs", "encode"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"it asks to run {module}.{name}")
        return super().find_class(module, name)


def load_restricted(data: bytes, source: str) -> Any:
    try:
        return _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise DatasetError(f"refusing to load {source}: {exc}") from None
