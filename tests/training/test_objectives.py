import math
from types import SimpleNamespace

import pytest
import torch
from training_helpers import FEATURE, LOGIT, VIEW_CONSISTENCY, make_recipe, make_supervision

from vicokd.training.objectives import Objective, loss_terms, weighted_total
from vicokd.training.recipes import term_weights

B, V, T, C, D = 2, 3, 4, 16, 5


def output(shift: float = 0.0, presence=None):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(B, V, T, C, generator=g)
    f = torch.randn(B, V, T, D, generator=g) + shift
    return SimpleNamespace(
        view_frame_logits=logits, frame_logits=logits.amax(1), sequence_logits=logits.amax(1).mean(1),
        f_visual=f, f_audio=f, f_attn=f, f_av=f, f_fusion=f, presence_logits=presence,
    )


def batch(with_frame_labels=True):
    labels = torch.zeros(B, T, C)
    labels[:, :, 3] = 1
    item = {"sequence_labels": labels.amax(1), "masks": torch.ones(B, V, T),
            "person_confidence": torch.rand(B, V, T)}
    if with_frame_labels:
        item["frame_labels"] = labels
    return item


def test_feature_term_is_squared_distance_summed_over_features():
    terms = loss_terms(make_supervision(frame=0.0), make_recipe(feature=FEATURE), output(shift=0.5),
                       batch(False), teacher_output=output())
    # each frame differs by 0.5 in each of D dims: ||.||^2 = D/4, for 2 features
    assert terms["feature"].item() == pytest.approx(2 * D * 0.25)


def test_distillation_from_an_identical_teacher_is_zero():
    terms = loss_terms(make_supervision(), make_recipe(feature=FEATURE, logit=LOGIT), output(),
                       batch(), teacher_output=output())
    assert terms["feature"].item() == 0.0
    assert terms["logit"].item() == pytest.approx(0.0, abs=1e-6)


def test_view_consistency_is_zero_when_all_views_agree():
    out = output()
    out.view_frame_logits = out.view_frame_logits[:, :1].expand(B, V, T, C)
    supervision, recipe = make_supervision(frame=0.0), make_recipe(view_consistency=VIEW_CONSISTENCY)
    terms = loss_terms(supervision, recipe, out, batch(False))
    assert terms["view_consistency"].item() == pytest.approx(0, abs=1e-6)
    assert loss_terms(supervision, recipe, output(), batch(False))["view_consistency"].item() > 0


def test_presence_term_at_zero_logits_is_log_two():
    supervision = make_supervision(frame=0.0, presence=0.5)
    terms = loss_terms(supervision, make_recipe(), output(presence=torch.zeros(B, V, T)), batch(False))
    assert terms["presence"].item() == pytest.approx(math.log(2))
    total = weighted_total(term_weights(supervision, make_recipe()), terms)
    assert total.item() == pytest.approx(terms["sequence"].item() + 0.5 * math.log(2))


def test_presence_term_skipped_for_backbones_without_presence_head():
    supervision = make_supervision(frame=0.0, presence=0.5)
    assert set(loss_terms(supervision, make_recipe(), output(), batch(False))) == {"sequence"}


def test_sequence_only_recipe_never_touches_frame_labels():
    terms = loss_terms(make_supervision(frame=0.0), make_recipe(), output(), batch(with_frame_labels=False))
    assert set(terms) == {"sequence"}
    with pytest.raises(KeyError, match="frame labels"):
        loss_terms(make_supervision(), make_recipe(), output(), batch(with_frame_labels=False))


def test_objective_runs_teacher_without_gradients(clips, tiny_model):
    teacher, student = tiny_model(with_audio=True).eval(), tiny_model()
    teacher.requires_grad_(False)
    recipe = make_recipe(logit=LOGIT)
    objective = Objective(make_supervision(), recipe, teacher=teacher)
    item = clips[0]
    step = objective(student, {k: v[None] for k, v in item.items() if torch.is_tensor(v)})
    weighted_total(objective.weights, step.terms).backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(p.grad is not None for p in student.parameters())
    with pytest.raises(ValueError, match="teacher"):
        Objective(make_supervision(), recipe)
