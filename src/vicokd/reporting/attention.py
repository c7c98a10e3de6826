"""Cross-modal attention weights of trained models on one sequence (the input of Figure 4)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from vicokd.data.sampling import sample_indices
from vicokd.training.checkpoints import model_from_checkpoint


@torch.no_grad()
def attention_maps(
    checkpoints: Mapping[str, Mapping[str, Any]],
    frames: np.ndarray,
    audio: np.ndarray,
    steps: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Each model's cross-modal attention on ``steps`` uniformly sampled frames of one sequence.

    Args:
        checkpoints: model label → checkpoint dict (teacher reads audio, students do not).
        frames: the sequence's frames ``(V, n_frames, H, W, 3)`` uint8.
        audio: its log-mel chunks ``(V, n_frames, L, M)``.
        steps: T, the number of frames a model sees (evaluation sampling: bin centres).

    Returns:
        ``indices (T,)`` (2.5-FPS frame indices), the sampled frames ``(V, T, H, W, 3)`` and
        label → attention weights ``(V, T, T)`` (video queries × audio / pseudo-audio keys).
    """
    if frames.shape[:2] != audio.shape[:2]:
        raise ValueError(f"frames {frames.shape[:2]} and audio {audio.shape[:2]} differ in views or frames")
    indices = sample_indices(frames.shape[1], steps, "uniform")
    clip = np.ascontiguousarray(frames[:, indices])  # (V, T, H, W, 3)
    video = torch.from_numpy(clip).permute(0, 1, 4, 2, 3).unsqueeze(0)  # (1, V, T, 3, H, W)
    sound = torch.from_numpy(np.asarray(audio[:, indices], dtype=np.float32)).unsqueeze(0)
    weights = {}
    for label, checkpoint in checkpoints.items():
        model = model_from_checkpoint(checkpoint)
        output = model(video, sound if checkpoint["with_audio"] else None)
        weights[label] = output.cross_attention[0].float().numpy()
    return indices, clip, weights
