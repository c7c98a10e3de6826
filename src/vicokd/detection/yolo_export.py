"""The simulator's person truth on the 2.5-FPS frame axis, and its export as a YOLO dataset."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from vicokd.data.annotations import NUM_VIEWS, SAMPLE_FPS

#: The single class of the exported dataset.
PERSON_NAMES = {0: "person"}


def truth_on_frames(
    truth: pd.DataFrame, n_frames: int, n_views: int = NUM_VIEWS
) -> tuple[np.ndarray, np.ndarray]:
    """Visibility and boxes of one sequence at its 2.5-FPS frames.

    Frame ``f`` takes, for each view, the truth row whose ``time`` is nearest to ``f / SAMPLE_FPS``.

    Args:
        truth: the ``person_truth`` rows of one sequence (columns view, time, visible, x1..y2).
        n_frames: length of the sequence's 2.5-FPS frame axis.
    Returns:
        visible ``(V, n_frames)`` bool and boxes ``(V, n_frames, 4)`` float (x1, y1, x2, y2 in [0, 1],
        NaN where not visible).
    """
    visible = np.zeros((n_views, n_frames), dtype=bool)
    boxes = np.full((n_views, n_frames, 4), np.nan)
    times = np.arange(n_frames) / SAMPLE_FPS
    for view in range(1, n_views + 1):
        rows = truth[truth["view"] == view].sort_values("time")
        if rows.empty:
            raise ValueError(f"person_truth has no rows for view {view} of a sequence")
        row_times = rows["time"].to_numpy(dtype=float)
        after = np.searchsorted(row_times, times)
        left = np.clip(after - 1, 0, len(row_times) - 1)
        right = np.clip(after, 0, len(row_times) - 1)
        nearest = np.where(times - row_times[left] <= row_times[right] - times, left, right)
        visible[view - 1] = rows["visible"].to_numpy(dtype=bool)[nearest]
        boxes[view - 1] = rows[["x1", "y1", "x2", "y2"]].to_numpy(dtype=float)[nearest]
    boxes[~visible] = np.nan
    return visible, boxes


def truth_by_sequence(
    truth: pd.DataFrame, n_frames: Mapping[str, int], n_views: int = NUM_VIEWS
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`truth_on_frames` for every sequence in ``n_frames`` (``sequence_id -> n_frames``)."""
    groups = dict(tuple(truth.groupby("sequence_id", sort=False)))
    missing = [sid for sid in n_frames if sid not in groups]
    if missing:
        raise ValueError(f"person_truth has no rows for {len(missing)} sequences, e.g. {missing[0]}")
    return {sid: truth_on_frames(groups[sid], n) for sid, n in n_frames.items()}


def yolo_label_lines(box: np.ndarray) -> list[str]:
    """YOLO label lines for one normalised ``(x1, y1, x2, y2)`` box: ``class cx cy w h``; none if NaN."""
    if np.isnan(box).any():
        return []
    x1, y1, x2, y2 = np.clip(box, 0.0, 1.0)
    if x2 <= x1 or y2 <= y1:
        return []
    return [f"0 {(x1 + x2) / 2:.6f} {(y1 + y2) / 2:.6f} {x2 - x1:.6f} {y2 - y1:.6f}"]


def export_yolo_dataset(
    frames: Mapping[str, np.ndarray],
    truth: Mapping[str, tuple[np.ndarray, np.ndarray]],
    split_sequences: Mapping[str, Iterable[str]],
    folder: str | Path,
    frame_step: Mapping[str, int] | None = None,
) -> Path:
    """Write frames and person boxes as a YOLO detection dataset; return its ``data.yaml``.

    Every view's frame is one image (PNG, RGB); frames without a visible person are kept as negatives
    (an empty label file).

    Args:
        frames: ``sequence_id -> (V, n_frames, H, W, 3)`` uint8 RGB.
        truth: ``sequence_id -> (visible (V, n), boxes (V, n, 4))`` from :func:`truth_by_sequence`.
        split_sequences: ``"train"`` and ``"val"`` (YOLO split name) ``-> sequence ids``.
        folder: the dataset folder; the files of ``images/<split>`` and ``labels/<split>`` (PNG, TXT
            and the ``.npy`` image cache that ultralytics' ``cache="disk"`` writes beside the PNGs) are
            replaced.
        frame_step: per split, keep every k-th 2.5-FPS frame (default 1) to bound the dataset size;
            view ``v`` (0-based) starts at frame ``v % k``, so the views cover different moments.
    """
    folder = Path(folder)
    frame_step = dict(frame_step or {})
    for split, sequence_ids in split_sequences.items():
        image_dir, label_dir = folder / "images" / split, folder / "labels" / split
        for directory in (image_dir, label_dir):
            directory.mkdir(parents=True, exist_ok=True)
            for old in [*directory.glob("*.png"), *directory.glob("*.txt"), *directory.glob("*.npy")]:
                old.unlink()
        step = int(frame_step.get(split, 1))
        for sequence_id in tqdm(list(sequence_ids), desc=f"YOLO export ({split})", leave=False,
                                disable=None):
            clip = frames[sequence_id]
            _, boxes = truth[sequence_id]
            stem = sequence_id.replace("/", "__")
            for view in range(clip.shape[0]):
                for f in range(view % step, clip.shape[1], step):
                    name = f"{stem}__v{view + 1}__f{f:05d}"
                    Image.fromarray(np.asarray(clip[view, f])).save(image_dir / f"{name}.png")
                    lines = yolo_label_lines(boxes[view, f])
                    (label_dir / f"{name}.txt").write_text("".join(line + "\n" for line in lines))
    data_yaml = folder / "data.yaml"
    names = "\n".join(f"  {k}: {v}" for k, v in PERSON_NAMES.items())
    data_yaml.write_text(f"path: {folder.resolve()}\ntrain: images/train\nval: images/val\n"
                         f"names:\n{names}\n")
    return data_yaml
