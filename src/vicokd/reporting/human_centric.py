"""Figure 4 made measurable: how much of each model's spatial saliency falls on the person.

The paper's Figure 4 overlays spatial attention on each view's frames for the teacher, the plain
student and ViCoKD and calls ViCoKD's "more human-centric". With the simulator's ground truth the
claim becomes a number: the share of a model's Grad-CAM map (:mod:`vicokd.reporting.saliency`) that
lies inside the true person box, averaged over every (view, frame) of the test sequences where the
person is visible. A map spread uniformly scores the box's area, shown beside it as the reference.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from vicokd.data.sampling import sample_indices
from vicokd.reporting.saliency import box_share, grad_cam
from vicokd.training.checkpoints import model_from_checkpoint


def explained_class(frame_labels: np.ndarray) -> int:
    """The class a sequence's maps explain: its most frequent frame label (``(n, C)`` labels)."""
    return int(np.asarray(frame_labels).sum(axis=0).argmax())


def clip_inputs(frames: np.ndarray, log_mels: np.ndarray, steps: int) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    """The T uniformly sampled frames a model evaluates: indices ``(T,)``, frames ``(V, T, 3, H, W)``
    uint8 and log-mels ``(V, T, L, M)`` float32 of one sequence."""
    indices = sample_indices(frames.shape[1], steps, "uniform")
    clip = torch.from_numpy(np.ascontiguousarray(frames[:, indices])).permute(0, 1, 4, 2, 3)
    audio = torch.from_numpy(np.asarray(log_mels[:, indices], dtype=np.float32))
    return indices, clip, audio


def saliency_maps(checkpoints: Mapping[str, Mapping[str, Any]], clip: torch.Tensor, audio: torch.Tensor,
                  class_index: int) -> dict[str, np.ndarray]:
    """Each model's Grad-CAM maps ``(V, T, h, w)`` of ``class_index`` on one clip (the audio goes to
    the models that hear it)."""
    maps = {}
    for label, checkpoint in checkpoints.items():
        model = model_from_checkpoint(checkpoint)
        maps[label] = grad_cam(model, clip, audio if checkpoint["with_audio"] else None, class_index)
    return maps


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


def shown_frames(visible: np.ndarray, count: int) -> Sequence[int]:
    """The ``count`` clip frames with the most views seeing the person (earliest first on ties)."""
    order = np.argsort(-visible.sum(axis=0), kind="stable")[:count]
    return sorted(int(i) for i in order)
