"""Sequence-level scores as the authors' public code computes them (see docs/models.md).

- MultiTSF (thanhhff/MultiTSF ``main.py`` ``evaluate_mutli_class``): softmax over classes of the
  sequence logits; beside it, softmax over classes of the frame logits max-pooled over time (the
  frame logits being already the max over views), and the mean of the two. Each is scored against
  the sequence labels; the sequence prediction is the headline figure.
- MultiASL (thanhhff/MultiASL ``main_mm.py`` ``evaluate_mutli_class``): sigmoid of the sequence
  logits (the mean class activation of the selected frames); no frame variant is reported.
- MultiTrans has no public code; it is scored like MultiTSF (the ViCoKD authors' code base).
"""

from typing import Any

import torch

#: How each backbone's logits become the probabilities that the authors' code ranks.
ACTIVATIONS = {"multitsf": "softmax", "multitrans": "softmax", "multiasl": "sigmoid"}


def _activate(logits: torch.Tensor, backbone: str) -> torch.Tensor:
    if backbone not in ACTIVATIONS:
        raise ValueError(f"unknown backbone {backbone!r}; known: {sorted(ACTIVATIONS)}")
    logits = torch.as_tensor(logits).float()
    return logits.softmax(dim=-1) if ACTIVATIONS[backbone] == "softmax" else logits.sigmoid()


def sequence_scores(output_or_logits: Any, backbone: str) -> torch.Tensor:
    """Probabilities of the sequence prediction, ``(N, C)``.

    Args:
        output_or_logits: a ``ModelOutput`` (its ``sequence_logits``) or logits ``(N, C)``.
        backbone: ``multitsf``, ``multiasl`` or ``multitrans`` (picks softmax or sigmoid).
    """
    logits = getattr(output_or_logits, "sequence_logits", output_or_logits)
    return _activate(logits, backbone)


def max_pooled_frame_scores(output_or_frame_logits: Any, backbone: str) -> torch.Tensor:
    """Probabilities of the frame logits max-pooled over time, ``(N, C)``.

    Args:
        output_or_frame_logits: a ``ModelOutput`` (its view-fused ``frame_logits``) or frame
            logits ``(N, T, C)``.
        backbone: as in :func:`sequence_scores` (the same activation).
    """
    logits = getattr(output_or_frame_logits, "frame_logits", output_or_frame_logits)
    return _activate(torch.as_tensor(logits).amax(dim=-2), backbone)
