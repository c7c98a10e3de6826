"""The ``pretraining`` node: catalog datasets in, ``vicokd.training.pretraining``, the record out."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from vicokd.data.clips import join_splits
from vicokd.data.description import DatasetDescription
from vicokd.models import ModelConfig
from vicokd.training.pretraining import PretrainingSettings, describe_encoders, prepare_encoders
from vicokd.training.settings import TrainingSettings

logger = logging.getLogger(__name__)


def pretrain_encoders(
    sequences: pd.DataFrame,
    splits: pd.DataFrame,
    frames: Mapping[str, np.ndarray],
    log_mels: Mapping[str, np.ndarray],
    frame_labels: Mapping[str, np.ndarray],
    visibility_masks: Mapping[str, np.ndarray],
    model: ModelConfig,
    pretraining: PretrainingSettings,
    training: TrainingSettings,
    seed: int,
    evaluation_homes: list[str],
    dataset: DatasetDescription,
) -> dict[str, Any]:
    """Pretrain (or reuse) the encoders made here on ``pretraining.homes`` (without any in the
    dataset: on the training split of ``evaluation_homes``) and check the others load; returns the
    ``encoders`` record (source, what each starts from, for those made here their validation mAP).
    The classifiers they learn with have one output per class of ``dataset.classes``."""
    dataset.check_num_classes(model.num_classes)
    dataset.check_frame_labels(frame_labels)
    record = prepare_encoders(join_splits(sequences, splits), frames, log_mels, frame_labels,
                              visibility_masks, model, pretraining, training, seed, evaluation_homes)
    logger.info("Every model starts from: %s", describe_encoders(record))
    return record
