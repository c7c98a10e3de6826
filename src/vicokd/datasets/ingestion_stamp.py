"""The ingestion id: one stamp shared by the ``sequences`` table and the array stores written with it.

The id is the fingerprint of what ingestion read (:mod:`vicokd.data.ingestion_inputs`), stamped on
everything it writes: the table (``DataFrame.attrs``, kept in the parquet file's schema metadata) and
each store generation (its index). A reader pairs a table with the store generations of the same id,
so a table never meets arrays made from other inputs. Beside the id the table keeps the inputs'
parts (to say what changed next time) and the report of the ingestion that decoded them (to report
it again when a later run reuses them).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from kedro.io import DatasetError

from vicokd.datasets.staging import timestamped_id

#: Key of the id in ``DataFrame.attrs`` and in an array store's index.
ATTR = "ingestion_id"
#: Key of the id in the parquet file's schema metadata.
PARQUET_KEY = b"vicokd.ingestion_id"
#: ``DataFrame.attrs`` keys kept in the parquet schema metadata beside the id (as JSON): the parts
#: of the inputs fingerprint, and the report of the ingestion that decoded them.
INPUTS_ATTR, REPORT_ATTR = "ingestion_inputs", "ingestion_report"
RECORD_ATTRS = {INPUTS_ATTR: b"vicokd.ingestion_inputs", REPORT_ATTR: b"vicokd.ingestion_report"}
#: What to do when a table and its arrays disagree.
FIX = "Re-run the ingestion pipeline (`kedro run --pipelines ingestion`) to write them together."


class IngestionMismatchError(DatasetError):
    """A sequences table and an array store come from different ingestion runs (or one is missing)."""


def new_ingestion_id() -> str:
    """A fresh, unique id (for tables made by hand, e.g. in tests), e.g.
    ``20260115T101500123456Z-3f2a9c1b``."""
    return timestamped_id()


def stamp_table(sequences: pd.DataFrame, ingestion_id: str, inputs: Mapping[str, Any] | None = None,
                report: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """``sequences`` carrying ``ingestion_id`` (and the ingestion's ``inputs`` parts and ``report``
    when given) in ``attrs`` (the frame itself, for chaining)."""
    sequences.attrs[ATTR] = ingestion_id
    for key, value in ((INPUTS_ATTR, inputs), (REPORT_ATTR, report)):
        if value is not None:
            sequences.attrs[key] = dict(value)
    return sequences


def table_stamp(sequences: pd.DataFrame) -> str | None:
    """The ingestion id a table carries, or None (a table not written by ingestion)."""
    return sequences.attrs.get(ATTR)


def read_table_stamp(path: str | Path) -> str:
    """The ingestion id recorded in the parquet file ``path`` (reads only its schema).

    Raises IngestionMismatchError when the file is missing or carries no id.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestionMismatchError(
            f"The sequences table {path} does not exist, so no array store generation is "
            f"committed. {FIX}"
        )
    metadata = pq.read_schema(path).metadata or {}
    if PARQUET_KEY not in metadata:
        raise IngestionMismatchError(
            f"The sequences table {path} carries no ingestion id (it was written by an older "
            f"version or by hand), so its arrays cannot be matched to it. {FIX}"
        )
    return metadata[PARQUET_KEY].decode()


def check_same_ingestion(sequences: pd.DataFrame, **stores: Mapping[str, Any]) -> None:
    """Raise IngestionMismatchError when a store's ``ingestion_id`` differs from the table's.

    Only stamped data are compared: a table or a store without an id (built by hand, e.g. in
    tests) passes. ``stores`` are named for the message, e.g. ``frames=frames, masks=masks``.
    """
    expected = table_stamp(sequences)
    for name, store in stores.items():
        found = getattr(store, ATTR, None)
        if expected is not None and found is not None and found != expected:
            raise IngestionMismatchError(
                f"{name} ({getattr(store, 'path', type(store).__name__)}) comes from ingestion "
                f"{found}, but the sequences table from ingestion {expected}. Re-run the pipeline "
                f"that writes {name} so that it matches the table."
            )
