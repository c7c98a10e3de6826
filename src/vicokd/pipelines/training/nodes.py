"""The training template's node: catalog datasets in, ``vicokd.training.runs.train_run``, outputs out."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from vicokd.data.clips import ClipSources, join_splits
from vicokd.data.description import DatasetDescription
from vicokd.datasets.ingestion_stamp import check_same_ingestion
from vicokd.models import ModelConfig
from vicokd.training.recipes import Supervision
from vicokd.training.run_table import RunSpec
from vicokd.training.runs import Partitions, Published, train_run
from vicokd.training.settings import TrainingSettings


def train_models(
    sequences: pd.DataFrame,
    splits: pd.DataFrame,
    frames: Mapping[str, np.ndarray],
    log_mels: Mapping[str, np.ndarray],
    visual_features: Mapping[str, np.ndarray],
    audio_features: Mapping[str, np.ndarray],
    encoders: dict[str, Any],
    frame_labels: Mapping[str, np.ndarray],
    visibility_masks: Mapping[str, np.ndarray],
    person_confidence: Mapping[str, np.ndarray],
    run: RunSpec,
    supervision: Supervision,
    training: TrainingSettings,
    model: ModelConfig,
    homes: list[str],
    seeds: list[int],
    dataset: DatasetDescription,
    teacher_models: Mapping[str, Callable[[], dict[str, Any]]] | None = None,
    baseline_models: Mapping[str, Callable[[], dict[str, Any]]] | None = None,
    published_model: Partitions | None = None,
    published_history: Partitions | None = None,
    published_predictions: Partitions | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Train ``run`` at ``supervision`` for every home and seed: checkpoints, histories and val/test
    predictions keyed ``<home>/seed<k>``. A frozen encoder's input is its cached features, a
    fine-tuned one's its pixels or log-mels (and the audio encoder's log-mels when SpecAugment
    augments what a teacher hears); ``encoders`` is the record of the encoders they start
    from; ``dataset.classes`` name the class axis (the model's outputs, the prediction columns).
    ``teacher_models`` are the teacher run's checkpoints and ``baseline_models`` the plain
    student's (runs that distil: the teacher is checked against it first). ``published_*`` are
    the run's own outputs as they are on disk: a model they hold as it would be trained now is
    reused (left out of the outputs, its files untouched)."""
    visual = frames if model.visual_encoder.trainable else visual_features
    hears_augmented = supervision.audio and training.spec_augment.enabled
    audio = log_mels if model.audio_encoder.trainable or hears_augmented else audio_features
    check_same_ingestion(sequences, visual=visual, audio=audio, frame_labels=frame_labels)
    dataset.check_num_classes(model.num_classes)
    dataset.check_frame_labels(frame_labels)
    sources = ClipSources(join_splits(sequences, splits), visual, audio, visibility_masks,
                          person_confidence, frame_labels, tuple(dataset.classes))
    published = None
    if published_model is not None and published_history is not None \
            and published_predictions is not None:
        published = Published(published_model, published_history, published_predictions)
    return train_run(sources, run, supervision, training, model, homes, seeds, encoders,
                     teacher_models, baseline_models, published)
