"""Nodes of the ``teacher`` pipeline: the audio-visual teacher (AV_F) per home, with and without
view-aware consistency (PAPER Table 3)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from vicokd.training.loop import TrainingSettings
from vicokd.training.recipes import merge_recipe
from vicokd.training.runs import ClipSources, join_splits, train_per_home

SUPERVISION = "AV_F"


def gather_clip_sources(
    sequences: pd.DataFrame,
    splits: pd.DataFrame,
    frames: Mapping,
    audio_features: Mapping,
    frame_labels: Mapping,
    visibility_masks: Mapping,
    person_confidence: Mapping,
) -> ClipSources:
    """Bundle the sequence table (with its split) and the per-sequence array stores."""
    return ClipSources(
        join_splits(sequences, splits), frames, audio_features, visibility_masks,
        person_confidence, frame_labels,
    )


def train_teacher(
    sources: ClipSources,
    homes: list[str],
    model: dict[str, Any],
    training: dict[str, Any],
    teacher: dict[str, Any],
    seed: int,
    method: str,
) -> tuple[dict[str, dict[str, Any]], pd.DataFrame, pd.DataFrame]:
    """Train the teacher recipe ``teacher.methods[method]`` for every home.

    Returns ``{home: checkpoint}``, the training history and the val/test predictions.
    """
    recipe = merge_recipe(teacher["supervision"], teacher["methods"][method])
    settings = TrainingSettings.from_params({**training, **(teacher.get("training") or {})})
    identity = {"model": f"{method}_{SUPERVISION}", "method": method,
                "supervision": SUPERVISION, "backbone": model["backbone"]}
    return train_per_home(sources, homes, identity, recipe, model, True, settings, seed)
