"""Arrays parked on disk until a consumer loads them, so a producer never holds them all in memory."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np


class SpooledArray:
    """A callable that loads one spooled array (memory-mapped); it keeps the spool folder alive."""

    def __init__(self, path: Path, folder: tempfile.TemporaryDirectory):
        self.path = path
        self._folder = folder

    def __call__(self) -> np.ndarray:
        return np.load(self.path, mmap_mode="r")


class ArraySpool:
    """A temporary folder of ``.npy`` files. ``put`` writes an array and returns its loader; the folder
    is deleted once the spool and all its loaders are garbage (or at interpreter exit)."""

    def __init__(self, directory: str | Path | None = None):
        self._folder = tempfile.TemporaryDirectory(prefix="vicokd-spool-", dir=directory)
        self._count = 0

    @property
    def path(self) -> Path:
        return Path(self._folder.name)

    def put(self, array: np.ndarray) -> SpooledArray:
        """Write ``array`` to the spool; return a callable that loads it back."""
        path = self.path / f"{self._count:06d}.npy"
        self._count += 1
        np.save(path, np.ascontiguousarray(array), allow_pickle=False)
        return SpooledArray(path, self._folder)
