"""Segment-level detection mAP at temporal IoU thresholds, as the ActivityNet evaluation computes it
(Heilbron et al., CVPR 2015; ``ActivityNet/Evaluation/eval_detection.py``).

Per class: the predicted segments of every recording, by decreasing score, are matched to the true
segments of the same class and recording; a prediction is a true positive when its best unmatched
true segment overlaps it with tIoU >= the threshold (each true segment is matched once), otherwise a
false positive. AP is the area under the interpolated precision-recall curve (precision made
non-increasing in recall); mAP the mean over the classes with at least one true segment (a class
with no prediction scores 0), in percent.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Prefix of the per-class AP columns (as in reporting's metrics tables).
AP_PREFIX = "ap."
#: Columns of a predicted segment table (``recording`` names where it was found).
PREDICTED_COLUMNS = ("recording", "class", "start", "end", "score")
#: Columns of a true segment table.
TRUE_COLUMNS = ("recording", "class", "start", "end")


def temporal_iou(segment: Sequence[float], others: np.ndarray) -> np.ndarray:
    """tIoU of ``segment`` ``(start, end)`` with each row of ``others`` ``(K, 2)``, ``(K,)``; two
    segments that share no time (or have no length between them) have tIoU 0."""
    others = np.asarray(others, np.float64).reshape(-1, 2)
    start, end = float(segment[0]), float(segment[1])
    overlap = np.clip(np.minimum(end, others[:, 1]) - np.maximum(start, others[:, 0]), 0.0, None)
    union = (end - start) + (others[:, 1] - others[:, 0]) - overlap
    return np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)


def interpolated_average_precision(precision: np.ndarray, recall: np.ndarray) -> float:
    """ActivityNet's ``interpolated_prec_rec``: Σ over recall steps of the step times the largest
    precision at that recall or beyond."""
    precision = np.r_[0.0, precision, 0.0]
    recall = np.r_[0.0, recall, 1.0]
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1]) + 1
    return float(np.sum((recall[steps] - recall[steps - 1]) * precision[steps]))


def segment_average_precision(predicted: pd.DataFrame, truth: pd.DataFrame, tiou: float) -> float:
    """AP (fraction) of one class's ``predicted`` segments (``recording, start, end, score``)
    against its ``truth`` (``recording, start, end``; at least one row) at one tIoU threshold."""
    return _average_precision(_Segments.of(predicted), _Segments.of(truth), tiou)


class _Segments:
    """Segments as arrays, read once from a table and split by class: ``recordings`` ``(K,)``,
    ``bounds`` ``(K, 2)`` (start, end) and ``scores`` ``(K,)`` (None for true segments)."""

    def __init__(self, recordings: np.ndarray, bounds: np.ndarray, scores: np.ndarray | None):
        self.recordings, self.bounds, self.scores = recordings, bounds, scores

    @classmethod
    def of(cls, table: pd.DataFrame) -> _Segments:
        scores = table["score"].to_numpy(np.float64) if "score" in table.columns else None
        return cls(table["recording"].to_numpy(), table[["start", "end"]].to_numpy(np.float64), scores)

    def __len__(self) -> int:
        return len(self.recordings)

    def by_class(self, classes: np.ndarray, name: str) -> _Segments:
        keep = classes == name
        return _Segments(self.recordings[keep], self.bounds[keep],
                         None if self.scores is None else self.scores[keep])


def _average_precision(predicted: _Segments, truth: _Segments, tiou: float) -> float:
    """:func:`segment_average_precision` on arrays."""
    if not len(truth):
        raise ValueError("segment AP needs at least one true segment")
    if not len(predicted):
        return 0.0
    order = np.argsort(-predicted.scores, kind="stable")
    true_by_recording = {name: truth.bounds[truth.recordings == name]
                         for name in dict.fromkeys(truth.recordings)}
    matched = {name: np.zeros(len(rows), bool) for name, rows in true_by_recording.items()}
    hits = np.zeros(len(order), bool)
    for i, (recording, segment) in enumerate(zip(predicted.recordings[order],
                                                 predicted.bounds[order])):
        if recording not in true_by_recording:
            continue
        overlaps = temporal_iou(segment, true_by_recording[recording])
        for j in np.argsort(-overlaps, kind="stable"):
            if overlaps[j] < tiou:
                break
            if not matched[recording][j]:
                matched[recording][j] = hits[i] = True
                break
    true_positives = np.cumsum(hits)
    precision = true_positives / np.arange(1, len(hits) + 1)
    recall = true_positives / len(truth)
    return interpolated_average_precision(precision, recall)


def segment_detection_map(predicted: pd.DataFrame, truth: pd.DataFrame,
                          tious: Sequence[float] = (0.3, 0.5, 0.7)) -> pd.DataFrame:
    """Segment-level detection mAP at each tIoU threshold (module docstring).

    Args:
        predicted: :data:`PREDICTED_COLUMNS`, one row per predicted segment.
        truth: :data:`TRUE_COLUMNS`, one row per true segment (seconds, as in the annotations).
        tious: the tIoU thresholds.

    Returns:
        One row per threshold and a last row ``tiou = "mean"`` (their mean): ``tiou``, ``map`` and
        ``ap.<class>`` (percent) for every class with a true segment, in order of appearance.
    """
    missing = [c for c in PREDICTED_COLUMNS if c not in predicted.columns]
    missing += [c for c in TRUE_COLUMNS if c not in truth.columns]
    if missing:
        raise ValueError(f"segment_detection_map: missing columns {missing}")
    if truth.empty:
        raise ValueError("segment_detection_map: no true segment at all")
    classes = list(dict.fromkeys(truth["class"]))
    found, true = _Segments.of(predicted), _Segments.of(truth)
    found_classes, true_classes = predicted["class"].to_numpy(), truth["class"].to_numpy()
    by_class = {name: (found.by_class(found_classes, name), true.by_class(true_classes, name))
                for name in classes}
    rows = []
    for tiou in tious:
        aps = {f"{AP_PREFIX}{name}": 100.0 * _average_precision(*by_class[name], tiou)
               for name in classes}
        rows.append({"tiou": float(tiou), "map": float(np.mean(list(aps.values()))), **aps})
    table = pd.DataFrame(rows)
    mean = table.drop(columns="tiou").mean().to_dict()
    return pd.concat([table.astype({"tiou": object}), pd.DataFrame([{"tiou": "mean", **mean}])],
                     ignore_index=True)
