"""The paper's figures: mAP-per-epoch curves (Figure 3) and cross-modal attention per view (Figure 4)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # figures are written to files, never shown
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

HISTORY_METRICS: tuple[str, ...] = ("val_seq_map", "test_seq_map")


def map_curves(histories: Mapping[str, pd.DataFrame], title: str = "mAP per epoch") -> Figure:
    """Figure 3: validation and test sequence-level mAP per epoch, one line per model, one row of
    panels per home.

    Args:
        histories: model label (``"<method> <supervision>"``) → history table with columns
            ``epoch``, ``val_seq_map``, ``test_seq_map``, optionally ``home`` (one history may hold
            several homes) and ``<metric>_std`` (drawn as a band ± std around the line). One colour
            per method, V_S dashed.
        title: the figure's title.

    Returns:
        A figure with one panel per home (rows) and metric (columns: validation, test).
    """
    if not histories:
        raise ValueError("map_curves needs at least one training history.")
    for label, history in histories.items():
        missing = [c for c in ("epoch", *HISTORY_METRICS) if c not in history.columns]
        if missing:
            raise ValueError(f"Training history {label!r} lacks the columns {missing}.")
    homes = sorted({h for history in histories.values() for h in history.get("home", pd.Series(["all"]))})
    figure, axes = plt.subplots(len(homes), len(HISTORY_METRICS), figsize=(13, 4.2 * len(homes)),
                                sharey="row", squeeze=False)
    colours = plt.get_cmap("tab10")
    methods = list(dict.fromkeys(label.rsplit(" ", 1)[0] for label in histories))
    for label, history in histories.items():
        colour = colours(methods.index(label.rsplit(" ", 1)[0]) % 10)
        for row, home in enumerate(homes):
            runs = history[history["home"] == home] if "home" in history else history
            for axis, metric in zip(axes[row], HISTORY_METRICS):
                axis.plot(runs["epoch"], runs[metric], marker="o", markersize=3, color=colour,
                          label=label, linestyle="--" if label.endswith("V_S") else "-")
                if f"{metric}_std" in runs:
                    spread = runs[f"{metric}_std"].fillna(0.0)
                    axis.fill_between(runs["epoch"], runs[metric] - spread, runs[metric] + spread,
                                      color=colour, alpha=0.08, linewidth=0)
    for row, home in enumerate(homes):
        for axis, metric in zip(axes[row], HISTORY_METRICS):
            split = {"val_seq_map": "validation split", "test_seq_map": "test split"}[metric]
            axis.set_title(f"{home}: {split}")
            axis.set_xlabel("epoch")
            axis.grid(alpha=0.3)
        axes[row, 0].set_ylabel("sequence-level macro mAP (%)")
    axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def frame_strip(frames: np.ndarray, indices: Sequence[int]) -> np.ndarray:
    """The frames at ``indices`` side by side: ``(T, H, W, 3)`` → ``(H, len(indices)·W, 3)``."""
    return np.concatenate([np.asarray(frames[i]) for i in indices], axis=1)


def attention_figure(
    attention: Mapping[str, np.ndarray],
    frames: np.ndarray,
    frame_indices: Sequence[int],
    title: str = "",
) -> Figure:
    """Figure 4: per view, a few frames and each model's cross-modal attention at those frames.

    Args:
        attention: model label (e.g. teacher, student, ViCoKD) → attention weights ``(V, T, T)`` of one
            sample (video queries × audio or pseudo-audio keys; rows sum to 1).
        frames: the sample's frames ``(V, T, H, W, 3)`` uint8, the same T frames the models saw.
        frame_indices: the query frames to show (indices into T).
        title: the figure's title (e.g. the sequence id).

    Returns:
        A figure with one row per view: the chosen frames, then per model the attention rows of the
        chosen query frames over all T keys (brighter = more attention).
    """
    if not attention:
        raise ValueError("attention_figure needs the attention of at least one model.")
    views, steps = frames.shape[:2]
    for label, weights in attention.items():
        if weights.shape != (views, steps, steps):
            raise ValueError(
                f"Attention of {label!r} has shape {weights.shape}, expected {(views, steps, steps)}."
            )
    if not frame_indices or not all(0 <= i < steps for i in frame_indices):
        raise ValueError(f"frame_indices {list(frame_indices)} must be non-empty and within 0..{steps - 1}.")
    labels = list(attention)
    figure, axes = plt.subplots(
        views, 1 + len(labels), figsize=(3.2 * (1 + len(labels)) + 1, 1.9 * views + 0.8),
        squeeze=False, gridspec_kw={"width_ratios": [1.6] + [1] * len(labels)},
    )
    vmax = max(float(np.asarray(w)[:, frame_indices].max()) for w in attention.values())
    image = None
    for view in range(views):
        axes[view, 0].imshow(frame_strip(frames[view], frame_indices))
        axes[view, 0].set_ylabel(f"View{view + 1}")
        axes[view, 0].set_xticks([])
        axes[view, 0].set_yticks([])
        for column, label in enumerate(labels, start=1):
            axis = axes[view, column]
            rows = np.asarray(attention[label][view])[frame_indices]  # (K, T)
            image = axis.imshow(rows, aspect="auto", cmap="magma", vmin=0.0, vmax=vmax, interpolation="nearest")
            axis.set_yticks(range(len(frame_indices)), [f"t={i}" for i in frame_indices], fontsize=7)
            axis.tick_params(axis="x", labelsize=7)
            if view == 0:
                axis.set_title(label)
            if view == views - 1:
                axis.set_xlabel("key frame t", fontsize=8)
    axes[0, 0].set_title("frames " + ", ".join(str(i) for i in frame_indices))
    figure.colorbar(image, ax=axes[:, 1:].ravel().tolist(), shrink=0.6,
                    label="attention weight (video query row → audio / pseudo-audio key)")
    if title:
        figure.suptitle(title)
    return figure


def saliency_figure(
    frames: np.ndarray,
    maps: Mapping[str, np.ndarray],
    shown: Sequence[int],
    boxes: np.ndarray | None = None,
    title: str = "",
) -> Figure:
    """Figure 4: each view's frames with each model's spatial saliency overlaid (and the true
    person box when known).

    Args:
        frames: ``(V, T, H, W, 3)`` uint8, the frames the models saw.
        maps: model label → ``(V, T, h, w)`` saliency maps in [0, 1] on the patch grid.
        shown: the frame indices (into T) to draw, one block of columns each.
        boxes: ``(V, T, 4)`` normalised ``x1, y1, x2, y2`` (NaN where not visible), or None.
        title: the figure's title.

    Returns:
        A figure with one row per view and, per shown frame, the frame then one overlay per model.
    """
    views, _, height, width = frames.shape[:4]
    labels = list(maps)
    columns = len(shown) * (1 + len(labels))
    figure, axes = plt.subplots(views, columns, figsize=(1.7 * columns, 1.5 * views + 0.6),
                                squeeze=False)
    for view in range(views):
        for block, step in enumerate(shown):
            panels = [("frame", None), *((label, maps[label][view, step]) for label in labels)]
            for offset, (label, saliency) in enumerate(panels):
                axis = axes[view, block * (1 + len(labels)) + offset]
                axis.imshow(frames[view, step])
                if saliency is not None:
                    axis.imshow(saliency, cmap="jet", alpha=0.45, vmin=0.0, vmax=1.0,
                                extent=(0, width, height, 0), interpolation="bilinear")
                if boxes is not None and np.isfinite(boxes[view, step]).all():
                    x1, y1, x2, y2 = boxes[view, step] * [width, height, width, height]
                    axis.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                                 edgecolor="white", linewidth=1.2))
                axis.set_xticks([])
                axis.set_yticks([])
                if view == 0:
                    axis.set_title(f"t={step}: {label}", fontsize=7)
                if block == 0 and offset == 0:
                    axis.set_ylabel(f"View{view + 1}")
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    return figure
