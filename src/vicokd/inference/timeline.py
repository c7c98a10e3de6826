"""The timeline picture of one recording: frame scores and detected segments per class over time,
and beside them (below, on the same axes) the annotation when one exists."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # written to files, never shown
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle


def _segment_boxes(axis, segments: pd.DataFrame, classes: Sequence[str], **style) -> None:
    for row in segments.itertuples(index=False):
        c = classes.index(row[0])
        axis.add_patch(Rectangle((row.start, c - 0.42), row.end - row.start, 0.84, **style))


def timeline_figure(scores: np.ndarray, segments: pd.DataFrame, classes: Sequence[str], fps: float,
                    title: str, annotation: pd.DataFrame | None = None) -> Figure:
    """Classes × time of one recording.

    Args:
        scores: ``(n, C)`` frame scores in [0, 1] (frame ``f`` at ``f / fps`` s), a heat map.
        segments: the detected segments (``class, start, end, score``), outlined on it.
        annotation: the true segments (``class, start, end``) or None; drawn in a second panel on
            the same class and time axes, the detected segments outlined there too.
    """
    classes = list(classes)
    panels = 1 if annotation is None else 2
    duration = scores.shape[0] / fps
    width = max(8.0, min(24.0, duration / 4))
    figure, axes = plt.subplots(panels, 1, figsize=(width, 4.2 * panels), sharex=True, sharey=True,
                                squeeze=False)
    heat = axes[0, 0]
    image = heat.imshow(scores.T, aspect="auto", origin="lower", cmap="viridis", vmin=0.0, vmax=1.0,
                        interpolation="nearest", extent=(-0.5 / fps, duration - 0.5 / fps, -0.5,
                                                         len(classes) - 0.5))
    _segment_boxes(heat, segments, classes, fill=False, edgecolor="white", linewidth=1.2)
    heat.set_title(f"{title}\nframe scores; white boxes: detected segments")
    figure.colorbar(image, ax=axes[:, 0].tolist(), fraction=0.03, pad=0.01, label="score")
    if annotation is not None:
        truth = axes[1, 0]
        _segment_boxes(truth, annotation, classes, facecolor="tab:orange", alpha=0.8, linewidth=0)
        _segment_boxes(truth, segments, classes, fill=False, edgecolor="black", linewidth=1.0)
        truth.set_title("annotation (orange) and detected segments (black)")
        truth.set_facecolor("#f4f4f4")
    for axis in axes[:, 0]:
        axis.set_yticks(range(len(classes)), classes, fontsize=7)
        axis.set_ylim(-0.5, len(classes) - 0.5)
        axis.set_xlim(-0.5 / fps, duration - 0.5 / fps)
        axis.grid(axis="x", alpha=0.3)
    axes[-1, 0].set_xlabel("time (s)")
    return figure
