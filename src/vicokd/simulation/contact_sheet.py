"""A contact sheet of one sequence: decoded frames, views × time, with the true box and actions."""
from __future__ import annotations

from pathlib import Path

import av
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle


def decode_frames(path: Path, indices: list[int]) -> dict[int, np.ndarray]:
    """RGB frames (H, W, 3) uint8 of an mp4 at the given native frame indices."""
    wanted, out = set(indices), {}
    with av.open(str(path)) as container:
        for k, frame in enumerate(container.decode(video=0)):
            if k in wanted:
                out[k] = frame.to_ndarray(format="rgb24")
            if len(out) == len(wanted):
                break
    return out


def contact_sheet(dataset_root: Path, truth: pd.DataFrame, sequence_id: str, columns: int = 8) -> Figure:
    """Figure of ``columns`` evenly spaced times (columns) for each view (rows) of ``sequence_id``."""
    rows = truth[truth["sequence_id"] == sequence_id]
    if rows.empty:
        raise ValueError(f"No truth rows for sequence {sequence_id!r}")
    home, session, stem = sequence_id.split("/")
    video_id, part = stem.split("-Part")
    views = sorted(rows["view"].unique())
    n = int(rows["frame"].max()) + 1
    frames = np.linspace(0, n - 1, columns).round().astype(int).tolist()
    fig, axes = plt.subplots(len(views), columns, figsize=(1.9 * columns, 1.6 * len(views) + 0.6),
                             squeeze=False)
    for r, view in enumerate(views):
        path = Path(dataset_root) / home / session / f"{video_id}-View{view}-Part{part}.mp4"
        images = decode_frames(path, frames)
        for c, k in enumerate(frames):
            ax = axes[r][c]
            image = images[k]
            ax.imshow(image)
            ax.set_xticks([])
            ax.set_yticks([])
            row = rows[(rows["view"] == view) & (rows["frame"] == k)].iloc[0]
            if row["visible"]:
                h, w = image.shape[:2]
                ax.add_patch(Rectangle((row["x1"] * w, row["y1"] * h), (row["x2"] - row["x1"]) * w,
                                       (row["y2"] - row["y1"]) * h, fill=False, color="lime", lw=1))
            if c == 0:
                ax.set_ylabel(f"View{view}", fontsize=8)
            if r == 0:
                ax.set_title(f"{row['time']:.1f}s\n" + "+".join(row["actions"]) if len(row["actions"])
                             else f"{row['time']:.1f}s\n-", fontsize=7)
    fig.suptitle(f"{sequence_id} (green: visible person box)", fontsize=9)
    fig.tight_layout()
    return fig


def pick_sequence(truth: pd.DataFrame) -> str:
    """The sequence of the first home with the most distinct true actions (ties: the first one)."""
    first = truth[truth["home"] == truth["home"].iloc[0]]
    n_actions = first.groupby("sequence_id", sort=True)["actions"].agg(
        lambda a: len({x for row in a for x in row}))
    return str(n_actions.idxmax())


def message_figure(text: str) -> Figure:
    """A small figure holding only ``text`` (for runs without a simulated sequence)."""
    fig = plt.figure(figsize=(5, 1))
    fig.text(0.5, 0.5, text, ha="center", va="center")
    return fig
