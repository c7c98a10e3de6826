"""Scoring a trained model on a labelled dataset, as reporting scores it, plus segment detection.

The sequences are decoded by ingestion's code and scored exactly as training scored its best epoch
(uniform clips of ``T`` frames; a frozen encoder's embeddings through the feature cache's function,
stored as float16 as the cache stores them), so a model evaluated on its own test split reproduces
reporting's figures. Beside them: segment-level detection mAP of the segments the deployed model
finds (sliding window on pixels, thresholds of its calibration) against the annotated tricks.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vicokd.data.annotations import CLASSES, RecordingError, SequenceSpec, read_home
from vicokd.data.dataset import MultiViewClipDataset
from vicokd.data.ingest import IngestionSettings
from vicokd.inference.detection import segment_detection_map
from vicokd.inference.export import FrameScorer
from vicokd.inference.recordings import decode_specs
from vicokd.inference.segments import annotation_segments, frame_segments
from vicokd.inference.windows import score_recording
from vicokd.models.feature_cache import embed_sequence
from vicokd.reporting import tables
from vicokd.training.checkpoints import model_from_checkpoint
from vicokd.training.evaluation import predict, predictions_table
from vicokd.training.runs import IDENTITY

log = logging.getLogger(__name__)


@dataclass
class LabelledSequences:
    """Decoded annotated sequences: ``table`` (``sequence_id, home, n_frames, labels, tricks``) and
    the arrays of each, keyed by sequence id (``log_mels`` only when decoded with audio);
    ``left_out``: ``{file, problem}`` of what could not be read."""

    table: pd.DataFrame
    frames: dict[str, np.ndarray]
    log_mels: dict[str, np.ndarray]
    frame_labels: dict[str, np.ndarray]
    left_out: list[dict[str, str]]


def read_labelled(dataset_root: str | Path, homes: Iterable[str], settings: IngestionSettings,
                  keep: set[str] | None = None) -> LabelledSequences:
    """Decode the annotated sequences of ``homes`` under ``dataset_root`` (only those in ``keep``
    when given), as ingestion does with ``settings`` (``with_audio`` false for a model that hears
    nothing: views without audio are then accepted); a bad record or file is logged and left out.
    Raises RecordingError when no sequence is left."""
    specs: list[SequenceSpec] = []
    left_out = []
    for home in homes:
        annotations = read_home(dataset_root, home)
        for problem in annotations.problems:
            left_out.append({"file": problem.path, "problem": problem.problem})
        specs += [s for s in annotations.sequences if keep is None or s.sequence_id in keep]
    rows, frames, log_mels, labels = [], {}, {}, {}
    for spec, decoded in zip(specs, decode_specs(specs, dataset_root, settings)):
        if isinstance(decoded, RecordingError):
            left_out.append({"file": decoded.path, "problem": decoded.problem})
            continue
        key = spec.sequence_id
        rows.append({"sequence_id": key, "home": spec.home, "n_frames": decoded.row["n_frames"],
                     "labels": list(spec.labels), "tricks": list(spec.tricks)})
        frames[key] = decoded.frames
        if decoded.audio_features is not None:
            log_mels[key] = decoded.audio_features
        labels[key] = decoded.frame_labels
    for item in left_out:
        log.warning("Left out of the evaluation: %s: %s", item["file"], item["problem"])
    if not rows:
        raise RecordingError(dataset_root, f"no annotated sequence of {list(homes)} to evaluate"
                             + (" in the chosen split" if keep is not None else ""),
                             "no_usable_sequence")
    table = pd.DataFrame(rows).sort_values("sequence_id", ignore_index=True)
    return LabelledSequences(table, frames, log_mels, labels, left_out)


def _encoder_inputs(encoder: Any, arrays: Mapping[str, np.ndarray],
                    batch_size: int) -> Mapping[str, np.ndarray]:
    """What training fed the model through ``encoder``: its cached float16 embeddings when frozen,
    the raw arrays when fine-tuned."""
    if encoder.trainable:
        return arrays
    return {key: embed_sequence(encoder, array, batch_size) for key, array in arrays.items()}


@dataclass
class Evaluation:
    """``metrics``: reporting's metrics rows (one per level); ``segments``: the predicted segments
    (``recording, class, start, end, score``); ``segment_map``: detection mAP per tIoU."""

    metrics: pd.DataFrame
    segments: pd.DataFrame
    segment_map: pd.DataFrame


def evaluate_checkpoint(checkpoint: Mapping[str, Any], data: LabelledSequences, split: str,
                        num_frames: int, eval_batch_size: int, autocast: bool,
                        feature_batch_size: int, calibration: Mapping[str, Any],
                        tious: Sequence[float], device: torch.device) -> Evaluation:
    """Sequence-, frame- and pooled-frame-level mAP and per-class AP of ``checkpoint`` on ``data``
    (rows labelled ``split``), as training's predictions and reporting's metrics compute them; and
    segment-level detection mAP at ``tious`` of the segments its ``calibration`` cuts out of the
    sliding-window frame scores.

    Args:
        num_frames, eval_batch_size, autocast: the clip length and prediction settings training
            scored with; ``feature_batch_size``: the feature cache's batch size.
        device: where the model scores (training's figures are reproduced on the device it
            scored them on).
    """
    model = model_from_checkpoint(checkpoint)
    metadata = checkpoint["metadata"]
    with_audio = bool(checkpoint["with_audio"])
    # on the CPU, where the features pipeline computes its cache
    visual = _encoder_inputs(model.visual_encoder, data.frames, feature_batch_size)
    audio = (_encoder_inputs(model.audio_encoder, data.log_mels, feature_batch_size)
             if with_audio else None)
    model.to(device)
    clips = MultiViewClipDataset(data.table, frames=visual, audio=audio,
                                 frame_labels=data.frame_labels, num_frames=num_frames,
                                 sampling="uniform")
    identity = {key: metadata[key] for key in (*IDENTITY, "model_version")}
    predictions = predictions_table(predict(model, clips, with_audio, eval_batch_size, autocast),
                                    identity, split)
    metrics = tables.evaluate_predictions({calibration["model"]: predictions}, split=split)
    scorer = FrameScorer(model)
    thresholds = [calibration["thresholds"][c] for c in CLASSES]
    found, truth = [], []
    for row in data.table.itertuples(index=False):
        scores = score_recording(scorer, data.frames[row.sequence_id], calibration["num_frames"],
                                 calibration["frame_step"], calibration["hop"], eval_batch_size,
                                 data.log_mels[row.sequence_id] if with_audio else None)
        found.append(frame_segments(scores, thresholds, CLASSES, calibration["sample_fps"])
                     .assign(recording=row.sequence_id))
        truth.append(annotation_segments(row.tricks).assign(recording=row.sequence_id))
    segments = pd.concat(found, ignore_index=True)[["recording", "class", "start", "end", "score"]]
    segment_map = segment_detection_map(segments, pd.concat(truth, ignore_index=True), tious)
    for position, (key, value) in enumerate({**identity, "split": split}.items()):
        segment_map.insert(position, key, value)
    return Evaluation(metrics, segments, segment_map)


def evaluation_report(result: Evaluation, metadata: Mapping[str, Any], model: str, where: str,
                      left_out: list[dict[str, str]], digits: int) -> tuple[pd.DataFrame, str, str]:
    """Reporting's per-class table (csv rows and markdown) of ``result``, and the markdown report:
    the model (``model``, its ``metadata``), the sequences scored (``where``, ``left_out``), its
    mAP per level, per-class AP and segment-level detection mAP."""
    per_class = tables.per_class_table(result.metrics)
    per_class_md = tables.to_markdown(per_class, "Per-class AP", f"Sequence-level AP (%) per class "
                                      f"on {where} (— : no positive sequence).", 1)
    levels = result.metrics[["level", "n_rows", "map"]].rename(columns={"map": "mAP"})
    dropped = (f" Left out: {len(left_out)} ({'; '.join(i['file'] for i in left_out)})."
               if left_out else "")
    report = "\n".join([
        f"# Evaluation of {model} ({metadata['label']} {metadata['supervision']})", "",
        f"Model version {metadata['model_version']}, scored on {where}.{dropped}", "",
        tables.to_markdown(levels, "Macro mAP", "Sequence level (the paper's metric), frame level "
                           "and frame predictions max-pooled over time, as reporting scores them.",
                           digits),
        per_class_md,
        tables.to_markdown(result.segment_map[["tiou", "map"]].rename(columns={"map": "mAP"}),
                           "Segment-level detection mAP",
                           "ActivityNet-style detection mAP (%) of the segments found with the "
                           "model's validation thresholds, at each temporal IoU.", digits),
    ])
    return per_class, per_class_md, report
