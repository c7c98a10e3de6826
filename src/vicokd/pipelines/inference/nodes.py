"""Nodes of the ``inference`` pipeline: catalog datasets in, ``vicokd.inference``, outputs out."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from vicokd.data.annotations import NUM_VIEWS
from vicokd.data.ingest import IngestionParameters
from vicokd.inference.calibration import calibrate
from vicokd.inference.checkpoints import (
    Partitions,
    choose_checkpoint,
    model_name,
    scoring_device,
)
from vicokd.inference.export import export_student
from vicokd.inference.exported import ExportedStudent
from vicokd.inference.infer import infer_recordings
from vicokd.inference.recordings import FoundRecordings, find_recordings
from vicokd.inference.settings import InferenceParameters
from vicokd.training.checkpoints import model_from_checkpoint


def find_new_recordings(inference: InferenceParameters) -> FoundRecordings:
    """The recordings under ``inference.recordings`` (both layouts), before any model is loaded."""
    if inference.recordings is None:
        raise ValueError("Parameter 'inference.recordings' is not set: run "
                         "`kedro run --pipelines inference --params inference.recordings=<folder>`")
    return find_recordings(inference.recordings)


def select_model(inference: InferenceParameters, homes: list[str],
                 **models: Partitions) -> dict[str, Any]:
    """The checkpoint ``inference.model`` names among every run's ``models``."""
    return choose_checkpoint(models, inference.model, homes, "inference.model")


def calibrate_model(checkpoint: dict[str, Any], sequences: pd.DataFrame, splits: pd.DataFrame,
                    frames: Mapping[str, np.ndarray], log_mels: Mapping[str, np.ndarray],
                    frame_labels: Mapping[str, np.ndarray], inference: InferenceParameters,
                    num_frames: int) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The model's window and per-class thresholds, chosen on its home's validation split: stored
    with the model (``<run>/<supervision>/<home>/seed<k>.json``) and handed on."""
    torch.set_num_threads(inference.num_threads)
    record = calibrate(checkpoint, sequences, splits, frames, log_mels, frame_labels,
                       inference.window, num_frames, inference.threshold_candidates,
                       scoring_device(inference.accelerator))
    return {record["model"]: record}, record


def export_model(checkpoint: dict[str, Any], calibration: dict[str, Any],
                 inference: InferenceParameters,
                 ingestion: IngestionParameters) -> dict[str, ExportedStudent]:
    """The student exported with ``torch.export`` (traced on the CPU, where it runs) for frames of
    ``ingestion.image_size``, with its
    calibration (``<run>/<supervision>/<home>/seed<k>.pt2``); nothing when ``inference.export`` is
    false."""
    if not inference.export:
        return {}
    torch.set_num_threads(inference.num_threads)
    metadata = {**calibration, "views": NUM_VIEWS, "image_size": list(ingestion.image_size),
                "batch_size": inference.window.batch_size,
                "identity": {k: v for k, v in checkpoint["metadata"].items()
                             if k not in ("architectures", "recipe")}}
    exported = export_student(model_from_checkpoint(checkpoint), metadata,
                              inference.parity_tolerance)
    return {model_name(checkpoint["metadata"]): exported}


def run_inference(checkpoint: dict[str, Any], calibration: dict[str, Any],
                  recordings: FoundRecordings, inference: InferenceParameters,
                  ingestion: IngestionParameters
                  ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame], dict[str, Figure],
                             dict[str, Any]]:
    """Frame scores, segments and a timeline per recording found under ``inference.recordings``,
    decoded as ``ingestion`` decodes, and the report of what was processed and left out."""
    torch.set_num_threads(inference.num_threads)
    outputs = infer_recordings(checkpoint, calibration, recordings, inference.recordings,
                               ingestion.settings, inference.window.batch_size,
                               scoring_device(inference.accelerator))
    return outputs.frame_scores, outputs.segments, outputs.timelines, outputs.report
