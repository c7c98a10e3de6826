"""A folder of NumPy arrays, one per key (a sequence id), loaded lazily one key at a time.

Ingestion writes frames, log-mels and frame labels as stores; masking writes masks the same way,
so every per-sequence array shares the sequence's 2.5-FPS frame axis. Loading a store reads only its
index; ``store[key]`` memory-maps one ``.npy`` file, so a sampler touches only the frames it uses.

On disk a store folder holds generations, each a complete set of arrays written by one save::

    frames/
      20260115T101500123456Z-3f2a9c1b/   index.json ({"ingestion_id": ..., "fingerprint": ...,
                                         "arrays": {key: file}}), one .npy file per key
      CURRENT                            the live generation's name (stores without a table)

A save writes a new generation under a staging name and renames it when complete, so a reader
never sees a partial one. Which generation is live:

- a store tied to a table (``table:`` in the catalog, the ingestion stores): the generation stamped
  with the ingestion id of the committed ``sequences`` table. The table is saved after its stores,
  so until it commits readers keep the previous generation; a table and stores of different runs
  raise :class:`IngestionMismatchError` instead of being paired.
- any other store: the generation named in ``CURRENT``, replaced atomically after the write.

Older generations are deleted once superseded (when the table commits, or ``CURRENT`` moves).

A save that carries a ``fingerprint`` (what its arrays are computed from, see
:class:`StampedArrays`) computes nothing when the store already holds a complete generation of that
fingerprint: one of the same ingestion id is kept as it is, one of another ingestion id is stamped
with the new id in a new generation of hard links to its files. So a stage whose inputs did not
change hands the store lazy loaders that are never called.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from kedro.io import AbstractDataset, DatasetError
from tqdm.auto import tqdm

from vicokd.datasets.ingestion_stamp import (
    ATTR,
    FIX,
    IngestionMismatchError,
    read_table_stamp,
)
from vicokd.datasets.staging import remove, staged, sweep_stale, timestamped_id

log = logging.getLogger(__name__)

INDEX_FILE = "index.json"
#: Key of a generation's fingerprint in its index.
FINGERPRINT = "fingerprint"
CURRENT_FILE = "CURRENT"


def _file_name(key: str) -> str:
    """A flat, readable file name for a key such as ``Home1/01/00-Part1``."""
    return key.replace("/", "__") + ".npy"


class StampedArrays(Mapping[str, Any]):
    """What a stage saves into a store: a mapping ``key -> array`` (or a callable returning one),
    the ``ingestion_id`` of the table the arrays belong to and, optionally, the ``fingerprint`` of
    everything they are computed from (a store that already holds it computes nothing)."""

    def __init__(self, arrays: Mapping[str, Any], ingestion_id: str | None,
                 fingerprint: str | None = None):
        self._arrays = arrays
        self.ingestion_id = ingestion_id
        self.fingerprint = fingerprint

    def __getitem__(self, key: str) -> Any:
        return self._arrays[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)


def lazy_loaders(
    keys: Iterable[str], compute: Callable[[str], np.ndarray], description: str
) -> dict[str, Callable[[], np.ndarray]]:
    """``key -> loader`` that runs ``compute(key)`` when a store writes it, one key at a time, with
    a progress bar, drawn on a terminal only, that appears at the first computation (none when the
    store already holds the arrays and calls no loader)."""
    keys = list(keys)
    bar: list[tqdm] = []

    def loader(key: str) -> Callable[[], np.ndarray]:
        def load() -> np.ndarray:
            if not bar:
                bar.append(tqdm(total=len(keys), desc=description, unit="sequence", disable=None))
            array = compute(key)
            bar[0].update()
            if bar[0].n == len(keys):
                bar[0].close()
            return array
        return load

    return {key: loader(key) for key in keys}


class ArrayStore(Mapping[str, np.ndarray]):
    """Read-only mapping ``key -> np.ndarray`` over one generation folder; arrays are memory-mapped
    on access. ``ingestion_id``: the ingestion the arrays belong to; ``fingerprint``: what they were
    computed from (each None when unstamped)."""

    def __init__(self, path: str | Path, mmap: bool = True):
        self.path = Path(path)
        index_path = self.path / INDEX_FILE
        if not index_path.is_file():
            raise DatasetError(f"Array store {self.path} has no {INDEX_FILE}: it was never written.")
        index = json.loads(index_path.read_text())
        if not {ATTR, "arrays"} <= set(index) <= {ATTR, FINGERPRINT, "arrays"}:
            raise DatasetError(
                f"Array store {self.path} was written by an older version of vicokd: run the "
                f"pipeline that writes it again."
            )
        self.ingestion_id: str | None = index[ATTR]
        self.fingerprint: str | None = index.get(FINGERPRINT)
        self._files: dict[str, str] = index["arrays"]
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
        return f"ArrayStore({str(self.path)!r}, {len(self)} arrays, ingestion {self.ingestion_id})"


def _indexes(store: Path) -> dict[str, dict[str, Any]]:
    """The index of every complete generation of ``store``: ``name -> index``, oldest first."""
    if not store.is_dir():
        return {}
    return {folder.name: json.loads((folder / INDEX_FILE).read_text())
            for folder in sorted(store.iterdir())
            if folder.is_dir() and not folder.name.startswith(".") and (folder / INDEX_FILE).is_file()}


def generations(store: Path) -> dict[str, str | None]:
    """The complete generations of the store folder ``store``: ``name -> ingestion id``, oldest first."""
    return {name: index[ATTR] for name, index in _indexes(store).items()}


def generation_of(store: Path, ingestion_id: str) -> str | None:
    """The newest generation of ``store`` stamped ``ingestion_id``, or None."""
    names = [name for name, stamp in generations(store).items() if stamp == ingestion_id]
    return names[-1] if names else None


def prune_generations(store: Path, keep: Collection[str]) -> None:
    """Delete every generation of ``store`` not named in ``keep``, every other entry that is not a
    live file (an interrupted save's leftovers), and stale staging entries."""
    sweep_stale(store)
    if not store.is_dir():
        return
    for entry in store.iterdir():
        if entry.name not in keep and entry.name != CURRENT_FILE and not entry.name.startswith("."):
            remove(entry)


def open_store(store: str | Path, ingestion_id: str, mmap: bool = True) -> ArrayStore:
    """The generation of ``store`` written with the table of ``ingestion_id``.

    Raises IngestionMismatchError naming the store, the ids it holds and the fix when there is none.
    """
    store = Path(store)
    name = generation_of(store, ingestion_id)
    if name is None:
        held = sorted({stamp for stamp in generations(store).values() if stamp}) or "nothing"
        raise IngestionMismatchError(
            f"The array store {store} holds no arrays of ingestion {ingestion_id}, the run that "
            f"wrote the sequences table (it holds {held}): the table and the store come from "
            f"different ingestion runs. {FIX}"
        )
    return ArrayStore(store / name, mmap=mmap)


class ArrayStoreDataset(AbstractDataset[Mapping[str, Any], ArrayStore]):
    """Kedro dataset for an :class:`ArrayStore`.

    Saving takes a mapping ``key -> array`` or ``key -> callable returning an array`` (written one at a
    time, so a whole store never needs to sit in memory); a :class:`StampedArrays` also records its
    ingestion id. An interrupted save leaves the live generation untouched.

    Args:
        path: the store folder.
        table: the ``sequences`` parquet file that commits this store (ingestion's stores): loading
            returns the generation stamped with the table's ingestion id, and saving requires
            :class:`StampedArrays`.
        mmap: memory-map arrays on access (else read them whole).

    Example catalog entry::

        frames:
          type: vicokd.datasets.ArrayStoreDataset
          path: data/02_intermediate/frames
          table: data/02_intermediate/sequences.parquet
    """

    def __init__(
        self,
        path: str,
        table: str | None = None,
        mmap: bool = True,
        metadata: dict[str, Any] | None = None,
    ):
        self._path = Path(path)
        self._table = Path(table) if table else None
        self._mmap = mmap
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "table": self._table and str(self._table), "mmap": self._mmap}

    def _load(self) -> ArrayStore:
        if self._table is not None:
            return open_store(self._path, read_table_stamp(self._table), self._mmap)
        current = self._path / CURRENT_FILE
        if not current.is_file():
            raise DatasetError(
                f"Array store {self._path} has no {CURRENT_FILE} file: it was never written (or "
                f"by an older version). Run the pipeline that writes it."
            )
        return ArrayStore(self._path / current.read_text().strip(), mmap=self._mmap)

    def _exists(self) -> bool:
        try:
            self._load()
        except DatasetError:
            return False
        return True

    def _save(self, arrays: Mapping[str, np.ndarray | Callable[[], np.ndarray]]) -> None:
        stamp = getattr(arrays, ATTR, None)
        fingerprint = getattr(arrays, FINGERPRINT, None)
        if self._table is not None and stamp is None:
            raise DatasetError(
                f"Array store {self._path} is committed by the table {self._table}: save "
                f"StampedArrays carrying the ingestion id of that table."
            )
        name = self._held_generation(stamp, fingerprint)
        if name is None:
            name = timestamped_id()
            with staged(self._path / name) as staging:
                staging.mkdir()
                files = {}
                for key, value in arrays.items():
                    array = value() if callable(value) else value
                    files[key] = _file_name(key)
                    np.save(staging / files[key], np.asarray(array), allow_pickle=False)
                _write_index(staging, stamp, fingerprint, files)
        if self._table is None:
            with staged(self._path / CURRENT_FILE) as pointer:
                pointer.write_text(name)
        prune_generations(self._path, keep={name, *self._committed_generation()})

    def _held_generation(self, stamp: str | None, fingerprint: str | None) -> str | None:
        """The generation that already holds what a save of ``(stamp, fingerprint)`` would write,
        or None. An ingestion store's generation of the same ingestion id holds it; otherwise a
        generation of the same (non-null) fingerprint does, stamped with ``stamp`` in a new
        generation of hard links when its ingestion id differs."""
        indexes = _indexes(self._path)
        for name, index in reversed(indexes.items()):
            same_stamp = index[ATTR] == stamp and index.get(FINGERPRINT) == fingerprint
            if same_stamp and (self._table is not None or fingerprint is not None):
                log.info("%s already holds these arrays (generation %s): kept", self._path, name)
                return name
        for name, index in reversed(indexes.items()):
            if fingerprint is not None and index.get(FINGERPRINT) == fingerprint:
                log.info("%s already holds these arrays (generation %s of ingestion %s): stamped "
                         "with ingestion %s", self._path, name, index[ATTR], stamp)
                return _restamped(self._path / name, stamp)
        return None

    def _committed_generation(self) -> list[str]:
        """The generation the committed table pairs with (kept until a newer table commits)."""
        if self._table is None or not self._table.is_file():
            return []
        try:
            committed = generation_of(self._path, read_table_stamp(self._table))
        except IngestionMismatchError:  # an unstamped table pairs with no generation
            return []
        return [committed] if committed else []


def _write_index(folder: Path, stamp: str | None, fingerprint: str | None,
                 files: Mapping[str, str]) -> None:
    index = {ATTR: stamp, **({FINGERPRINT: fingerprint} if fingerprint else {}), "arrays": dict(files)}
    (folder / INDEX_FILE).write_text(json.dumps(index, indent=1))


def _restamped(generation: Path, stamp: str | None) -> str:
    """A new generation beside ``generation`` with its arrays (hard links, or copies where the file
    system has none) and its index stamped with ingestion id ``stamp``; returns its name."""
    index = json.loads((generation / INDEX_FILE).read_text())
    name = timestamped_id()
    with staged(generation.parent / name) as staging:
        staging.mkdir()
        for file in index["arrays"].values():
            try:
                os.link(generation / file, staging / file)
            except OSError:
                shutil.copyfile(generation / file, staging / file)
        _write_index(staging, stamp, index.get(FINGERPRINT), index["arrays"])
    return name
