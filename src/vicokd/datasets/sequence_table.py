"""The ``sequences`` table as the commit record of an ingestion run.

Saved after its array stores, atomically (staging file, then rename), with its ingestion id (and the
ingestion's inputs and report) in the parquet schema metadata. The moment the file is replaced,
readers pair the table with the store generations of the new id; the previous generations are then
deleted. :class:`CommittedIngestionDataset` reads the same file as ingestion's own record of what it
last committed.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from kedro.io import AbstractDataset, DatasetError

from vicokd.datasets.array_store import generation_of, prune_generations
from vicokd.datasets.ingestion_stamp import (
    ATTR,
    INPUTS_ATTR,
    PARQUET_KEY,
    RECORD_ATTRS,
    REPORT_ATTR,
    table_stamp,
)
from vicokd.datasets.staging import staged

log = logging.getLogger(__name__)


class SequenceTableDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Parquet file of the ``sequences`` table, stamped with its ingestion id.

    Loading returns the table with ``attrs["ingestion_id"]``; saving requires that stamp (see
    :func:`vicokd.datasets.ingestion_stamp.stamp_table`) and then prunes the older generations of
    ``stores`` (the array stores written with the table). Saving the table the file already commits
    (the same id, inputs and report: a reused ingestion) leaves the file's bytes as they are, so
    what reads it sees no change.

    Example catalog entry::

        sequences:
          type: vicokd.datasets.SequenceTableDataset
          filepath: data/02_intermediate/sequences.parquet
          stores: [data/02_intermediate/frames, data/02_intermediate/frame_labels]
    """

    def __init__(
        self,
        filepath: str,
        stores: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        self._filepath = Path(filepath)
        self._stores = [Path(store) for store in stores or []]
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "stores": [str(s) for s in self._stores]}

    def _load(self) -> pd.DataFrame:
        if not self._filepath.is_file():
            raise DatasetError(
                f"The sequences table {self._filepath} does not exist: run the ingestion pipeline."
            )
        table = pq.read_table(self._filepath)
        stamp = (table.schema.metadata or {}).get(PARQUET_KEY)
        frame = table.to_pandas()
        frame.attrs = {ATTR: stamp.decode()} if stamp else {}
        return frame

    def _save(self, data: pd.DataFrame) -> None:
        stamp = table_stamp(data)
        if stamp is None:
            raise DatasetError(
                f"Saving {self._filepath}: the sequences table carries no ingestion id "
                f"(attrs[{ATTR!r}]); only ingestion writes it, together with its array stores."
            )
        records = {PARQUET_KEY: stamp.encode(),
                   **{key: json.dumps(data.attrs[attr]).encode()
                      for attr, key in RECORD_ATTRS.items() if attr in data.attrs}}
        if not self._commits(records):
            table = pa.Table.from_pandas(data)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **records})
            with staged(self._filepath) as staging:
                pq.write_table(table, staging)
        for store in self._stores:
            committed = generation_of(store, stamp)
            if committed is not None:  # a store without the new generation keeps what it has
                prune_generations(store, keep={committed})

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _commits(self, records: dict[bytes, bytes]) -> bool:
        """Whether the file on disk carries exactly these stamp and records."""
        try:
            on_disk = pq.read_schema(self._filepath).metadata or {}
        except (OSError, pa.ArrowException):  # no file, or not a readable parquet file
            return False
        return all(on_disk.get(key) == value for key, value in records.items())



@dataclass(frozen=True)
class CommittedIngestion:
    """The ingestion a ``sequences`` file commits: its ``table`` (``attrs``: id, inputs and report,
    so it can be saved again as it is) and the stores that lack its arrays (``missing_stores``).
    Without a committed table, ``table`` is empty and has no id."""

    table: pd.DataFrame
    missing_stores: tuple[str, ...] = ()

    @property
    def ingestion_id(self) -> str | None:
        return table_stamp(self.table)

    @property
    def inputs(self) -> dict[str, Any] | None:
        """The parts of its inputs fingerprint (None: none committed, or an older table)."""
        return self.table.attrs.get(INPUTS_ATTR)

    @property
    def report(self) -> dict[str, Any] | None:
        """The report of the ingestion that decoded it."""
        return self.table.attrs.get(REPORT_ATTR)

    @property
    def complete(self) -> bool:
        """Whether it can be reused: a table stamped with its id, inputs and report whose every
        store holds its arrays."""
        return (None not in (self.ingestion_id, self.inputs, self.report)
                and not self.missing_stores)


class CommittedIngestionDataset(AbstractDataset[None, CommittedIngestion]):
    """The ``sequences`` parquet file read as ingestion's record of its last commit (read-only).

    Ingestion takes it as an input, beside the ``sequences`` output on the same file: a node cannot
    read its own output, and a second catalog entry keeps the dependency visible (kedro-viz draws
    it as an input of the node) without a hidden read of the file inside the library. A missing
    file loads as a :class:`CommittedIngestion` without id, so a first run decodes.

    Example catalog entry::

        committed_ingestion:
          type: vicokd.datasets.CommittedIngestionDataset
          filepath: data/02_intermediate/sequences.parquet
          stores: [data/02_intermediate/frames, data/02_intermediate/frame_labels]
    """

    def __init__(self, filepath: str, stores: list[str] | None = None,
                 metadata: dict[str, Any] | None = None):
        self._filepath = Path(filepath)
        self._stores = [Path(store) for store in stores or []]
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "stores": [str(s) for s in self._stores]}

    def _load(self) -> CommittedIngestion:
        if not self._filepath.is_file():
            log.info("%s does not exist: no ingestion committed yet", self._filepath)
            return CommittedIngestion(pd.DataFrame())
        table = pq.read_table(self._filepath)
        metadata = table.schema.metadata or {}
        frame = table.to_pandas()
        frame.attrs = {attr: json.loads(metadata[key]) for attr, key in RECORD_ATTRS.items()
                       if key in metadata}
        if PARQUET_KEY in metadata:
            frame.attrs[ATTR] = metadata[PARQUET_KEY].decode()
        stamp = frame.attrs.get(ATTR)
        missing = tuple(str(store) for store in self._stores
                        if stamp is None or generation_of(store, stamp) is None)
        return CommittedIngestion(frame, missing)

    def _save(self, data: None) -> None:
        raise DatasetError(f"{self._filepath} is saved through the `sequences` dataset; "
                           f"{type(self).__name__} only reads it.")

    def _exists(self) -> bool:
        return self._filepath.is_file()
