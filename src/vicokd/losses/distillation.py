"""Distillation losses from a frozen teacher to a student.

The teacher side is always a target: it is detached, so no gradient ever reaches the teacher. The
comparison methods are recipes of these two terms (``conf/base/parameters_runs.yml``): feature
distillation sums :func:`squared_feature_distance` over the compared features (``f_attn`` and
``f_av`` give PAPER Eq. 7; ModalKD compares ``f_visual`` and ``f_audio``; DualKD ``f_fusion``), and
logit distillation is :func:`logit_distillation_loss` on frame logits.
"""

import torch
import torch.nn.functional as F


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
