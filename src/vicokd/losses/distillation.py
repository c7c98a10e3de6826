"""Distillation losses from a frozen teacher to a student.

The teacher side is always a target: it is detached, so no gradient ever reaches the teacher.
Which terms each comparison method uses (the training recipes combine them):

- LogitKD: :func:`logit_distillation_loss` on frame logits.
- ModalKD: :func:`modal_distillation_loss` (student visual and pseudo-audio features against the
  teacher's visual and real audio features).
- DualKD: :func:`dual_distillation_loss` (feature + logit distillation).
- CoKD / ViCoKD: :func:`feature_distillation_loss` (PAPER Eq. 7) + :func:`logit_distillation_loss`.
"""

from typing import Protocol

import torch
import torch.nn.functional as F


class DistillableOutput(Protocol):
    """What the distillation losses read from a model output (``vicokd.models.ModelOutput``)."""

    frame_logits: torch.Tensor
    f_attn: torch.Tensor
    f_av: torch.Tensor


def squared_feature_distance(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean over all leading axes of the squared L2 distance along the last (feature) axis.

    Args:
        student, teacher: ``(..., D)`` features, e.g. ``(B, V, T, D)``.

    Returns:
        Scalar ``mean_{b,v,t} ‖student − teacher‖²``.
    """
    if student.shape != teacher.shape:
        raise ValueError(
            f"student and teacher features differ in shape: "
            f"{tuple(student.shape)} vs {tuple(teacher.shape)}"
        )
    return (student.float() - teacher.detach().float()).pow(2).sum(dim=-1).mean()


def feature_distillation_loss(
    student_attn: torch.Tensor,
    teacher_attn: torch.Tensor,
    student_av: torch.Tensor,
    teacher_av: torch.Tensor,
) -> torch.Tensor:
    """Feature distillation, PAPER Eq. 7: ``(1/T) Σ_t ‖F^attn_T − F^attn_S‖² + ‖F^AV_T − F^AV_S‖²``.

    Computed per view and averaged over views and batch.

    Args:
        student_attn, teacher_attn: cross-attention outputs ``(B, V, T, D)``.
        student_av, teacher_av: fused features ``F^AV = F^V + F^attn`` ``(B, V, T, D)``.
    """
    return squared_feature_distance(student_attn, teacher_attn) + squared_feature_distance(
        student_av, teacher_av
    )


def modal_distillation_loss(
    student_visual: torch.Tensor,
    teacher_visual: torch.Tensor,
    student_audio: torch.Tensor,
    teacher_audio: torch.Tensor,
) -> torch.Tensor:
    """ModalKD: the student's visual and pseudo-audio features against the teacher's visual and
    real audio features, each as in Eq. 7 (squared L2 per frame, mean over batch, views, frames).

    Args:
        student_visual, teacher_visual: ``F^V`` ``(B, V, T, D)``.
        student_audio: pseudo-audio from the student's adapter ``(B, V, T, D)``.
        teacher_audio: the teacher's audio features ``F^A`` ``(B, V, T, D)``.
    """
    return squared_feature_distance(student_visual, teacher_visual) + squared_feature_distance(
        student_audio, teacher_audio
    )


def logit_distillation_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Logit distillation: ``τ² · mean over frames of KL(softmax(t/τ) ‖ softmax(s/τ))``.

    Args:
        student_logits, teacher_logits: ``(..., C)``; every leading position is one "frame".
        temperature: softening temperature ``τ > 0``.
    """
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student and teacher logits differ in shape: "
            f"{tuple(student_logits.shape)} vs {tuple(teacher_logits.shape)}"
        )
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    student_log_p = F.log_softmax(student_logits.float() / temperature, dim=-1)
    teacher_log_p = F.log_softmax(teacher_logits.detach().float() / temperature, dim=-1)
    kl = (teacher_log_p.exp() * (teacher_log_p - student_log_p)).sum(dim=-1)
    return temperature**2 * kl.mean()


def dual_distillation_loss(
    student: DistillableOutput, teacher: DistillableOutput, temperature: float
) -> torch.Tensor:
    """DualKD: feature distillation (Eq. 7) plus logit distillation on the fused frame logits."""
    features = feature_distillation_loss(student.f_attn, teacher.f_attn, student.f_av, teacher.f_av)
    logits = logit_distillation_loss(student.frame_logits, teacher.frame_logits, temperature)
    return features + logits
