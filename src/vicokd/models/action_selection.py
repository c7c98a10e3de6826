"""Action selection (MultiASL): the sequence score from the frames that most look like an action.

Following the public MultiASL code (thanhhff/MultiASL, ``main_mm.py`` ``forward_ASL`` and
``calculate_pesudo_target``; ``utils/misc_utils.py`` ``instance_selection_function``):

- each frame's selection score for class c is the mean of the class-activation softmax and the
  actionness probabilities, ``(softmax_c(cas)[t, c] + Σ_s a_s[t]) / (1 + S)``;
- the top ``k = max(1, T // 8)`` frames per class are selected and the sequence logit of class c is
  the mean of their class activations (so the sequence loss trains the frame head);
- actionness learns from the sequence labels: the frames selected for a labelled class are
  actionness positives, all others negatives, under the generalized cross-entropy (Zhang &
  Sabuncu 2018) the reference uses.
"""

import torch

#: ``q`` of the generalized cross-entropy (the reference's ``--q_val`` default).
GCE_Q = 0.7


def selection_size(frames: int) -> int:
    """Frames selected per class: ``T // 8``, at least 1."""
    return max(1, frames // 8)


def select_frames(class_activation: torch.Tensor, actionness: torch.Tensor) -> torch.Tensor:
    """Indices of the selected frames.

    Args:
        class_activation: ``(B, T, C)`` frame logits.
        actionness: ``(B, S, T)`` actionness probabilities of S streams.

    Returns:
        ``(B, k, C)`` int64 frame indices, ``k = selection_size(T)``.
    """
    with torch.no_grad():
        scores = class_activation.float().softmax(dim=-1) + actionness.float().sum(1).unsqueeze(-1)
        scores = scores / (1 + actionness.shape[1])
        return scores.topk(selection_size(scores.shape[1]), dim=1).indices


def selected_mean(class_activation: torch.Tensor, selected: torch.Tensor) -> torch.Tensor:
    """``(B, T, C)`` logits, ``(B, k, C)`` indices → ``(B, C)`` mean logit of the selected frames."""
    return class_activation.gather(1, selected).mean(dim=1)


def actionness_targets(
    selected: torch.Tensor, sequence_labels: torch.Tensor, frames: int
) -> torch.Tensor:
    """``(B, T)`` in {0, 1}: 1 at the frames selected for any class the sequence is labelled with.

    Args:
        selected: ``(B, k, C)`` frame indices from :func:`select_frames`.
        sequence_labels: ``(B, C)``; an entry ``> 0`` is a label.
        frames: T.
    """
    labelled = (sequence_labels > 0).unsqueeze(1).expand_as(selected)
    hits = torch.zeros(selected.shape[0], frames, device=selected.device)
    return hits.scatter_add_(1, selected.flatten(1), labelled.flatten(1).float()).clamp_max_(1.0)


def generalized_cross_entropy(
    probs: torch.Tensor, targets: torch.Tensor, q: float = GCE_Q
) -> torch.Tensor:
    """Class-balanced generalized cross-entropy of probabilities ``(N, T)`` against ``(N, T)``
    targets in {0, 1}: ``mean_N [Σ_pos (1 − p^q)/q / n_pos] + mean_N [Σ_neg (1 − (1−p)^q)/q / n_neg]``.
    """
    eps = 1e-7
    positive = targets.float()
    negative = 1.0 - positive
    pos_term = ((1.0 - (probs + eps) ** q) / q * positive).sum(1) / (positive.sum(1) + eps)
    neg_term = ((1.0 - (1.0 - probs + eps) ** q) / q * negative).sum(1) / (negative.sum(1) + eps)
    return pos_term.mean() + neg_term.mean()


def action_selection_loss(
    actionness: torch.Tensor | None,
    selected: torch.Tensor | None,
    sequence_labels: torch.Tensor,
    q: float = GCE_Q,
) -> torch.Tensor:
    """Actionness loss from sequence labels: generalized cross-entropy of every actionness stream
    against :func:`actionness_targets`, summed over streams.

    Args:
        actionness: ``(B, S, T)`` probabilities (``ModelOutput.actionness``), or None for a
            backbone without action selection (the loss is then 0).
        selected: ``(B, k, C)`` indices (``ModelOutput.selected_frames``).
        sequence_labels: ``(B, C)``.
    """
    if actionness is None or selected is None:
        return sequence_labels.new_zeros((), dtype=torch.float32)
    targets = actionness_targets(selected, sequence_labels, actionness.shape[-1])
    probs = actionness.float()
    return sum(generalized_cross_entropy(probs[:, s], targets, q) for s in range(probs.shape[1]))
