import math

import pytest
import torch

from vicokd.losses import logit_distillation_loss, squared_feature_distance


def _softmax(values: list[float], temperature: float) -> list[float]:
    exps = [math.exp(v / temperature) for v in values]
    return [e / sum(exps) for e in exps]


def _logit_kd_reference(student: torch.Tensor, teacher: torch.Tensor, tau: float) -> float:
    s_rows, t_rows = student.reshape(-1, student.shape[-1]), teacher.reshape(-1, teacher.shape[-1])
    total = 0.0
    for s, t in zip(s_rows.tolist(), t_rows.tolist()):
        p, q = _softmax(t, tau), _softmax(s, tau)
        total += sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))
    return tau**2 * total / len(s_rows)


@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0, 4.0])
def test_logit_distillation_matches_loop_over_frames(tau):
    generator = torch.Generator().manual_seed(0)
    student = torch.randn(2, 3, 6, generator=generator)
    teacher = torch.randn(2, 3, 6, generator=generator) * 2
    assert logit_distillation_loss(student, teacher, tau).item() == pytest.approx(
        _logit_kd_reference(student, teacher, tau), rel=1e-5
    )


def test_logit_distillation_is_zero_for_equal_logits_and_does_not_train_the_teacher():
    teacher = torch.randn(4, 5, requires_grad=True)
    student = teacher.detach().clone().requires_grad_(True)
    loss = logit_distillation_loss(student, teacher, 2.0)
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    assert teacher.grad is None


def _squared_distance_reference(a: torch.Tensor, b: torch.Tensor) -> float:
    batch, views, frames, _ = a.shape
    total = 0.0
    for i in range(batch):
        for v in range(views):
            for t in range(frames):
                total += sum((x - y) ** 2 for x, y in zip(a[i, v, t].tolist(), b[i, v, t].tolist()))
    return total / (batch * views * frames)


def test_squared_feature_distances_of_attn_and_av_are_eq7():
    generator = torch.Generator().manual_seed(3)
    s_attn, t_attn, s_av, t_av = (torch.randn(2, 3, 4, 5, generator=generator) for _ in range(4))
    expected = _squared_distance_reference(t_attn, s_attn) + _squared_distance_reference(t_av, s_av)
    eq7 = squared_feature_distance(s_attn, t_attn) + squared_feature_distance(s_av, t_av)
    assert eq7.item() == pytest.approx(expected, rel=1e-5)


def test_distillation_rejects_shape_mismatch_and_bad_temperature():
    with pytest.raises(ValueError, match="shape"):
        squared_feature_distance(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 5))
    with pytest.raises(ValueError, match="temperature"):
        logit_distillation_loss(torch.zeros(2, 3), torch.zeros(2, 3), 0.0)
