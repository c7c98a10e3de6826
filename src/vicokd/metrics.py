"""Evaluation metric: macro mean average precision over classes."""

import numpy as np


def average_precision(scores: np.ndarray, targets: np.ndarray) -> float:
    """Average precision of one class: ``Σ_k (R_k − R_{k−1}) · P_k`` over score thresholds.

    Samples with equal scores form one threshold (as in scikit-learn), so ties do not depend on
    the order of the input.

    Args:
        scores: ``(N,)`` higher means more confident.
        targets: ``(N,)`` 1 for positive, 0 for negative; at least one positive.
    """
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    hits = targets[order].astype(np.float64)
    # last index of each group of equal scores
    cut = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    true_pos = np.cumsum(hits)[cut]
    precision = true_pos / (cut + 1)
    recall = true_pos / true_pos[-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def mean_average_precision(scores: np.ndarray, targets: np.ndarray) -> float:
    """Macro AP in percent over the classes that have at least one positive.

    Args:
        scores: ``(N, C)`` scores (probabilities or logits).
        targets: ``(N, C)`` binary labels.

    Raises:
        ValueError: shapes differ, are not 2-D, or no class has a positive.
    """
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets) > 0
    if scores.ndim != 2 or scores.shape != targets.shape:
        raise ValueError(
            f"mean_average_precision expects scores and targets of the same (N, C) shape, "
            f"got {scores.shape} and {targets.shape}"
        )
    present = np.flatnonzero(targets.any(axis=0))
    if present.size == 0:
        raise ValueError("mean_average_precision: no class has a positive target")
    aps = [average_precision(scores[:, c], targets[:, c]) for c in present]
    return 100.0 * float(np.mean(aps))
