"""Two-way multi-label loss (Kobayashi, "Two-way Multi-Label Loss", CVPR 2023)."""

import torch
import torch.nn.functional as F

# Stands in for -inf in masked log-sum-exps: exp() of it is exactly 0 in float32, and unlike -inf
# it keeps gradients finite when a row or column has no negative (or no positive) at all.
_MASKED = -1.0e9


def _masked_mean(values: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` where ``keep`` is true; 0 (still in the graph) when nothing is kept."""
    kept = values * keep
    return kept.sum() / keep.sum().clamp_min(1)


def two_way_loss(
    logits: torch.Tensor, targets: torch.Tensor, tp: float = 4.0, tn: float = 1.0
) -> torch.Tensor:
    """Two-way multi-label loss.

    For each row (sample) with at least one positive class, and again for each column (class)
    with at least one positive sample:
    ``softplus(tn · logsumexp_neg(x / tn) + tp · logsumexp_pos(-x / tp))``.
    Both directions are averaged over the rows / columns that have a positive, then added.
    A row or column without negatives contributes 0 (the limit of softplus(-inf)).

    Args:
        logits: ``(N, C)`` raw scores.
        targets: ``(N, C)`` labels; an entry ``> 0`` is positive, anything else negative.
        tp: temperature of the positive side.
        tn: temperature of the negative side.

    Returns:
        A scalar tensor; 0 when no target is positive.
    """
    if logits.ndim != 2 or logits.shape != targets.shape:
        raise ValueError(
            f"two_way_loss expects logits and targets of the same (N, C) shape, "
            f"got {tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    x = logits.float()
    positive = targets > 0
    positive_side = (-x / tp).masked_fill(~positive, _MASKED)
    negative_side = (x / tn).masked_fill(positive, _MASKED)
    total = x.new_zeros(())
    for dim in (1, 0):  # 1: along classes (one term per sample); 0: along samples (per class)
        pos = tp * torch.logsumexp(positive_side, dim=dim)
        neg = tn * torch.logsumexp(negative_side, dim=dim)
        total = total + _masked_mean(F.softplus(pos + neg), positive.any(dim=dim))
    return total
