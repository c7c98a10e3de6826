"""Ground truth beside the dataset: the person's visibility and box per view and native frame."""
from __future__ import annotations

import numpy as np
import pandas as pd

#: Columns of the person truth table, in order (see docs/architecture.md).
TRUTH_COLUMNS = ("home", "sequence_id", "view", "frame", "time", "visible", "x1", "y1", "x2", "y2",
                 "actions")


def empty_truth() -> pd.DataFrame:
    """The truth table with no rows (real data) and the right columns and dtypes."""
    return pd.DataFrame({
        "home": pd.Series(dtype=str), "sequence_id": pd.Series(dtype=str),
        "view": pd.Series(dtype="int64"), "frame": pd.Series(dtype="int64"),
        "time": pd.Series(dtype="float64"), "visible": pd.Series(dtype=bool),
        **{c: pd.Series(dtype="float64") for c in ("x1", "y1", "x2", "y2")},
        "actions": pd.Series(dtype=object),
    })


def view_overlap(truth: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per home: among frames where some view sees the person, the share seen by two or more views.

    Also reports the mean number of views that see the person in those frames.
    """
    out = {}
    views_per_frame = truth.groupby(["home", "sequence_id", "frame"])["visible"].sum()
    for home, counts in views_per_frame.groupby(level="home"):
        seen = counts[counts > 0]
        out[str(home)] = {
            "person_frames": len(seen),
            "share_seen_by_2_or_more_views": float((seen >= 2).mean()) if len(seen) else float("nan"),
            "mean_views_seeing_person": float(seen.mean()) if len(seen) else float("nan"),
            "share_of_frames_person_unseen": float(np.mean(counts == 0)),
        }
    return out
