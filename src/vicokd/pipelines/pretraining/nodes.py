"""The ``pretraining`` node: catalog datasets in, ``vicokd.training.pretraining``, the record out."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from vicokd.data.clips import join_splits
from vicokd.models import ModelConfig
from vicokd.training.pretraining import PretrainingSettings, prepare_encoders
from vicokd.training.settings import TrainingSettings


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
) -> dict[str, Any]:
    """Pretrain (or reuse) the encoders made here on ``pretraining.homes`` and check the others
    load; returns the ``encoders`` record (source, and for those made here their validation mAP)."""
    return prepare_encoders(join_splits(sequences, splits), frames, log_mels, frame_labels,
                            visibility_masks, model, pretraining, training, seed)
