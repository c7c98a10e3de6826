"""Content hashes of per-sequence array stores and of files: what a fingerprint records of the data
a run read."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from vicokd.datasets.array_store import INDEX_FILE, ArrayStore

#: Digests of array stores, whose generation folders are written once and never changed, by
#: (folder, its index file's modification time, keys): a process that trains many models of one
#: home hashes each store once, not once per model.
_DIGESTS: dict[tuple[str, int, tuple[str, ...]], str] = {}


def content_digest(store: Mapping[str, np.ndarray], keys: Iterable[str]) -> str:
    """A hash of the arrays of ``keys`` in ``store`` (shapes, dtypes and bytes); computed once per
    process for an :class:`~vicokd.datasets.array_store.ArrayStore`."""
    keys = tuple(sorted(keys))
    if not isinstance(store, ArrayStore):
        return _digest(store, keys)
    index = store.path / INDEX_FILE
    key = (str(index.parent.resolve()), index.stat().st_mtime_ns, keys)
    if key not in _DIGESTS:
        _DIGESTS[key] = _digest(store, keys)
    return _DIGESTS[key]


def _digest(store: Mapping[str, np.ndarray], keys: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for key in keys:
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
