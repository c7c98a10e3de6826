"""A folder of NumPy arrays, one per key (a sequence id), loaded lazily one key at a time.

Ingestion writes frames, audio features and frame labels as stores; masking writes masks the same way,
so every per-sequence array shares the sequence's 2.5-FPS frame axis. Loading a store reads only its
index; ``store[key]`` memory-maps one ``.npy`` file, so a sampler touches only the frames it uses.
"""
from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from kedro.io import AbstractDataset, DatasetError

INDEX_FILE = "index.json"


def _file_name(key: str) -> str:
    """A flat, readable file name for a key such as ``Home1/01/00-Part1``."""
    return key.replace("/", "__") + ".npy"


class ArrayStore(Mapping[str, np.ndarray]):
    """Read-only mapping ``key -> np.ndarray`` over a store folder; arrays are memory-mapped on access."""

    def __init__(self, path: str | Path, mmap: bool = True):
        self.path = Path(path)
        index_path = self.path / INDEX_FILE
        if not index_path.is_file():
            raise DatasetError(f"Array store {self.path} has no {INDEX_FILE}: it was never written.")
        self._files: dict[str, str] = json.loads(index_path.read_text())
        self._mmap = "r" if mmap else None

    def __getitem__(self, key: str) -> np.ndarray:
        try:
            name = self._files[key]
        except KeyError:
            raise KeyError(f"{key!r} is not in the array store {self.path}") from None
        return np.load(self.path / name, mmap_mode=self._mmap)

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def __repr__(self) -> str:
        return f"ArrayStore({str(self.path)!r}, {len(self)} arrays)"


class ArrayStoreDataset(AbstractDataset[Mapping[str, Any], ArrayStore]):
    """Kedro dataset for an :class:`ArrayStore`.

    Saving takes a mapping ``key -> array`` or ``key -> callable returning an array`` (written one at a
    time, so a whole store never needs to sit in memory). The store is written next to its target and
    swapped in only when complete: an interrupted save leaves the previous store untouched.

    Example catalog entry::

        frames:
          type: vicokd.datasets.ArrayStoreDataset
          path: data/02_intermediate/frames
    """

    def __init__(self, path: str, mmap: bool = True, metadata: dict[str, Any] | None = None):
        self._path = Path(path)
        self._mmap = mmap
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "mmap": self._mmap}

    def _load(self) -> ArrayStore:
        return ArrayStore(self._path, mmap=self._mmap)

    def _exists(self) -> bool:
        return (self._path / INDEX_FILE).is_file()

    def _save(self, arrays: Mapping[str, np.ndarray | Callable[[], np.ndarray]]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        staging = self._path.with_name(f".{self._path.name}.{uuid.uuid4().hex[:8]}.tmp")
        staging.mkdir()
        try:
            files = {}
            for key, value in arrays.items():
                array = value() if callable(value) else value
                files[key] = _file_name(key)
                np.save(staging / files[key], np.asarray(array), allow_pickle=False)
            (staging / INDEX_FILE).write_text(json.dumps(files, indent=1))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        retired = self._path.with_name(f".{self._path.name}.{uuid.uuid4().hex[:8]}.old")
        if self._path.exists():
            self._path.rename(retired)
        staging.rename(self._path)
        shutil.rmtree(retired, ignore_errors=True)
