"""Ingestion nodes: thin wrappers around vicokd.data.ingest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from vicokd.data.description import DatasetDescription
from vicokd.data.ingest import (
    IngestedSequence,
    IngestionParameters,
    homes_to_ingest,
    ingest_dataset,
)
from vicokd.data.origin import check_dataset_origin
from vicokd.data.spool import ArraySpool, SpooledArray
from vicokd.datasets.array_store import StampedArrays
from vicokd.datasets.ingestion_stamp import new_ingestion_id, stamp_table

logger = logging.getLogger(__name__)

#: Column order of the ``sequences`` table (docs/architecture.md), plus the dataset's own split.
SEQUENCE_COLUMNS = [
    "sequence_id",
    "home",
    "session",
    "video_id",
    "part",
    "view_paths",
    "duration",
    "native_fps",
    "n_frames",
    "labels",
    "tricks",
    "dataset_split",
]


def ingest_recordings(
    recordings_manifest: dict[str, Any],
    ingestion: IngestionParameters,
    pretraining_homes: list[str],
    simulated: bool,
    dataset: DatasetDescription,
) -> tuple[StampedArrays, StampedArrays, StampedArrays, dict[str, Any], pd.DataFrame]:
    """Decode every sequence of ``ingestion.homes`` and of the ``pretraining_homes`` (homes the
    encoders are pretrained on, never evaluated) that ``ingestion.dataset_root`` holds, once.

    ``simulated`` (``simulation.enabled``) says which origin the dataset must have: a simulated
    run refuses a folder the simulator did not write, a real run one it did
    (:func:`vicokd.data.origin.check_dataset_origin`). ``dataset`` gives the classes, views and
    sampling rate the records and recordings are read with.

    The manifest only orders this node after the simulation (it is empty when ingestion runs
    alone) and is checked against the parameters. Arrays are spooled to a temporary folder as they
    are made and handed to the stores as loaders, so memory holds one sequence at a time.

    Returns, in the order they are saved: the ``frames``, ``log_mels`` and ``frame_labels``
    loaders keyed by sequence id, the ingestion report and last the ``sequences`` table, the commit
    record; all carry one new ingestion id, so readers pair the table only with its own arrays.
    """
    root = ingestion.dataset_root
    check_dataset_origin(root, simulated)
    homes = homes_to_ingest(root, ingestion.homes, pretraining_homes)
    manifest_root = recordings_manifest.get("dataset_root")
    if manifest_root and Path(manifest_root).resolve() != Path(root).resolve():
        logger.warning(
            "recordings_manifest describes %s, but ingestion reads %s", manifest_root, root
        )
    ingestion_id = new_ingestion_id()
    spool = ArraySpool()
    rows: list[dict[str, Any]] = []
    frames: dict[str, SpooledArray] = {}
    audio: dict[str, SpooledArray] = {}
    labels: dict[str, SpooledArray] = {}

    def keep(sequence: IngestedSequence) -> None:
        key = sequence.row["sequence_id"]
        rows.append(sequence.row)
        frames[key] = spool.put(sequence.frames)
        audio[key] = spool.put(sequence.audio_features)
        labels[key] = spool.put(sequence.frame_labels)

    try:
        report = ingest_dataset(root, homes, ingestion.settings(dataset), keep)
    except BaseException:
        spool.close()
        raise
    sequences = stamp_table(pd.DataFrame(rows, columns=SEQUENCE_COLUMNS), ingestion_id)
    summary = {
        "ingestion_id": ingestion_id,
        "dataset_root": root,
        "homes": homes,
        **report.as_dict(),
        "kept_sequences": report.kept,
    }
    logger.info(
        "Ingested %d sequences (%d left out) in %.1f s: %.0f decoded frames/s, %.2f MB/s",
        summary["kept"],
        len(report.skipped),
        report.seconds,
        summary["decode_frames_per_second"],
        summary["decode_megabytes_per_second"],
    )
    return (
        StampedArrays(frames, ingestion_id),
        StampedArrays(audio, ingestion_id),
        StampedArrays(labels, ingestion_id),
        summary,
        sequences,
    )
