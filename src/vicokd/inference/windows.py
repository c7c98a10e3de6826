"""Scoring a whole recording with a model trained on clips of ``T`` frames: a sliding window.

A model is trained on ``T`` frames spread over a sequence of ``n`` 2.5-FPS frames (one per bin of
``n / T`` frames). A recording of any length is covered by windows of ``T`` frames that keep that
spacing: with ``step = clamp(n // T, 1, frame_step)``, the frames ``r, r + step, r + 2·step, ...``
of each residue ``r < step`` form one sub-sequence, and windows of ``T`` consecutive frames of it
start every ``hop`` frames, the last one ending on its last frame. Every frame lies in at least one
window; its score is the mean over the windows (and positions) that hold it. A sub-sequence
shorter than ``T`` frames (a recording shorter than ``T``) is sampled as evaluation samples a short
sequence: ``T`` uniform positions, frames repeated in order.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

#: ``(B, V, T, 3, H, W)`` uint8 clips (and ``(B, V, T, L, M)`` log-mels for a model that hears)
#: -> ``(B, T, C)`` frame scores in [0, 1].
ClipScorer = Callable[[torch.Tensor], torch.Tensor]


def _uniform_positions(length: int, num_frames: int) -> np.ndarray:
    """``(num_frames,)`` positions in ``[0, length)``: the centre of each of ``num_frames`` equal
    bins (the evaluation sampling of ``vicokd.data.sampling``, written out here so that the
    exported model's loader needs nothing else of the project)."""
    bins = np.arange(num_frames)
    return (2 * bins + 1) * length // (2 * num_frames)


def window_step(n_frames: int, num_frames: int, frame_step: int) -> int:
    """Frames between neighbours of a window: ``clamp(n_frames // num_frames, 1, frame_step)``."""
    return int(min(max(n_frames // num_frames, 1), frame_step))


def window_indices(n_frames: int, num_frames: int, frame_step: int, hop: int) -> np.ndarray:
    """``(W, num_frames)`` int64 frame indices of every window over a recording of ``n_frames``
    frames (module docstring); each row is sorted and every frame of ``[0, n_frames)`` appears."""
    if n_frames < 1 or num_frames < 1 or frame_step < 1 or hop < 1:
        raise ValueError(f"need n_frames, num_frames, frame_step, hop >= 1, got {n_frames}, "
                         f"{num_frames}, {frame_step}, {hop}")
    step = window_step(n_frames, num_frames, frame_step)
    windows = []
    for residue in range(step):
        frames = np.arange(residue, n_frames, step)
        if len(frames) <= num_frames:
            windows.append(frames[_uniform_positions(len(frames), num_frames)])
            continue
        starts = list(range(0, len(frames) - num_frames + 1, hop))
        if starts[-1] != len(frames) - num_frames:
            starts.append(len(frames) - num_frames)
        windows.extend(frames[start:start + num_frames] for start in starts)
    return np.stack(windows).astype(np.int64)


def average_over_windows(window_scores: np.ndarray, windows: np.ndarray,
                         n_frames: int) -> np.ndarray:
    """``(n_frames, C)``: each frame's mean score over every window position that holds it.

    Args:
        window_scores: ``(W, T, C)`` scores of each window's frames.
        windows: ``(W, T)`` their frame indices (:func:`window_indices`).
    """
    classes = window_scores.shape[-1]
    totals = np.zeros((n_frames, classes), np.float64)
    counts = np.zeros(n_frames, np.int64)
    np.add.at(totals, windows.reshape(-1), window_scores.reshape(-1, classes))
    np.add.at(counts, windows.reshape(-1), 1)
    if not counts.all():
        raise ValueError(f"frames {np.flatnonzero(counts == 0)[:5].tolist()} lie in no window")
    return (totals / counts[:, None]).astype(np.float32)


@torch.no_grad()
def score_recording(clip_scores: ClipScorer, frames: np.ndarray, num_frames: int, frame_step: int,
                    hop: int, batch_size: int, audio: np.ndarray | None = None) -> np.ndarray:
    """``(n, C)`` frame scores of a whole recording.

    Args:
        clip_scores: the model on clips (e.g. a checkpoint's ``FrameScorer``, or an exported
            program), run on batches of at most ``batch_size`` windows; called as
            ``clip_scores(frames)``, or ``clip_scores(frames, audio)`` when ``audio`` is given.
        frames: ``(V, n, H, W, 3)`` uint8, every view's 2.5-FPS frames as ingestion stores them.
        audio: ``(V, n, L, M)`` log-mel chunks of the same frames, for a model that hears.
    """
    n_frames = frames.shape[1]
    windows = window_indices(n_frames, num_frames, frame_step, hop)
    scores = []
    for first in range(0, len(windows), batch_size):
        chunk = windows[first:first + batch_size]
        clips = torch.from_numpy(frames[:, chunk]).permute(1, 0, 2, 5, 3, 4)  # (B, V, T, 3, H, W)
        inputs = [clips.contiguous()]
        if audio is not None:
            inputs.append(torch.from_numpy(np.asarray(audio[:, chunk], np.float32)).transpose(0, 1))
        scores.append(clip_scores(*inputs).float().cpu().numpy())
    return average_over_windows(np.concatenate(scores), windows, n_frames)
