"""Content hashes of per-sequence array stores: what a fingerprint records of the data a run read."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import numpy as np


def content_digest(store: Mapping[str, np.ndarray], keys: Iterable[str]) -> str:
    """A hash of the arrays of ``keys`` in ``store`` (shapes, dtypes and bytes)."""
    digest = hashlib.sha256()
    for key in sorted(keys):
        array = np.ascontiguousarray(store[key])
        digest.update(f"{key}:{array.shape}:{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]
