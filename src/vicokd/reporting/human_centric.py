"""Figure 4 made measurable: how much of each model's spatial saliency falls on the person.

The paper's Figure 4 overlays spatial attention on each view's frames for the teacher, the plain
student and ViCoKD and calls ViCoKD's "more human-centric". With the simulator's ground truth the
claim becomes a number: the share of a model's Grad-CAM map (:mod:`vicokd.reporting.saliency`) that
lies inside the true person box, averaged over every (view, frame) of the test sequences where the
person is visible. A map spread uniformly scores the box's area, shown beside it as the reference.
This module also chooses what Figure 4 explains: a clip's most frequent class, at the frames where
that class is active which the models score highest.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from vicokd.data.sampling import sample_indices
from vicokd.reporting.saliency import box_share, grad_cam
from vicokd.training.checkpoints import model_from_checkpoint


def explained_class(frame_labels: np.ndarray) -> int:
    """The class a clip's maps explain: its most frequent frame label (``(T, C)`` labels of the
    frames the models see)."""
    return int(np.asarray(frame_labels).sum(axis=0).argmax())


def clip_inputs(frames: np.ndarray, log_mels: np.ndarray,
                steps: int) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    """The T uniformly sampled frames a model evaluates: indices ``(T,)``, frames
    ``(V, T, 3, H, W)`` uint8 and log-mels ``(V, T, L, M)`` float32 of one sequence."""
    indices = sample_indices(frames.shape[1], steps, "uniform")
    clip = torch.from_numpy(np.ascontiguousarray(frames[:, indices])).permute(0, 1, 4, 2, 3)
    audio = torch.from_numpy(np.asarray(log_mels[:, indices], dtype=np.float32))
    return indices, clip, audio


def saliency_maps(checkpoints: Mapping[str, Mapping[str, Any]], clip: torch.Tensor,
                  audio: torch.Tensor, class_index: int) -> dict[str, np.ndarray]:
    """Each model's Grad-CAM maps ``(V, T, h, w)`` of ``class_index`` on one clip (the audio goes to
    the models that hear it)."""
    maps = {}
    for label, checkpoint in checkpoints.items():
        model = model_from_checkpoint(checkpoint)
        maps[label] = grad_cam(model, clip, audio if checkpoint["with_audio"] else None,
                               class_index)
    return maps


@torch.no_grad()
def class_scores(checkpoints: Mapping[str, Mapping[str, Any]], clip: torch.Tensor,
                 audio: torch.Tensor, class_index: int) -> dict[str, np.ndarray]:
    """Each model's probability of ``class_index`` at each frame of one clip, ``(T,)`` (the
    sigmoid of its frame logits; the audio goes to the models that hear it)."""
    scores = {}
    for label, checkpoint in checkpoints.items():
        model = model_from_checkpoint(checkpoint)
        output = model(clip[None], audio[None] if checkpoint["with_audio"] else None)
        scores[label] = torch.sigmoid(output.frame_logits[0, :, class_index]).float().numpy()
    return scores


def human_centric_shares(maps: Mapping[str, np.ndarray], visible: np.ndarray,
                         boxes: np.ndarray) -> pd.DataFrame:
    """Per model, the share of its saliency inside the true person box at every (view, frame) where
    the person is visible, and the box's area (a uniform map's share).

    Args:
        maps: label -> ``(V, T, h, w)`` maps of one clip.
        visible: ``(V, T)`` bool; boxes: ``(V, T, 4)`` normalised ``x1, y1, x2, y2``.

    Returns:
        Rows ``model, view, frame, share, box_area`` (a map without any mass is left out).
    """
    rows = []
    for view, step in zip(*np.nonzero(visible)):
        box = tuple(float(v) for v in boxes[view, step])
        area = (box[2] - box[0]) * (box[3] - box[1])
        for label, model_maps in maps.items():
            share = float(box_share(model_maps[view, step], box))
            if np.isfinite(share):
                rows.append({"model": label, "view": int(view), "frame": int(step), "share": share,
                             "box_area": area})
    return pd.DataFrame(rows, columns=["model", "view", "frame", "share", "box_area"])


def shown_frames(active: np.ndarray, scores: np.ndarray, count: int) -> list[int]:
    """The clip frames Figure 4 explains: of the frames where the explained class is ``active``
    ``(T,)``, the ``count`` the models score highest (``scores (T,)``, e.g. their mean probability
    of the class; the earlier on ties), in time order.

    Raises:
        ValueError: the class is active at none of the clip's frames.
    """
    candidates = np.flatnonzero(active)
    if candidates.size == 0:
        raise ValueError("The explained class is active at none of the clip's frames.")
    ranked = candidates[np.argsort(-np.asarray(scores)[candidates], kind="stable")]
    return sorted(int(i) for i in ranked[:count])
