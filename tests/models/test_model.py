import math

import pytest
import torch

from vicokd.losses import (
    logit_distillation_loss,
    squared_feature_distance,
    two_way_loss,
    view_consistency_loss,
)
from vicokd.models import BACKBONES, build_model, model_signature

B, V, T, C = 2, 5, 8, 16


def _build(config: dict, backbone: str, with_audio: bool, seed: int = 0):
    torch.manual_seed(seed)
    return build_model({**config, "backbone": backbone}, with_audio=with_audio)


def _every_output_loss(output) -> torch.Tensor:
    """A loss that touches every output, so every parameter should receive a gradient."""
    loss = output.view_frame_logits.sum() + output.frame_logits.sum()
    loss = loss + output.sequence_logits.sum() + output.f_fusion.sum()
    for optional in (output.presence_logits, output.actionness):
        if optional is not None:
            loss = loss + optional.sum()
    return loss


@pytest.mark.parametrize("backbone", BACKBONES)
def test_teacher_forward_shapes_and_backward(test_config, batch, backbone):
    frames, audio = batch
    teacher = _build(test_config, backbone, with_audio=True)
    output = teacher(frames, audio)
    dim = test_config["dim"]
    assert output.view_frame_logits.shape == (B, V, T, C)
    assert output.frame_logits.shape == (B, T, C)
    assert output.sequence_logits.shape == (B, C)
    for name in ("f_visual", "f_audio", "f_attn", "f_av", "f_fusion"):
        assert getattr(output, name).shape == (B, V, T, dim), name
    assert output.cross_attention.shape == (B, V, T, T)
    torch.testing.assert_close(output.f_av, output.f_visual + output.f_attn)
    assert (output.presence_logits is not None) == (backbone == "multitsf")
    if backbone == "multitsf":
        assert output.presence_logits.shape == (B, V, T)
    _every_output_loss(output).backward()
    missing = [n for n, p in teacher.named_parameters() if p.grad is None]
    assert not missing
    assert (
        teacher.audio_encoder.ast.embeddings.patch_embeddings.projection.weight.grad.abs().sum() > 0
    )
    with torch.no_grad():  # attention maps are drawn in eval mode (no dropout on the weights)
        weights = teacher.eval()(frames, audio).cross_attention
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, V, T))


@pytest.mark.parametrize("backbone", BACKBONES)
def test_student_learns_from_a_frozen_teacher_without_audio(test_config, batch, backbone):
    frames, audio = batch
    teacher = _build(test_config, backbone, with_audio=True).eval().requires_grad_(False)
    student = _build(test_config, backbone, with_audio=False, seed=1)
    assert student.audio_encoder is None and student.adapter is not None
    with torch.no_grad():
        target = teacher(frames, audio)
    output = student(frames)  # the student takes no audio
    labels = torch.rand(B, T, C) < 0.2
    masks = (torch.rand(B, V, T) < 0.7).float()
    loss = (
        two_way_loss(output.frame_logits.reshape(-1, C), labels.reshape(-1, C).float())
        + two_way_loss(output.sequence_logits, labels.any(dim=1).float())
        + squared_feature_distance(output.f_attn, target.f_attn) + squared_feature_distance(output.f_av, target.f_av)
        + logit_distillation_loss(output.frame_logits, target.frame_logits, 2.0)
        + view_consistency_loss(output.view_frame_logits.softmax(-1), masks)
    )
    (loss + _every_output_loss(output)).backward()
    assert not [n for n, p in student.named_parameters() if p.grad is None]
    assert all(p.grad.abs().sum() > 0 for p in student.adapter.parameters())
    assert all(p.grad is None for p in teacher.parameters())


def test_distillation_gradients_do_not_reach_a_teacher_run_with_grad(test_config, batch):
    frames, audio = batch
    teacher = _build(test_config, "multiasl", with_audio=True)
    student = _build(test_config, "multiasl", with_audio=False)
    target, output = teacher(frames, audio), student(frames)
    loss = squared_feature_distance(output.f_attn, target.f_attn) + squared_feature_distance(output.f_av, target.f_av)
    (loss + logit_distillation_loss(output.frame_logits, target.frame_logits, 4.0)).backward()
    assert all(p.grad is None for p in teacher.parameters())


@pytest.mark.parametrize("backbone", BACKBONES)
def test_same_seed_gives_identical_outputs(test_config, batch, backbone):
    frames, audio = batch
    outputs = []
    for _ in range(2):
        model = _build(test_config, backbone, with_audio=True, seed=7)
        torch.manual_seed(3)  # dropout draws (train mode)
        outputs.append(model(frames, audio))
    for name, value in vars(outputs[0]).items():
        if value is not None:
            assert torch.equal(value, getattr(outputs[1], name)), name
    other = _build(test_config, backbone, with_audio=True, seed=8)
    torch.manual_seed(3)
    assert not torch.equal(other(frames, audio).frame_logits, outputs[0].frame_logits)


def test_frame_logits_are_the_max_over_views_for_multitsf_and_multiasl(test_config, batch):
    frames, _ = batch
    for backbone in ("multitsf", "multiasl"):
        output = _build(test_config, backbone, with_audio=False)(frames)
        for t in range(T):
            for v in range(V):
                assert (output.frame_logits[:, t] >= output.view_frame_logits[:, v, t]).all()
        assert torch.equal(output.frame_logits, output.view_frame_logits.amax(dim=1))


def test_multiasl_sequence_logits_average_the_selected_frames(test_config, batch):
    """Selection score (softmax over classes of the class activation + the two actionness
    probabilities) / 3; the top max(1, T // 8) frames per class; their mean class activation."""
    frames, _ = batch
    model = _build(test_config, "multiasl", with_audio=False).eval()
    output = model(frames)
    assert output.actionness.shape == (B, 2, T)
    assert ((output.actionness > 0) & (output.actionness < 1)).all()
    k = max(1, T // 8)
    assert output.selected_frames.shape == (B, k, C)
    for b in range(B):
        for c in range(C):
            scores = []
            for t in range(T):
                logits = output.frame_logits[b, t].tolist()
                softmax = math.exp(logits[c]) / sum(math.exp(x) for x in logits)
                scores.append((softmax + output.actionness[b, :, t].sum().item()) / 3)
            top = sorted(range(T), key=lambda t: scores[t])[-k:]
            assert sorted(output.selected_frames[b, :, c].tolist()) == sorted(top)
            expected = sum(output.frame_logits[b, t, c].item() for t in top) / k
            assert output.sequence_logits[b, c].item() == pytest.approx(expected, abs=1e-5)


def test_sequence_logits_are_the_temporal_mean_of_the_frame_logits(test_config, batch):
    frames, _ = batch
    for backbone in ("multitsf", "multitrans"):
        output = _build(test_config, backbone, with_audio=False).eval()(frames)
        torch.testing.assert_close(output.sequence_logits, output.frame_logits.mean(dim=1))
    output = _build(test_config, "multitrans", with_audio=False).eval()(frames)
    torch.testing.assert_close(output.frame_logits, output.view_frame_logits.mean(dim=1))


@pytest.mark.parametrize("backbone", BACKBONES)
def test_samples_do_not_mix_across_the_batch(test_config, batch, backbone):
    """View fusion attends over views, never over the batch axis (a bug of the reference)."""
    frames, audio = batch
    model = _build(test_config, backbone, with_audio=True).eval()
    together = model(frames, audio)
    alone = model(frames[:1], audio[:1])
    torch.testing.assert_close(together.sequence_logits[:1], alone.sequence_logits)
    torch.testing.assert_close(together.frame_logits[:1], alone.frame_logits)


def test_frames_of_another_size_and_float_frames_are_accepted(test_config, batch):
    frames, _ = batch
    model = _build(test_config, "multitrans", with_audio=False).eval()
    as_float = model(frames.float() / 255.0)
    torch.testing.assert_close(as_float.frame_logits, model(frames).frame_logits)
    larger = torch.nn.functional.interpolate(
        frames.flatten(0, 2).float(), size=(96, 96), mode="nearest"
    ).reshape(B, V, T, 3, 96, 96)
    assert model(larger / 255.0).frame_logits.shape == (B, T, C)


def test_teacher_without_audio_and_bad_shapes_are_refused(test_config, batch):
    frames, audio = batch
    teacher = _build(test_config, "multitsf", with_audio=True)
    with pytest.raises(ValueError, match="needs audio"):
        teacher(frames)
    with pytest.raises(ValueError, match="audio must be"):
        teacher(frames, audio[:, :, :4])
    with pytest.raises(ValueError, match="frames must be"):
        teacher(frames[0], audio)


def test_signature_tells_teacher_student_and_configs_apart(test_config):
    teacher = model_signature(test_config, with_audio=True)
    assert teacher == model_signature(dict(test_config), with_audio=True)
    assert teacher != model_signature(test_config, with_audio=False)
    assert teacher != model_signature({**test_config, "dim": 48}, with_audio=True)
    assert (
        teacher["model"]["visual_encoder"]["patch_size"]
        == test_config["visual_encoder"]["patch_size"]
    )


@pytest.mark.parametrize("backbone", BACKBONES)
def test_per_view_logits_before_fusion_read_each_view_alone(test_config, batch, backbone):
    """Before view fusion, a view's frame logits are the frame head on its own temporal features:
    changing another view's frames leaves them as they are (after fusion they change)."""
    frames, _ = batch
    model = _build(test_config, backbone, with_audio=False).eval()
    output = model(frames)
    assert output.view_frame_logits_before_fusion.shape == (B, V, T, C)
    torch.testing.assert_close(output.view_frame_logits_before_fusion,
                               model.frame_head(output.f_fusion))
    other = frames.clone()
    other[:, 0] = 255 - other[:, 0]
    changed = model(other)
    torch.testing.assert_close(changed.view_frame_logits_before_fusion[:, 1:],
                               output.view_frame_logits_before_fusion[:, 1:])
    fused_moved = not torch.allclose(changed.view_frame_logits[:, 1:], output.view_frame_logits[:, 1:])
    assert fused_moved == (backbone != "multiasl")  # MultiASL has no view fusion
    if backbone == "multiasl":
        assert torch.equal(output.view_frame_logits_before_fusion, output.view_frame_logits)
