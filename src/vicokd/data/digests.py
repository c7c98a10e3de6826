"""Content hashes of per-sequence array stores and of files: what a fingerprint records of the data
a run read."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np


def content_digest(store: Mapping[str, np.ndarray], keys: Iterable[str]) -> str:
    """A hash of the arrays of ``keys`` in ``store`` (shapes, dtypes and bytes)."""
    digest = hashlib.sha256()
    for key in sorted(keys):
        array = np.ascontiguousarray(store[key])
        digest.update(f"{key}:{array.shape}:{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def file_digest(path: str | Path) -> str:
    """A hash of the file's bytes (16 hex digits), or ``"missing"`` when it cannot be read."""
    try:
        with Path(path).open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()[:16]
    except OSError:
        return "missing"
