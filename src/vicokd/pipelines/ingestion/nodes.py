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
    IngestionSettings,
    homes_to_ingest,
    ingest_dataset,
)
from vicokd.data.ingestion_inputs import describe_changes, ingestion_inputs, store_fingerprints
from vicokd.data.origin import check_dataset_origin
from vicokd.data.spool import ArraySpool, SpooledArray
from vicokd.datasets.array_store import StampedArrays
from vicokd.datasets.ingestion_stamp import IngestionMismatchError, stamp_table
from vicokd.datasets.sequence_table import CommittedIngestion
from vicokd.fingerprints import Fingerprint

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


#: The stores ingestion writes, in the order they are saved (the table last).
STORES = ("frames", "log_mels", "frame_labels")
Outputs = tuple[StampedArrays, StampedArrays, StampedArrays, dict[str, Any], pd.DataFrame]


def ingest_recordings(
    recordings_manifest: dict[str, Any],
    committed_ingestion: CommittedIngestion,
    ingestion: IngestionParameters,
    pretraining_homes: list[str],
    simulated: bool,
    dataset: DatasetDescription,
) -> Outputs:
    """Decode every sequence of ``ingestion.homes`` and of the ``pretraining_homes`` (homes the
    encoders are pretrained on, never evaluated) that ``ingestion.dataset_root`` holds, once,
    unless nothing it reads changed since the committed ingestion.

    ``simulated`` (``simulation.enabled``) says which origin the dataset must have: a simulated
    run refuses a folder the simulator did not write, a real run one it did
    (:func:`vicokd.data.origin.check_dataset_origin`). ``dataset`` gives the classes, views and
    sampling rate the records and recordings are read with.

    The ingestion id is the fingerprint of the inputs (:mod:`vicokd.data.ingestion_inputs`), taken
    before decoding. When ``committed_ingestion`` (the ``sequences`` file as last committed, with
    its stores complete) carries that id, nothing is decoded: the stores keep their generation, the
    table is saved again as it is and the report is the committed one marked ``reused``. Otherwise
    the log and the report's ``changed_inputs`` say what changed, and every sequence is decoded.

    The manifest only orders this node after the simulation (it is empty when ingestion runs
    alone) and is checked against the parameters. Arrays are spooled to a temporary folder as they
    are made and handed to the stores as loaders, so memory holds one sequence at a time.

    Returns, in the order they are saved: the ``frames``, ``log_mels`` and ``frame_labels``
    loaders keyed by sequence id, the ingestion report and last the ``sequences`` table, the commit
    record; all carry the ingestion id, so readers pair the table only with its own arrays.
    """
    root = ingestion.dataset_root
    check_dataset_origin(root, simulated)
    homes = homes_to_ingest(root, ingestion.homes, pretraining_homes)
    manifest_root = recordings_manifest.get("dataset_root")
    if manifest_root and Path(manifest_root).resolve() != Path(root).resolve():
        logger.warning(
            "recordings_manifest describes %s, but ingestion reads %s", manifest_root, root
        )
    settings = ingestion.settings(dataset)
    inputs = ingestion_inputs(root, homes, settings)
    if committed_ingestion.ingestion_id == inputs and committed_ingestion.complete:
        return _reused(committed_ingestion)
    changed = _why_decode(committed_ingestion, inputs)
    logger.info("Ingesting %s afresh (ingestion %s): %s", root, inputs, "; ".join(changed))
    return _decoded(root, homes, settings, inputs, changed)


def _why_decode(committed: CommittedIngestion, inputs: Fingerprint) -> list[str]:
    """Why the committed ingestion cannot be reused for ``inputs`` (a fingerprint), in words."""
    if committed.ingestion_id is None:
        return ["no ingestion committed yet"]
    if committed.inputs is None or committed.report is None:
        return ["the committed table records no inputs (written by an older version)"]
    if committed.ingestion_id == inputs:
        return [f"the store {store} lacks its arrays" for store in committed.missing_stores]
    return describe_changes(committed.inputs, inputs.parts)


def _reused(committed: CommittedIngestion) -> Outputs:
    """The outputs of an ingestion whose inputs are those of ``committed``: nothing decoded."""
    table, ingestion_id = committed.table, committed.ingestion_id
    fingerprints = store_fingerprints(committed.inputs,
                                      dict(zip(table["sequence_id"], table["view_paths"])))

    def lost(store: str, sequence_id: str):
        def load() -> None:
            raise IngestionMismatchError(
                f"Ingestion {ingestion_id} is reused, but the {store} store lost the arrays of "
                f"{sequence_id}: delete the sequences table and run the ingestion pipeline again.")
        return load

    stores = [StampedArrays({sid: lost(store, sid) for sid in table["sequence_id"]}, ingestion_id,
                            fingerprints[store]) for store in STORES]
    report = {**committed.report, "reused": True, "changed_inputs": []}
    logger.info("Ingestion inputs unchanged since ingestion %s: its %d sequences are reused "
                "without decoding (%d were left out then: see the ingestion report)",
                ingestion_id, len(table), len(report["skipped"]))
    return stores[0], stores[1], stores[2], report, table


def _decoded(root: str, homes: list[str], settings: IngestionSettings, inputs: Fingerprint,
             changed: list[str]) -> Outputs:
    """Decode every sequence of ``homes``: the outputs of a new ingestion of id ``inputs``."""
    ingestion_id = str(inputs)
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
        report = ingest_dataset(root, homes, settings, keep)
    except BaseException:
        spool.close()
        raise
    summary = {
        "ingestion_id": ingestion_id,
        "dataset_root": root,
        "homes": homes,
        **report.as_dict(),
        "kept_sequences": report.kept,
        "reused": False,
        "changed_inputs": changed,
    }
    sequences = stamp_table(pd.DataFrame(rows, columns=SEQUENCE_COLUMNS), ingestion_id,
                            inputs.parts, summary)
    fingerprints = store_fingerprints(inputs.parts,
                                      {row["sequence_id"]: row["view_paths"] for row in rows})
    logger.info(
        "Ingested %d sequences (%d left out) in %.1f s: %.0f decoded frames/s, %.2f MB/s",
        summary["kept"],
        len(report.skipped),
        report.seconds,
        summary["decode_frames_per_second"],
        summary["decode_megabytes_per_second"],
    )
    stores = [StampedArrays(arrays, ingestion_id, fingerprints[store])
              for store, arrays in zip(STORES, (frames, audio, labels))]
    return stores[0], stores[1], stores[2], summary, sequences
