"""Nodes of the ``evaluation`` pipeline: catalog datasets in, ``vicokd.inference``, reports out."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from vicokd.data.ingest import IngestionParameters
from vicokd.inference.calibration import calibrate
from vicokd.inference.checkpoints import Partitions, choose_checkpoint, scoring_device
from vicokd.inference.evaluation import evaluate_checkpoint, evaluation_report, read_labelled
from vicokd.inference.settings import EvaluationParameters, InferenceParameters
from vicokd.reporting.settings import ReportingSettings
from vicokd.training.run_table import RunSpec
from vicokd.training.settings import TrainingSettings


def select_model(evaluation: EvaluationParameters, homes: list[str],
                 **models: Partitions) -> dict[str, Any]:
    """The checkpoint ``evaluation.model`` names among every run's ``models``."""
    return choose_checkpoint(models, evaluation.model, homes, "evaluation.model")


def calibrate_model(checkpoint: dict[str, Any], sequences: pd.DataFrame, splits: pd.DataFrame,
                    frames: Mapping[str, np.ndarray], log_mels: Mapping[str, np.ndarray],
                    frame_labels: Mapping[str, np.ndarray], inference: InferenceParameters,
                    num_frames: int) -> dict[str, Any]:
    """The window and thresholds the model is deployed with (``inference.window``, chosen on its
    home's validation split, as the inference pipeline stores them)."""
    torch.set_num_threads(inference.num_threads)
    return calibrate(checkpoint, sequences, splits, frames, log_mels, frame_labels,
                     inference.window, num_frames, inference.threshold_candidates,
                     scoring_device(inference.accelerator))


def evaluate_model(checkpoint: dict[str, Any], calibration: dict[str, Any], splits: pd.DataFrame,
                   evaluation: EvaluationParameters, inference: InferenceParameters,
                   ingestion: IngestionParameters,
                   training: TrainingSettings, runs: dict[str, Any], feature_batch_size: int,
                   reporting: ReportingSettings
                   ) -> tuple[pd.DataFrame, str, pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """The model scored on ``evaluation.dataset_root``: metrics in reporting's format (every level,
    per-class AP), the per-class table (markdown, csv), the segments found, segment-level detection
    mAP per tIoU and a markdown report of it all.

    ``evaluation.split``: ``all`` the annotated sequences of ``evaluation.homes`` (null: the model's
    home), or those of one split of the ``splits`` table, decoded without audio for a model that
    hears none; ``training``: the settings training scored with (the run's own overrides applied,
    ``runs``: the run table); ``inference.accelerator``: where the model scores.
    """
    metadata = checkpoint["metadata"]
    homes = evaluation.homes or [metadata["home"]]
    keep = None
    if evaluation.split != "all":
        keep = set(splits.loc[splits["split"] == evaluation.split, "sequence_id"])
    decoding = ingestion.settings.model_copy(update={"with_audio": bool(checkpoint["with_audio"])})
    data = read_labelled(evaluation.dataset_root, homes, decoding, keep)
    settings = training.with_overrides(RunSpec.model_validate(runs[metadata["run"]]).training)
    torch.set_num_threads(inference.num_threads)
    result = evaluate_checkpoint(checkpoint, data, evaluation.split, settings.num_frames,
                                 settings.eval_batch_size, settings.autocast, feature_batch_size,
                                 calibration, evaluation.tiou_thresholds,
                                 scoring_device(inference.accelerator))
    where = (f"{len(data.table)} sequences of {', '.join(homes)} under {evaluation.dataset_root} "
             f"(split: {evaluation.split})")
    per_class, per_class_md, report = evaluation_report(result, metadata, calibration["model"],
                                                        where, data.left_out, reporting.digits)
    return result.metrics, per_class_md, per_class, result.segments, result.segment_map, report
