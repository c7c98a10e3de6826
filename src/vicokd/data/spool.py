"""Arrays parked on disk until a consumer loads them, so a producer never holds them all in memory."""

from __future__ import annotations

import tempfile
import weakref
from pathlib import Path

import numpy as np

from vicokd.datasets.staging import naming_full_disk, remove, staging_path, sweep_stale

#: Spool folders are ``.vicokd-spool.<host>.<pid>.<token>.tmp`` in the temporary directory.
SPOOL_NAME = "vicokd-spool"


class SpooledArray:
    """A callable that loads one spooled array (memory-mapped); it keeps its spool alive."""

    def __init__(self, path: Path, spool: ArraySpool):
        self.path = path
        self._spool = spool

    def __call__(self) -> np.ndarray:
        return np.load(self.path, mmap_mode="r")


class ArraySpool:
    """A temporary folder of ``.npy`` files. ``put`` writes an array and returns its loader.

    The folder is deleted by :meth:`close`, or once the spool and all its loaders are garbage (or
    at interpreter exit). Its name carries this process's id, so the folder of a killed process is
    swept when the next spool starts in the same directory.
    """

    def __init__(self, directory: str | Path | None = None):
        parent = Path(directory or tempfile.gettempdir())
        sweep_stale(parent, SPOOL_NAME)
        self.path = staging_path(parent / SPOOL_NAME)
        self.path.mkdir()
        self._count = 0
        self._finalizer = weakref.finalize(self, remove, self.path)

    def put(self, array: np.ndarray) -> SpooledArray:
        """Write ``array`` to the spool; return a callable that loads it back.

        A failed write leaves no partial file; a full disk raises DiskFullError naming the file.
        """
        path = self.path / f"{self._count:06d}.npy"
        self._count += 1
        try:
            with naming_full_disk(path):
                np.save(path, np.ascontiguousarray(array), allow_pickle=False)
        except BaseException:
            remove(path)
            raise
        return SpooledArray(path, self)

    def close(self) -> None:
        """Delete the folder now (its loaders stop working)."""
        self._finalizer()
