"""The feature cache: a frozen encoder run once over every 2.5-FPS frame of every view.

Training and evaluation then read these embeddings (``(V, n_frames, H)`` float16 per sequence)
instead of pixels and log-mels; the model's ``forward`` takes either.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import torch
from tqdm.auto import tqdm

from vicokd.models.encoders import AudioEncoder, VisualEncoder


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
    encoder: VisualEncoder | AudioEncoder, store: Mapping[str, np.ndarray],
    sequence_ids: Iterable[str], batch_size: int, description: str,
) -> dict[str, Callable[[], np.ndarray]]:
    """``sequence_id -> loader`` of its embeddings, computed when a store writes it (one sequence
    in memory at a time), with a progress bar over the sequences."""
    encoder.eval()
    ids = list(sequence_ids)
    bar = tqdm(total=len(ids), desc=description, unit="sequence", disable=None)  # terminal only

    def loader(sequence_id: str) -> Callable[[], np.ndarray]:
        def load() -> np.ndarray:
            embeddings = embed_sequence(encoder, store[sequence_id], batch_size)
            bar.update()
            return embeddings
        return load

    return {sequence_id: loader(sequence_id) for sequence_id in ids}
