"""Nodes of the ``distill`` pipeline: the frozen teacher distilled into visual-only students."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pandas as pd
import torch

from vicokd.training.loop import TrainingSettings
from vicokd.training.recipes import merge_recipe
from vicokd.training.runs import (
    ClipSources,
    HeldOutFrameLabels,
    evaluation_sequence_ids,
    frozen_teacher,
    train_per_home,
    training_summary,
)


def load_frozen_teachers(
    teacher_model: Mapping[str, dict[str, Any]], model: dict[str, Any], homes: list[str]
) -> dict[str, tuple[torch.nn.Module, str]]:
    """``{home: (teacher in eval mode without gradients, its fingerprint)}``; refuses a checkpoint
    whose architecture differs from the ``model`` parameters."""
    absent = sorted(set(homes) - set(teacher_model))
    if absent:
        raise ValueError(
            f"The teacher checkpoint holds {sorted(teacher_model)} but not {absent}: "
            f"run `kedro run --pipeline teacher` for these homes"
        )
    return {
        home: (frozen_teacher(teacher_model[home], model, home),
               teacher_model[home]["metadata"]["fingerprint"])
        for home in homes
    }


def withhold_training_frame_labels(sources: ClipSources) -> ClipSources:
    """The same sources with frame labels of validation and test sequences only (for V_S)."""
    return replace(
        sources, frame_labels=HeldOutFrameLabels(sources.frame_labels,
                                                 evaluation_sequence_ids(sources.table))
    )


def train_students(
    sources: ClipSources,
    teachers: Mapping[str, tuple[torch.nn.Module, str]],
    homes: list[str],
    model: dict[str, Any],
    training: dict[str, Any],
    distill: dict[str, Any],
    recipe: dict[str, Any],
    seed: int,
    method: str,
    supervision: str,
) -> tuple[dict[str, dict[str, Any]], pd.DataFrame, pd.DataFrame]:
    """Distil the teacher into a student of every home with the method's ``recipe`` at one
    supervision level (``distill.supervisions[supervision]``).

    Returns ``{home: checkpoint}``, the training history and the val/test predictions.
    """
    full_recipe = merge_recipe(distill["supervisions"][supervision], recipe)
    settings = TrainingSettings.from_params({**training, **(distill.get("training") or {})})
    identity = {"model": f"{method}_{supervision}", "method": method,
                "supervision": supervision, "backbone": model["backbone"]}
    return train_per_home(sources, homes, identity, full_recipe, model, False, settings, seed,
                          teachers)


def summarise_training(**histories: pd.DataFrame) -> pd.DataFrame:
    """Best epoch (on validation mAP), its val/test mAPs and training seconds per model and home."""
    return training_summary(
        {str(history["model"].iloc[0]): history for history in histories.values()}
    )
