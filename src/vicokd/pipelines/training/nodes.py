"""The training template's node: catalog datasets in, ``vicokd.training.runs.train_run``, outputs out."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from vicokd.data.clips import ClipSources, join_splits
from vicokd.models import ModelConfig
from vicokd.training.recipes import Supervision
from vicokd.training.run_table import RunSpec
from vicokd.training.runs import train_run
from vicokd.training.settings import TrainingSettings


def train_models(
    sequences: pd.DataFrame,
    splits: pd.DataFrame,
    frames: Mapping[str, np.ndarray],
    audio_features: Mapping[str, np.ndarray],
    frame_labels: Mapping[str, np.ndarray],
    visibility_masks: Mapping[str, np.ndarray],
    person_confidence: Mapping[str, np.ndarray],
    run: RunSpec,
    supervision: Supervision,
    training: TrainingSettings,
    model: ModelConfig,
    homes: list[str],
    seeds: list[int],
    teacher_models: Mapping[str, Callable[[], dict[str, Any]]] | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Train ``run`` at ``supervision`` for every home and seed: checkpoints, histories and val/test
    predictions keyed ``<home>/seed<k>``. ``teacher_models`` are the teacher run's checkpoints (runs
    that distil)."""
    sources = ClipSources(join_splits(sequences, splits), frames, audio_features, visibility_masks,
                          person_confidence, frame_labels)
    return train_run(sources, run, supervision, training, model, homes, seeds, teacher_models)
