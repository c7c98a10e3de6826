"""The feature cache: a frozen encoder run once over every 2.5-FPS frame of every view.

Training and evaluation then read these embeddings (``(V, n_frames, H)`` float16 per sequence)
instead of pixels and log-mels; the model's ``forward`` takes either. The cache is computed again
only when its fingerprint (:func:`cache_fingerprint`: the encoder's weights and configuration, the
inputs' store fingerprint, the sequences) differs from the one its store holds.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vicokd.data.digests import file_digest
from vicokd.datasets.array_store import lazy_loaders
from vicokd.fingerprints import Fingerprint
from vicokd.models.encoders import AudioEncoder, VisualEncoder

Encoder = VisualEncoder | AudioEncoder


@torch.no_grad()
def embed_sequence(encoder: VisualEncoder | AudioEncoder, inputs: np.ndarray, batch_size: int) -> np.ndarray:
    """The encoder's embeddings of one sequence.

    Args:
        inputs: frames ``(V, n, H, W, 3)`` uint8 (visual) or log-mel chunks ``(V, n, L, M)`` (audio).

    Returns:
        ``(V, n, embedding_size)`` float16.
    """
    views, steps = inputs.shape[:2]
    flat = np.asarray(inputs).reshape(views * steps, *inputs.shape[2:])
    chunks = []
    for start in range(0, len(flat), batch_size):
        batch = torch.from_numpy(np.array(flat[start:start + batch_size]))  # a copy: stores are read-only maps
        if batch.ndim == 4 and batch.shape[-1] == 3:  # (N, H, W, 3) images
            batch = batch.permute(0, 3, 1, 2)
        chunks.append(encoder.embed(batch.float() if batch.dtype == torch.float16 else batch))
    return torch.cat(chunks).reshape(views, steps, -1).to(torch.float16).numpy()


def embedding_loaders(
    encoder: Callable[[], Encoder], store: Mapping[str, np.ndarray],
    sequence_ids: Iterable[str], batch_size: int, description: str,
) -> dict[str, Callable[[], np.ndarray]]:
    """``sequence_id -> loader`` of its embeddings, computed when a store writes it (one sequence
    in memory at a time), with a progress bar over the sequences. ``encoder`` builds the encoder,
    once, at the first computation (never when the store already holds the embeddings)."""

    @cache
    def built() -> Encoder:
        return encoder().eval()

    def embed(sequence_id: str) -> np.ndarray:
        return embed_sequence(built(), store[sequence_id], batch_size)

    return lazy_loaders(sequence_ids, embed, description)


def weights_digest(pretrained: str | None) -> dict[str, str] | str | None:
    """What identifies an encoder's weights: the digest of every file of a local folder
    (``name -> digest``), else the hub name (or None: randomly initialised)."""
    folder = Path(pretrained) if pretrained else None
    if folder is None or not folder.is_dir():
        return pretrained
    return {path.relative_to(folder).as_posix(): file_digest(path)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def cache_fingerprint(encoder: Mapping[str, Any], dim: int, inputs: str | None,
                      sequence_ids: Iterable[str], batch_size: int) -> Fingerprint | None:
    """What a feature cache is made from: the ``encoder`` configuration (the ``model`` block's
    ``*_encoder``, as a mapping) and its weights (:func:`weights_digest`), the model's ``dim``, the
    fingerprint of the ``inputs`` store (frames or log-mels), the sequences and the batch size.
    None when the inputs carry no fingerprint (arrays made by hand): always computed."""
    if inputs is None:
        return None
    return Fingerprint({"encoder": dict(encoder), "weights": weights_digest(encoder["pretrained"]),
                        "dim": dim, "inputs": inputs, "sequences": sorted(sequence_ids),
                        "batch_size": batch_size})
