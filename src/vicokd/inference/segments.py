"""Per-class thresholds chosen on validation frames, and action segments from frame scores.

A 2.5-FPS frame ``f`` is a sample at ``f / fps`` seconds; a run of frames ``a..b`` whose score of
a class reaches its threshold becomes the segment ``[(a - ½) / fps, (b + ½) / fps]`` (each frame
stands for the interval centred on it; no segment starts before 0 s), scored by the mean score of
its frames.
Imports nothing of the project: the exported model's loader uses it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

SEGMENT_COLUMNS = ("class", "start", "end", "score")


def f1_scores(scores: np.ndarray, targets: np.ndarray,
              threshold: float) -> tuple[np.ndarray, float]:
    """Per-class F1 ``(C,)`` of ``scores >= threshold`` against ``targets`` (both ``(N, C)``), and
    the micro F1 over all classes pooled (0 where nothing is predicted or true)."""
    predicted = scores >= threshold
    truth = targets > 0
    hits = (predicted & truth).sum(0).astype(np.float64)
    size = predicted.sum(0) + truth.sum(0)
    per_class = np.divide(2 * hits, size, out=np.zeros_like(hits), where=size > 0)
    pooled = 2 * hits.sum() / size.sum() if size.sum() else 0.0
    return per_class, float(pooled)


def choose_thresholds(scores: np.ndarray, targets: np.ndarray,
                      candidates: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class thresholds: the candidate with the best F1 on ``scores``, ``targets`` (``(N, C)``
    validation frames; the lowest candidate among equals). A class without a positive frame gets
    the candidate with the best F1 over all classes pooled.

    Returns:
        thresholds ``(C,)``, their F1 ``(C,)`` (NaN for a class without positives) and whether each
        was fitted on the class's own frames ``(C,)`` bool.
    """
    candidates = sorted(candidates)
    per_class, pooled = zip(*(f1_scores(scores, targets, t) for t in candidates))
    table = np.stack(per_class)  # (K, C)
    fitted = (targets > 0).any(0)
    best = table.argmax(0)
    fallback = candidates[int(np.argmax(pooled))]
    thresholds = np.where(fitted, np.asarray(candidates)[best], fallback)
    f1 = np.where(fitted, table[best, np.arange(table.shape[1])], np.nan)
    return thresholds, f1, fitted


def _runs(active: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` frame of every run of True in ``active`` ``(n,)``."""
    edges = np.diff(np.r_[0, active.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1))


def segment_records(scores: np.ndarray, thresholds: Sequence[float], classes: Sequence[str],
                    fps: float) -> list[dict[str, Any]]:
    """The segments (module docstring) of ``scores`` ``(n, C)`` as records ``class, start, end,
    score`` (seconds), sorted by start then class."""
    records = []
    for c, name in enumerate(classes):
        for first, last in _runs(scores[:, c] >= thresholds[c]):
            records.append({"class": name, "start": max(0.0, (first - 0.5) / fps),
                            "end": (last + 0.5) / fps,
                            "score": float(scores[first:last + 1, c].mean())})
    return sorted(records, key=lambda record: (record["start"], record["class"]))


def frame_segments(scores: np.ndarray, thresholds: Sequence[float], classes: Sequence[str],
                   fps: float) -> pd.DataFrame:
    """:func:`segment_records` as a table: columns ``class, start, end, score``."""
    return pd.DataFrame(segment_records(scores, thresholds, classes, fps),
                        columns=list(SEGMENT_COLUMNS))


def annotation_records(tricks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The annotated segments as records, one per trick and label: ``class, start, end`` (seconds)."""
    return [{"class": label, "start": float(trick["start"]), "end": float(trick["end"])}
            for trick in tricks for label in trick["labels"]]


def annotation_segments(tricks: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """:func:`annotation_records` as a table: columns ``class, start, end``."""
    return pd.DataFrame(annotation_records(tricks), columns=["class", "start", "end"])
