"""What a trained model needs besides its weights to run on whole recordings: the window it is run
with and per-class thresholds chosen on its validation split (the *calibration* of the model).

The window keeps the frame spacing of training (``frame_step``: the median length of the home's
training sequences over ``T``, unless the parameters fix it); the thresholds maximise each class's
F1 over every frame of the home's validation sequences scored with that window
(:func:`vicokd.inference.segments.choose_thresholds`). The test split is never read.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from vicokd.data.annotations import CLASSES, SAMPLE_FPS
from vicokd.data.clips import join_splits
from vicokd.inference.checkpoints import model_name
from vicokd.inference.export import FrameScorer
from vicokd.inference.segments import choose_thresholds
from vicokd.inference.settings import WindowSettings
from vicokd.inference.windows import score_recording
from vicokd.training.checkpoints import model_from_checkpoint


def hop_frames(num_frames: int, overlap: float) -> int:
    """Window starts ``round(T · (1 - overlap))`` frames apart (at least 1)."""
    return max(1, round(num_frames * (1.0 - overlap)))


def training_frame_step(training_lengths: Sequence[int], num_frames: int) -> int:
    """The spacing of a training clip's frames: ``median(n_frames) // T`` (at least 1)."""
    if not len(training_lengths):
        raise ValueError("no training sequence to take the frame spacing from")
    return max(1, int(np.median(training_lengths)) // num_frames)


def calibrate(checkpoint: Mapping[str, Any], sequences: pd.DataFrame, splits: pd.DataFrame,
              frames: Mapping[str, np.ndarray], log_mels: Mapping[str, np.ndarray],
              frame_labels: Mapping[str, np.ndarray], window: WindowSettings, num_frames: int,
              candidates: Sequence[float], device: torch.device) -> dict[str, Any]:
    """The calibration record of ``checkpoint`` (JSON-ready): the model's name and
    ``model_version``, ``num_frames``, ``frame_step``, ``hop``, ``sample_fps``, ``classes``, per
    class ``thresholds``, ``fitted`` (False: no validation positive, the pooled choice) and
    ``validation_f1``, and the validation sequences read.

    Args:
        sequences, splits: the ``sequences`` and ``splits`` tables; the model's home's train
            sequences give the frame spacing, its val sequences the thresholds.
        frames, log_mels, frame_labels: the ingestion stores (log-mels only for a model that hears).
        device: where the model scores.
    """
    metadata = checkpoint["metadata"]
    table = join_splits(sequences, splits)
    home = table[table["home"] == metadata["home"]]
    validation = sorted(home.loc[home["split"] == "val", "sequence_id"])
    if not validation:
        raise ValueError(f"{metadata['home']} has no validation sequence to choose thresholds on")
    step = window.frame_step or training_frame_step(
        home.loc[home["split"] == "train", "n_frames"].tolist(), num_frames)
    hop = hop_frames(num_frames, window.overlap)
    scorer = FrameScorer(model_from_checkpoint(checkpoint).to(device))
    with_audio = bool(checkpoint["with_audio"])
    scores = [score_recording(scorer, np.asarray(frames[i]), num_frames, step, hop,
                              window.batch_size, np.asarray(log_mels[i]) if with_audio else None)
              for i in validation]
    targets = [np.asarray(frame_labels[i]) for i in validation]
    thresholds, f1, fitted = choose_thresholds(np.concatenate(scores), np.concatenate(targets),
                                               candidates)
    return {
        "model": model_name(metadata), "model_version": metadata["model_version"],
        "num_frames": num_frames, "frame_step": step, "hop": hop, "sample_fps": SAMPLE_FPS,
        "classes": list(CLASSES),
        "thresholds": dict(zip(CLASSES, map(float, thresholds))),
        "fitted": dict(zip(CLASSES, map(bool, fitted))),
        "validation_f1": {c: None if np.isnan(v) else float(v) for c, v in zip(CLASSES, f1)},
        "validation_sequences": validation, "candidates": sorted(map(float, candidates)),
    }
