"""Precision, recall and F1 of visibility masks against the simulator's visibility."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def mask_quality(
    predicted: Mapping[str, np.ndarray],
    truth: Mapping[str, np.ndarray],
    homes: Mapping[str, str],
) -> dict[str, dict[str, float]]:
    """Per-home precision, recall and F1 of the positive class (person visible).

    Args:
        predicted: ``sequence_id -> (V, n)`` masks in {0, 1}.
        truth: ``sequence_id -> (V, n)`` true visibility, same shapes.
        homes: ``sequence_id -> home`` for the sequences to score (e.g. the test split).
    Returns:
        ``home -> {precision, recall, f1, tp, fp, fn, tn, frames}``; a score with an empty
        denominator is 0.
    """
    counts: dict[str, np.ndarray] = {}
    for sequence_id, home in homes.items():
        pred, true = np.asarray(predicted[sequence_id]), np.asarray(truth[sequence_id])
        if pred.shape != true.shape:
            raise ValueError(f"Mask of {sequence_id} has shape {pred.shape}, its truth {true.shape}.")
        matrix = _confusion(true.ravel().astype(bool), pred.ravel().astype(bool))
        counts[home] = counts.get(home, 0) + matrix
    return {home: _scores(matrix) for home, matrix in sorted(counts.items())}


def best_threshold(
    confidence: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray], candidates: Sequence[float]
) -> float:
    """The candidate threshold whose masks ``confidence >= t`` have the highest F1 against ``truth``
    (pooled over the given sequences; ties go to the earlier candidate).

    Args:
        confidence: ``sequence_id -> (V, n)`` person confidence.
        truth: ``sequence_id -> (V, n)`` true visibility of the same sequences.
    """
    if not truth:
        raise ValueError("No sequences to choose a mask threshold on.")
    scores = np.concatenate([np.asarray(confidence[sid]).ravel() for sid in truth])
    visible = np.concatenate([np.asarray(truth[sid]).ravel() for sid in truth]).astype(bool)
    f1 = [_scores(_confusion(visible, scores >= t))["f1"]
          for t in candidates]
    return float(candidates[int(np.argmax(f1))])


def _confusion(true: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """``(2, 2)`` confusion matrix of two boolean arrays (scikit-learn's, imported when first used:
    it takes a second)."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(true, predicted, labels=[False, True])


def _scores(matrix: np.ndarray) -> dict[str, float]:
    """Scores from a 2×2 confusion matrix ``[[tn, fp], [fn, tp]]``."""
    (tn, fp), (fn, tp) = matrix.tolist()
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn,
            "tn": tn, "frames": tp + fp + fn + tn}


def quality_table(report: Mapping[str, object]) -> str:
    """A short markdown table of a mask quality report (see the masking pipeline's ``mask_quality``)."""
    title = (f"# Visibility mask quality ({report['source']} masks, {report['split']} split, "
             f"threshold {report['threshold']})")
    lines = [title, ""]
    homes = report["homes"]
    if not homes:
        return "\n".join(lines + [f"No ground truth: {report['note']}", ""])
    lines += ["| home | precision | recall | F1 | frames (view × frame) |",
              "|---|---|---|---|---|"]
    for home, s in homes.items():
        lines.append(f"| {home} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} "
                     f"| {s['frames']} |")
    return "\n".join(lines + [""])
