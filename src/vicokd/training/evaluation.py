"""Prediction and mAP of a trained model on the validation and test clips."""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from vicokd.metrics import mean_average_precision
from vicokd.models.scoring import max_pooled_frame_scores, sequence_scores
from vicokd.training.device import autocast_context

log = logging.getLogger(__name__)


@dataclass
class Predictions:
    """Scores of every evaluated clip (N clips, T frames, C classes).

    ``frame_scores`` are sigmoid probabilities of the view-fused frame logits (frame-level mAP);
    ``sequence_scores`` are the sequence prediction and ``pooled_frame_scores`` the frame logits
    max-pooled over time, both activated as the authors' code of the backbone does
    (:mod:`vicokd.models.scoring`) and scored against the sequence labels. ``frame_targets`` is None
    when the clips carry no frame labels.
    """

    sequence_ids: list[str]
    frame_indices: np.ndarray  # (N, T) 2.5-FPS frame index of each evaluated frame
    frame_scores: np.ndarray  # (N, T, C)
    frame_targets: np.ndarray | None  # (N, T, C)
    sequence_scores: np.ndarray  # (N, C)
    pooled_frame_scores: np.ndarray  # (N, C)
    sequence_targets: np.ndarray  # (N, C)


@torch.no_grad()
def predict(
    model: torch.nn.Module, clips: Dataset, with_audio: bool, batch_size: int, autocast: bool = True
) -> Predictions:
    """Run ``model`` (in eval mode, on its own device) over ``clips`` in order.

    ``clips`` yields dicts with ``frames (V,T,3,H,W)``, ``audio``, ``sequence_labels (C,)``,
    ``indices (T,)``, ``sequence_id`` and optionally ``frame_labels (T,C)``.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    backbone = model.config.backbone
    parts: dict[str, list[Any]] = {k: [] for k in ("ids", "idx", "fs", "ft", "ss", "ps", "st")}
    for batch in DataLoader(clips, batch_size=batch_size, shuffle=False):
        audio = batch["audio"].to(device) if with_audio else None
        with autocast_context(device, autocast):
            output = model(batch["frames"].to(device), audio)
        parts["ids"].extend(batch["sequence_id"])
        parts["idx"].append(batch["indices"].numpy())
        parts["fs"].append(output.frame_logits.float().sigmoid().cpu().numpy())
        parts["ss"].append(sequence_scores(output, backbone).cpu().numpy())
        parts["ps"].append(max_pooled_frame_scores(output, backbone).cpu().numpy())
        parts["st"].append(batch["sequence_labels"].numpy())
        if "frame_labels" in batch:
            parts["ft"].append(batch["frame_labels"].numpy())
    model.train(was_training)
    return Predictions(
        sequence_ids=parts["ids"],
        frame_indices=np.concatenate(parts["idx"]),
        frame_scores=np.concatenate(parts["fs"]),
        frame_targets=np.concatenate(parts["ft"]) if parts["ft"] else None,
        sequence_scores=np.concatenate(parts["ss"]),
        pooled_frame_scores=np.concatenate(parts["ps"]),
        sequence_targets=np.concatenate(parts["st"]),
    )


def _safe_map(scores: np.ndarray, targets: np.ndarray) -> float:
    """mAP in percent, NaN (with a warning) when no class has a positive."""
    try:
        return mean_average_precision(scores, targets)
    except ValueError as error:
        log.warning("mAP undefined: %s", error)
        return math.nan


def frame_map(predictions: Predictions) -> float:
    """Frame-level macro mAP over all evaluated frames of all clips (beside the headline)."""
    if predictions.frame_targets is None:
        raise ValueError("frame-level mAP needs clips with frame labels")
    classes = predictions.frame_scores.shape[-1]
    return _safe_map(
        predictions.frame_scores.reshape(-1, classes),
        predictions.frame_targets.reshape(-1, classes),
    )


def sequence_map(predictions: Predictions) -> float:
    """Sequence-level macro mAP of the sequence prediction over the clips (the paper's metric)."""
    return _safe_map(predictions.sequence_scores, predictions.sequence_targets)


def predictions_table(
    predictions: Predictions, identity: Mapping[str, Any], split: str, classes: Sequence[str]
) -> pd.DataFrame:
    """Rows in the format of docs/architecture.md "Training outputs": one per evaluated frame
    (``level = frame``) and two per clip, scored against its sequence labels (``frame_index = -1``):
    the sequence prediction (``level = sequence``) and the frame logits max-pooled over time
    (``level = pooled_frames``).

    Args:
        identity: the columns that identify the trained model (``vicokd.training.runs.IDENTITY``),
            placed first.
        split: ``val`` or ``test``.
        classes: the names of the class axis (``dataset.classes``): columns ``score.<class>`` and
            ``target.<class>``.
    """
    n, steps, width = predictions.frame_scores.shape
    if width != len(classes):
        raise ValueError(f"expected {len(classes)} classes ({', '.join(classes)}), got {width}")
    if predictions.frame_targets is None:
        raise ValueError("the prediction table needs clips with frame labels")
    score_cols = [f"score.{c}" for c in classes]
    target_cols = [f"target.{c}" for c in classes]
    frame_targets = predictions.frame_targets.reshape(n * steps, width)
    frames = pd.DataFrame(
        np.concatenate([predictions.frame_scores.reshape(n * steps, width), frame_targets], 1),
        columns=score_cols + target_cols,
    )
    frames.insert(0, "frame_index", predictions.frame_indices.reshape(-1).astype(np.int64))
    frames.insert(0, "level", "frame")
    frames.insert(0, "sequence_id", np.repeat(predictions.sequence_ids, steps))
    clips = []
    for level, scores in (("sequence", predictions.sequence_scores),
                          ("pooled_frames", predictions.pooled_frame_scores)):
        clip_rows = pd.DataFrame(np.concatenate([scores, predictions.sequence_targets], 1),
                                 columns=score_cols + target_cols)
        clip_rows.insert(0, "frame_index", np.int64(-1))
        clip_rows.insert(0, "level", level)
        clip_rows.insert(0, "sequence_id", predictions.sequence_ids)
        clips.append(clip_rows)
    table = pd.concat([frames, *clips], ignore_index=True)
    table[target_cols] = table[target_cols].astype(np.int8)
    table.insert(1, "split", split)
    for position, (key, value) in enumerate(identity.items()):
        table.insert(position, key, value)
    return table
