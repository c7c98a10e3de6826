"""The ``sequences`` table as the commit record of an ingestion run.

Saved after its array stores, atomically (staging file, then rename), with its ingestion id in the
parquet schema metadata. The moment the file is replaced, readers pair the table with the store
generations of the new id; the previous generations are then deleted.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from kedro.io import AbstractDataset, DatasetError

from vicokd.datasets.array_store import generation_of, prune_generations
from vicokd.datasets.ingestion_stamp import ATTR, PARQUET_KEY, table_stamp
from vicokd.datasets.staging import staged


class SequenceTableDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Parquet file of the ``sequences`` table, stamped with its ingestion id.

    Loading returns the table with ``attrs["ingestion_id"]``; saving requires that stamp (see
    :func:`vicokd.datasets.ingestion_stamp.stamp_table`) and then prunes the older generations of
    ``stores`` (the array stores written with the table).

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
        table = pa.Table.from_pandas(data)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), PARQUET_KEY: stamp.encode()}
        )
        with staged(self._filepath) as staging:
            pq.write_table(table, staging)
        for store in self._stores:
            committed = generation_of(store, stamp)
            if committed is not None:  # a store without the new generation keeps what it has
                prune_generations(store, keep={committed})

    def _exists(self) -> bool:
        return self._filepath.is_file()

