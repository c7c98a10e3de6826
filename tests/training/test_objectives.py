import math
from types import SimpleNamespace

import pytest
import torch
from training_helpers import FEATURE, LOGIT, VIEW_CONSISTENCY, make_recipe, make_supervision

from vicokd.losses import two_way_loss, view_consistency
from vicokd.training.objectives import Objective, loss_terms, probe_batch, weighted_total
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


def test_view_consistency_term_reads_the_logits_and_probabilities_its_settings_name():
    out = output()
    out.view_frame_logits_before_fusion = torch.randn(B, V, T, C, generator=torch.Generator().manual_seed(1))
    masks = (torch.rand(B, V, T, generator=torch.Generator().manual_seed(2)) < 0.5).float()
    item = {**batch(False), "masks": masks}
    block = {**VIEW_CONSISTENCY, "logits": "before_fusion", "probabilities": "sigmoid",
             "normalisation": "active_entries", "target": "confident_view"}
    terms = loss_terms(make_supervision(frame=0.0), make_recipe(view_consistency=block), out, item)
    expected = view_consistency(out.view_frame_logits_before_fusion.sigmoid(), masks,
                                distribution="bernoulli", normalisation="active_entries",
                                target="confident_view")
    assert terms["view_consistency"].item() == pytest.approx(expected.item(), rel=1e-6)
    fused = view_consistency(out.view_frame_logits.sigmoid(), masks, distribution="bernoulli",
                             normalisation="active_entries", target="confident_view")
    assert terms["view_consistency"].item() != pytest.approx(fused.item(), rel=1e-3)
    del out.view_frame_logits_before_fusion
    with pytest.raises(ValueError, match="view_frame_logits_before_fusion"):
        loss_terms(make_supervision(frame=0.0), make_recipe(view_consistency=block), out, item)


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


def _by_hand(model, item, vc_weight):
    """Gradient norms of the weighted terms, from the public losses and torch.autograd.grad."""
    out = model(item["frames"])
    frame = two_way_loss(out.frame_logits.flatten(0, 1), item["frame_labels"].flatten(0, 1).float())
    sequence = two_way_loss(out.sequence_logits, item["sequence_labels"].float())
    vc = vc_weight * view_consistency(out.view_frame_logits.sigmoid(), item["masks"].float(),
                                      distribution="bernoulli", normalisation="active_entries",
                                      target="confident_view")
    params = list(model.parameters())  # every TinyModel parameter is reached by the supervision
    head = [model.head.weight, model.head.bias]

    def norms(value):
        grads = torch.autograd.grad(value, params, retain_graph=True)
        head_grads = torch.autograd.grad(value, head, retain_graph=True)
        return (torch.cat([g.flatten() for g in grads]).norm().item(),
                torch.cat([g.flatten() for g in head_grads]).norm().item())

    return {name: norms(value) for name, value in
            {"supervision": frame + sequence, "frame": frame, "sequence": sequence,
             "view_consistency": vc}.items()}


def test_gradient_norms_match_autograd_by_hand(clips, tiny_model):
    torch.manual_seed(0)
    model = tiny_model().eval()  # no dropout: the by-hand pass sees the same function
    vc = {**VIEW_CONSISTENCY, "weight": 3.0, "probabilities": "sigmoid",
          "normalisation": "active_entries", "target": "confident_view"}
    objective = Objective(make_supervision(), make_recipe(view_consistency=vc))
    item = probe_batch(clips, 4)
    norms = objective.gradient_norms(model, item)
    expected = _by_hand(model, item, 3.0)
    for name, (shared, head) in expected.items():
        assert norms[f"grad.{name}"] == pytest.approx(shared, rel=1e-5), name
        assert norms[f"grad.{name}.head"] == pytest.approx(head, rel=1e-5), name
    assert norms["grad.view_consistency.share"] == pytest.approx(
        expected["view_consistency"][0] / expected["supervision"][0], rel=1e-5)
    assert "grad.frame.share" not in norms  # shares are of the terms outside the supervision
    assert all(p.grad is None for p in model.parameters())


def test_gradient_norms_leave_the_random_state_alone(clips, tiny_model):
    model = tiny_model().train()  # dropout draws random numbers
    objective = Objective(make_supervision(), make_recipe(view_consistency=VIEW_CONSISTENCY))
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    objective.gradient_norms(model, probe_batch(clips, 2))
    assert torch.equal(torch.rand(3), expected)


def test_probe_batch_is_the_first_items_in_order(clips):
    batch = probe_batch(clips, 3)
    assert batch["frames"].shape[0] == 3
    assert batch["sequence_id"] == [clips[i]["sequence_id"] for i in range(3)]
    assert probe_batch(clips, 100)["frames"].shape[0] == len(clips)


def test_presence_over_time_is_a_softmax_cross_entropy_along_frames():
    logits = torch.tensor([[[0.0, 1.0, 2.0]]])  # (B=1, V=1, T=3)
    confidence = torch.tensor([[[0.2, 0.0, 0.9]]])
    log_softmax = [v - math.log(sum(math.exp(v) for v in (0.0, 1.0, 2.0))) for v in (0.0, 1.0, 2.0)]
    expected = -(0.2 * log_softmax[0] + 0.9 * log_softmax[2])
    out = SimpleNamespace(presence_logits=logits)
    supervision = make_supervision(frame=0.0, sequence=0.0, presence=1.0,
                                   presence_loss="softmax_over_time")
    terms = loss_terms(supervision, make_recipe(), out, {"person_confidence": confidence})
    assert terms["presence"].item() == pytest.approx(expected, rel=1e-6)
