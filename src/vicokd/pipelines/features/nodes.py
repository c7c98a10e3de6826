"""The ``features`` node: each frozen encoder once over every 2.5-FPS frame of every view."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from vicokd.datasets.array_store import StampedArrays
from vicokd.datasets.ingestion_stamp import table_stamp
from vicokd.models import ModelConfig
from vicokd.models.encoders import build_encoder_from
from vicokd.models.feature_cache import cache_fingerprint, embedding_loaders
from vicokd.training.pretraining import describe_encoders

logger = logging.getLogger(__name__)


def cache_features(
    sequences: pd.DataFrame,
    frames: Mapping[str, np.ndarray],
    log_mels: Mapping[str, np.ndarray],
    encoders: dict[str, Any],
    model: ModelConfig,
    homes: list[str],
    batch_size: int,
) -> tuple[StampedArrays, StampedArrays]:
    """``visual_features`` and ``audio_features``: per sequence of ``homes``, the embeddings
    ``(V, n_frames, H)`` float16 of each frozen encoder (none for an encoder that is fine-tuned:
    training then reads its pixels or log-mels). ``encoders`` (the pretraining record) orders this
    after the encoders are made. A cache whose fingerprint (encoder weights and configuration,
    frames or log-mels, sequences) its store already holds is not computed again."""
    logger.info("Encoders: %s", describe_encoders(encoders))
    ids = sequences.loc[sequences["home"].isin(homes), "sequence_id"].tolist()
    stamp = table_stamp(sequences)
    caches = []
    for modality, store in (("visual", frames), ("audio", log_mels)):
        config = getattr(model, f"{modality}_encoder")
        if config.trainable:
            caches.append(StampedArrays({}, stamp))
            continue
        fingerprint = cache_fingerprint(config.model_dump(), model.dim,
                                        getattr(store, "fingerprint", None), ids, batch_size)
        caches.append(StampedArrays(
            embedding_loaders(partial(build_encoder_from, modality, model), store, ids, batch_size,
                              f"{modality} features"), stamp, fingerprint))
    return caches[0], caches[1]
