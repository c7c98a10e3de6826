"""The paper's figures: mAP per epoch (Figure 3), spatial saliency per view (Figure 4), and the
cross-modal attention per view."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # figures are written to files, never shown
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

HISTORY_METRICS: tuple[str, ...] = ("val_seq_map", "test_seq_map")
_SPLITS = {"val_seq_map": "validation", "test_seq_map": "test"}
#: One (colour, marker) per method, in the order the methods come; the references are black.
_STYLES = [(plt.get_cmap("tab10")(i), marker) for i, marker in
           zip((0, 3, 2, 1, 4, 9, 8, 5, 6), ("o", "s", "^", "D", "v", "P", "X", "*", "h"))]
#: Inches per line of an 8-point caption, and the inches an 8-point character takes on average.
_CAPTION_LINE, _CAPTION_CHARACTER = 0.17, 0.062


def _caption_height(caption: str, width: float) -> float:
    """Inches a wrapped 8-point ``caption`` needs below a figure ``width`` inches wide."""
    lines = -(-len(caption) * _CAPTION_CHARACTER // (width - 0.4)) if caption else 0
    return lines * _CAPTION_LINE + (0.1 if caption else 0.0)


def _fixed_margins(figure: Figure, rows: int, columns: int, left: float, right: float, top: float,
                   bottom: float, wspace: float, hspace: float) -> None:
    """Place a ``rows × columns`` grid of panels with margins and gaps in inches.

    The figures with tens of panels (attention maps, Figure 4) are laid out once, here, instead of
    by a constrained layout solved again at every draw: they are made and saved twice as fast.
    """
    width, height = figure.get_size_inches()
    panel_width = (width - left - right - wspace * (columns - 1)) / columns
    panel_height = (height - top - bottom - hspace * (rows - 1)) / rows
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                           top=1 - top / height, wspace=wspace / panel_width,
                           hspace=hspace / panel_height)


def _caption(figure: Figure, caption: str) -> None:
    """``caption`` in 8 points, wrapped, at the bottom of ``figure`` (the space
    :func:`_caption_height` reserved)."""
    figure.text(0.5, 0.05 / figure.get_size_inches()[1], caption, ha="center", va="bottom",
                fontsize=8, wrap=True)


def map_curves(curves: pd.DataFrame, references: Sequence[str] = (),
               title: str = "mAP per epoch") -> Figure:
    """Figure 3: validation (and, when ``curves`` has its column, test) sequence-level mAP per
    epoch, one panel per home, supervision level and split.

    Args:
        curves: one row per method, supervision, home and epoch, with columns ``method`` (the
            display label), ``supervision``, ``home``, ``epoch``, ``val_seq_map``,
            optionally ``test_seq_map`` and ``<metric>_std`` (drawn as a band ± std). Methods keep
            the order of their first row; each has its own colour and marker.
        references: methods drawn in every panel of their home, black dashed (the teacher,
            trained at a supervision level of its own).
        title: the figure's title.

    Returns:
        A figure with one row of panels per home and, per supervision level of the other
        methods, a validation and (with ``test_seq_map``) a test panel; one legend.
    """
    missing = [c for c in ("method", "supervision", "home", "epoch", HISTORY_METRICS[0])
               if c not in curves.columns]
    if missing:
        raise ValueError(f"map_curves needs the columns {missing}.")
    if curves.empty:
        raise ValueError("map_curves needs at least one training history.")
    homes = sorted(curves["home"].unique())
    compared = curves[~curves["method"].isin(references)]
    levels = list(dict.fromkeys(compared["supervision"]))
    metrics = [metric for metric in HISTORY_METRICS if metric in curves.columns]
    panels = [(level, metric) for level in levels for metric in metrics]
    figure, axes = plt.subplots(len(homes), len(panels), sharey="row", squeeze=False,
                                figsize=(4.2 * len(panels), 3.6 * len(homes) + 0.8),
                                layout="constrained")
    styles = dict(zip(dict.fromkeys(compared["method"]), _STYLES * 3))
    for row, home in enumerate(homes):
        for axis, (level, metric) in zip(axes[row], panels):
            shown = curves[(curves["home"] == home)
                           & ((curves["supervision"] == level) | curves["method"].isin(references))]
            for method, line in shown.groupby("method", sort=False):
                if method in references:
                    dashes = (5, 2 + 2 * list(references).index(method))
                    style = {"color": "black", "linestyle": (0, dashes), "linewidth": 2.0}
                else:
                    colour, marker = styles[method]
                    style = {"color": colour, "marker": marker, "markersize": 4, "linewidth": 1.4}
                axis.plot(line["epoch"], line[metric], label=method, **style)
                if f"{metric}_std" in line:
                    spread = line[f"{metric}_std"].fillna(0.0)
                    axis.fill_between(line["epoch"], line[metric] - spread, line[metric] + spread,
                                      color=style["color"], alpha=0.10, linewidth=0)
            axis.set_title(f"{home} · {level} · {_SPLITS[metric]}")
            axis.set_xlabel("epoch")
            axis.grid(alpha=0.3)
        axes[row, 0].set_ylabel("sequence-level macro mAP (%)")
    legend = {name: handle for axis in axes.flat
              for handle, name in zip(*axis.get_legend_handles_labels())}
    figure.legend(legend.values(), legend.keys(), loc="outside lower center",
                  ncols=min(len(legend), 8), fontsize=8)
    figure.suptitle(title)
    return figure


def frame_strip(frames: np.ndarray, indices: Sequence[int]) -> np.ndarray:
    """The frames at ``indices`` side by side: ``(T, H, W, 3)`` → ``(H, len(indices)·W, 3)``."""
    return np.concatenate([np.asarray(frames[i]) for i in indices], axis=1)


#: What the cross-modal attention figure asks the reader to look at.
ATTENTION_CAPTION = (
    "Each heat-map row is one query frame (its video features) and its attention over the key "
    "frames (the teacher's audio, the students' pseudo-audio from the adapter); a row sums to 1, "
    "so a flat row at 1/{steps} = {uniform:.2f} ignores the (pseudo-)audio. Look for rows that "
    "peak on the key frames where the action sounds, and for whether the students' rows resemble "
    "the teacher's in the same view.")


def attention_figure(
    attention: Mapping[str, np.ndarray],
    frames: np.ndarray,
    frame_indices: Sequence[int],
    title: str = "",
    frame_numbers: Sequence[int] | None = None,
) -> Figure:
    """Per view, a few frames and each model's cross-modal attention at those frames, with a
    caption that says what to look for.

    Args:
        attention: model label (e.g. teacher, student, ViCoKD) → attention weights ``(V, T, T)``
            of one sample (video queries × audio or pseudo-audio keys; rows sum to 1).
        frames: the sample's frames ``(V, T, H, W, 3)`` uint8, the same T frames the models saw.
        frame_indices: the query frames to show (indices into T).
        title: the figure's title (e.g. the sequence id).
        frame_numbers: the number each of the T frames is known by (its 2.5-FPS index in the
            sequence), used for every frame the figure names; default: the indices into T.

    Returns:
        A figure with one row per view: the chosen frames, then per model the attention rows of
        the chosen query frames over all T keys (brighter = more attention), integer frame ticks.
    """
    if not attention:
        raise ValueError("attention_figure needs the attention of at least one model.")
    views, steps = frames.shape[:2]
    for label, weights in attention.items():
        if weights.shape != (views, steps, steps):
            raise ValueError(f"Attention of {label!r} has shape {weights.shape}, expected "
                             f"{(views, steps, steps)}.")
    if not frame_indices or not all(0 <= i < steps for i in frame_indices):
        raise ValueError(f"frame_indices {list(frame_indices)} must be non-empty and within "
                         f"0..{steps - 1}.")
    numbers = [int(n) for n in (frame_numbers if frame_numbers is not None else range(steps))]
    if len(numbers) != steps:
        raise ValueError(f"frame_numbers has {len(numbers)} entries for {steps} frames.")
    # every key frame named up to T = 12 (the default), so the column a row peaks on can be read
    key_ticks = sorted(set(np.linspace(0, steps - 1, min(steps, 12)).round().astype(int).tolist()))
    labels = list(attention)
    caption = ATTENTION_CAPTION.format(steps=steps, uniform=1 / steps)
    width = 3.2 * (1 + len(labels)) + 1
    below = 0.55 + _caption_height(caption, width)
    figure, axes = plt.subplots(
        views, 1 + len(labels), figsize=(width, 1.9 * views + 0.8 + below), squeeze=False,
        gridspec_kw={"width_ratios": [1.6] + [1] * len(labels)},
    )
    _fixed_margins(figure, views, 1 + len(labels), left=0.45, right=1.1, top=0.75 if title else 0.45,
                   bottom=below, wspace=0.6, hspace=0.4)
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
            image = axis.imshow(rows, aspect="auto", cmap="magma", vmin=0.0, vmax=vmax,
                                interpolation="nearest")
            axis.set_yticks(range(len(frame_indices)), [str(numbers[i]) for i in frame_indices],
                            fontsize=7)
            axis.set_xticks(key_ticks, [str(numbers[i]) for i in key_ticks], fontsize=7)
            if view == 0:
                axis.set_title(label)
            if column == 1:
                axis.set_ylabel("query frame", fontsize=8)
            if view == views - 1:
                axis.set_xlabel("key frame", fontsize=8)
    axes[0, 0].set_title("frames " + ", ".join(str(numbers[i]) for i in frame_indices))
    top, bottom = axes[0, -1].get_position().y1, axes[-1, -1].get_position().y0
    bar = figure.add_axes((axes[0, -1].get_position().x1 + 0.15 / width,
                           bottom + 0.2 * (top - bottom), 0.12 / width, 0.6 * (top - bottom)),
                          label="<colorbar>")
    figure.colorbar(image, cax=bar,
                    label="attention weight (video query row → audio / pseudo-audio key)")
    if title:
        figure.suptitle(title)
    _caption(figure, caption)
    return figure


def saliency_figure(
    frames: np.ndarray,
    maps: Mapping[str, np.ndarray],
    shown: Sequence[int],
    boxes: np.ndarray | None = None,
    title: str = "",
    frame_numbers: Sequence[int] | None = None,
    scores: Mapping[str, np.ndarray] | None = None,
    caption: str = "",
) -> Figure:
    """Figure 4: each view's frames with each model's spatial saliency overlaid (and the true
    person box when known), one colour scale per model.

    Args:
        frames: ``(V, T, H, W, 3)`` uint8, the frames the models saw.
        maps: model label → ``(V, T, h, w)`` non-negative saliency on the patch grid, in any unit:
            each model's maps are divided by their maximum over the panels drawn, so within a
            model an empty view looks as cold as its evidence is weak; one colour bar per model.
        shown: the frame indices (into T) to draw.
        boxes: ``(V, T, 4)`` normalised ``x1, y1, x2, y2`` (NaN where not visible), or None.
        title: the figure's title.
        frame_numbers: the number each of the T frames is known by (its 2.5-FPS index in the
            sequence), used in the panel titles; default: the indices into T.
        scores: model label → ``(T,)`` its probability of the explained class, shown per panel.
        caption: a text below the panels (what to look for).

    Returns:
        A figure with one row per view and column blocks: the frames, then per model its
        overlays at the same frames and its colour bar.
    """
    views, steps, height, width = frames.shape[:4]
    numbers = list(frame_numbers) if frame_numbers is not None else list(range(steps))
    labels = list(maps)
    blocks = ["frame", *labels]
    columns = len(blocks) * len(shown)
    figure_width = 1.75 * columns + 0.6
    below = 0.8 + _caption_height(caption, figure_width)
    figure, axes = plt.subplots(views, columns, figsize=(figure_width, 1.55 * views + 0.8 + below),
                                squeeze=False)
    _fixed_margins(figure, views, columns, left=0.35, right=0.15, top=0.8 if title else 0.5,
                   bottom=below, wspace=0.08, hspace=0.08)
    for number, block in enumerate(blocks):
        model_maps = None if block == "frame" else np.asarray(maps[block])
        top = float(model_maps[:, list(shown)].max()) if model_maps is not None else 0.0
        image = None
        for offset, step in enumerate(shown):
            column = number * len(shown) + offset
            for view in range(views):
                axis = axes[view, column]
                axis.imshow(frames[view, step])
                if model_maps is not None:
                    image = axis.imshow(model_maps[view, step] / top if top > 0 else
                                        np.zeros_like(model_maps[view, step]),
                                        cmap="jet", alpha=0.45, vmin=0.0, vmax=1.0,
                                        extent=(0, width, height, 0), interpolation="bilinear")
                if boxes is not None and np.isfinite(boxes[view, step]).all():
                    x1, y1, x2, y2 = boxes[view, step] * [width, height, width, height]
                    axis.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                                 edgecolor="white", linewidth=1.2))
                axis.set_xticks([])
                axis.set_yticks([])
                if column == 0:
                    axis.set_ylabel(f"View{view + 1}")
            heading = f"frame {numbers[step]}"
            if block != "frame":
                heading = f"{block}\n{heading}"
                if scores is not None and block in scores:
                    heading += f", p = {float(scores[block][step]):.2f}"
            axes[0, column].set_title(heading, fontsize=7)
        if image is not None:
            first, last = (axes[-1, number * len(shown) + offset].get_position()
                           for offset in (0, len(shown) - 1))
            span = last.x1 - first.x0
            bar = figure.add_axes((first.x0 + 0.1 * span, first.y0 - 0.32 / figure.get_size_inches()[1],
                                   0.8 * span, 0.1 / figure.get_size_inches()[1]),
                                  label="<colorbar>")
            figure.colorbar(image, cax=bar, orientation="horizontal",
                            label=f"{block}: saliency / its max")
    if title:
        figure.suptitle(title, fontsize=9)
    if caption:
        _caption(figure, caption)
    return figure
