import itertools
import math

import pytest
import torch

from vicokd.losses import view_consistency, view_consistency_diagnostics, view_consistency_loss


def _kl(p: list[float], q: list[float]) -> float:
    return sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0)


def _reference(probs, masks, confidence_weighting=True, use_mask=True, divergence="js") -> float:
    batch, views, frames, _ = probs.shape
    pairs = list(itertools.combinations(range(views), 2))
    per_sample = []
    for b in range(batch):
        total = 0.0
        for i, j in pairs:
            for t in range(frames):
                p, q = probs[b, i, t].tolist(), probs[b, j, t].tolist()
                m_i, m_j = (masks[b, i, t].item(), masks[b, j, t].item()) if use_mask else (1, 1)
                w = max(p) * max(q) if confidence_weighting else 1.0
                if divergence == "js":
                    mid = [(a + c) / 2 for a, c in zip(p, q)]
                    d = 0.5 * _kl(p, mid) + 0.5 * _kl(q, mid)
                else:
                    d = _kl(p, q)
                total += w * m_i * m_j * d
        per_sample.append(total / (len(pairs) * frames))
    return sum(per_sample) / batch


def _inputs(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    probs = torch.softmax(torch.randn(2, 4, 3, 5, generator=generator) * 2, dim=-1)
    masks = (torch.rand(2, 4, 3, generator=generator) < 0.6).float()
    return probs, masks


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"confidence_weighting": False},
        {"use_mask": False},
        {"divergence": "kl"},
        {"confidence_weighting": False, "use_mask": False, "divergence": "kl"},
    ],
)
def test_view_consistency_matches_loop_over_view_pairs_and_frames(options):
    probs, masks = _inputs()
    expected = _reference(probs, masks, **options)
    assert view_consistency_loss(probs, masks, **options).item() == pytest.approx(
        expected, rel=1e-5
    )


def test_view_consistency_is_zero_when_masks_are_off_or_views_agree():
    probs, masks = _inputs(1)
    assert view_consistency_loss(probs, torch.zeros_like(masks)).item() == 0.0
    agreeing = probs[:, :1].expand_as(probs).contiguous()
    assert view_consistency_loss(agreeing, torch.ones_like(masks)).item() == pytest.approx(
        0.0, abs=1e-7
    )
    assert view_consistency_loss(probs, torch.ones_like(masks)).item() > 0


def test_view_consistency_without_mask_equals_all_ones_mask():
    probs, masks = _inputs(2)
    assert view_consistency_loss(probs, masks, use_mask=False).item() == pytest.approx(
        view_consistency_loss(probs, torch.ones_like(masks)).item(), rel=1e-6
    )


def test_view_consistency_rejects_bad_arguments():
    probs, masks = _inputs()
    with pytest.raises(ValueError, match="divergence"):
        view_consistency_loss(probs, masks, divergence="l2")
    with pytest.raises(ValueError, match="masks"):
        view_consistency_loss(probs, masks[:, :2])


def test_diagnostics_by_hand():
    # one sample, 3 views, 2 frames, 2 classes; masks: frame 0 views 0,1 visible; frame 1 all visible
    probs = torch.tensor([[[[0.9, 0.1], [0.6, 0.4]],
                           [[0.7, 0.3], [0.5, 0.5]],
                           [[0.2, 0.8], [0.8, 0.2]]]])
    masks = torch.tensor([[[1.0, 1.0], [1.0, 1.0], [0.0, 1.0]]])
    diagnostics = view_consistency_diagnostics(probs, masks)
    # pairs (0,1), (0,2), (1,2) × 2 frames = 6 entries; active: (0,1)@0, (0,1)@1, (0,2)@1, (1,2)@1
    assert diagnostics["active_pair_share"] == pytest.approx(4 / 6)
    weights = [0.9 * 0.7, 0.6 * 0.5, 0.6 * 0.8, 0.5 * 0.8]
    assert diagnostics["confidence_weight"] == pytest.approx(sum(weights) / 4)
    assert diagnostics["loss"] == pytest.approx(view_consistency_loss(probs, masks).item())
    none_visible = view_consistency_diagnostics(probs, torch.zeros(1, 3, 2))
    assert none_visible["active_pair_share"] == 0 and math.isnan(none_visible["confidence_weight"])


# The variants of Eq. 10 (vicokd.losses.view_consistency), each against a loop over samples, view
# pairs, frames and classes written from their definitions.

def _kl_bernoulli(p: float, q: float) -> float:
    return _kl([p, 1 - p], [q, 1 - q])


def _js(p: list[float], q: list[float]) -> float:
    mid = [(a + c) / 2 for a, c in zip(p, q)]
    return 0.5 * _kl(p, mid) + 0.5 * _kl(q, mid)


def _variant_reference(probs, masks, distribution, divergence, normalisation, target,
                       confidence_weighting=True) -> float:
    batch, views, frames, _ = probs.shape
    total, active, per_sample = 0.0, 0, []
    for b in range(batch):
        sample = 0.0
        for i, j in itertools.combinations(range(views), 2):
            for t in range(frames):
                p, q = probs[b, i, t].tolist(), probs[b, j, t].tolist()
                if target == "confident_view" and max(q) > max(p):
                    p, q = q, p  # the more confident view first: D(target, other)
                both = masks[b, i, t].item() * masks[b, j, t].item()
                w = max(p) * max(q) if confidence_weighting else 1.0
                if distribution == "bernoulli":
                    per_class = [_kl_bernoulli(a, c) if divergence == "kl"
                                 else _js([a, 1 - a], [c, 1 - c]) for a, c in zip(p, q)]
                    d = sum(per_class)
                else:
                    d = _kl(p, q) if divergence == "kl" else _js(p, q)
                sample += w * both * d
                active += both
        total += sample
        per_sample.append(sample / (len(list(itertools.combinations(range(views), 2))) * frames))
    if normalisation == "active_entries":
        return total / max(active, 1)
    return sum(per_sample) / batch


def _sigmoid_inputs(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    probs = torch.sigmoid(torch.randn(2, 4, 3, 5, generator=generator) * 2)
    masks = (torch.rand(2, 4, 3, generator=generator) < 0.6).float()
    return probs, masks


@pytest.mark.parametrize("distribution", ["categorical", "bernoulli"])
@pytest.mark.parametrize("divergence", ["js", "kl"])
@pytest.mark.parametrize("normalisation", ["pairs_frames", "active_entries"])
@pytest.mark.parametrize("target", ["symmetric", "confident_view"])
def test_view_consistency_variants_match_a_loop(distribution, divergence, normalisation, target):
    probs, masks = _inputs(3) if distribution == "categorical" else _sigmoid_inputs(3)
    expected = _variant_reference(probs, masks, distribution, divergence, normalisation, target)
    value = view_consistency(probs, masks, distribution=distribution, divergence=divergence,
                             normalisation=normalisation, target=target)
    assert value.item() == pytest.approx(expected, rel=1e-5)


def test_defaults_are_eq_10_and_active_normalisation_rescales_it_by_the_active_share():
    probs, masks = _inputs(4)
    literal = view_consistency_loss(probs, masks)
    assert view_consistency(probs, masks).item() == literal.item()
    # with the same number of active entries in every sample, the two normalisations differ by
    # exactly N_pairs·T / active entries per sample
    masks = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    masks = masks.expand(2, 4, 3)
    active_per_sample = sum(float((masks[0, i] * masks[0, j]).sum())
                            for i, j in itertools.combinations(range(4), 2))
    assert active_per_sample == 9
    per_entry = view_consistency(probs, masks, normalisation="active_entries").item()
    assert per_entry == pytest.approx(view_consistency_loss(probs, masks).item() * 6 * 3 / 9,
                                      rel=1e-6)
    # no active entry: 0, not a division by zero
    assert view_consistency(probs, torch.zeros_like(masks), normalisation="active_entries").item() == 0


def test_confident_view_target_receives_no_gradient():
    # two views, one frame: view 0 is the more confident, so only view 1's probabilities get gradient
    probs = torch.tensor([[[[0.8, 0.1, 0.1]], [[0.4, 0.3, 0.3]]]], requires_grad=True)
    masks = torch.ones(1, 2, 1)
    view_consistency(probs, masks, target="confident_view").backward()
    assert probs.grad[0, 0].abs().sum() == 0
    assert probs.grad[0, 1].abs().sum() > 0
    probs.grad = None
    view_consistency(probs, masks).backward()  # symmetric (Eq. 10): both views move
    assert probs.grad[0, 0].abs().sum() > 0 and probs.grad[0, 1].abs().sum() > 0


def test_bernoulli_js_by_hand():
    # one pair, one frame, two classes: JS of Bernoulli(0.9) vs (0.5) plus Bernoulli(0.2) vs (0.2)
    probs = torch.tensor([[[[0.9, 0.2]], [[0.5, 0.2]]]])
    masks = torch.ones(1, 2, 1)
    mid = 0.7
    js = 0.5 * (0.9 * math.log(0.9 / mid) + 0.1 * math.log(0.1 / 0.3)) + 0.5 * (
        0.5 * math.log(0.5 / mid) + 0.5 * math.log(0.5 / 0.3))
    value = view_consistency(probs, masks, distribution="bernoulli", confidence_weighting=False)
    assert value.item() == pytest.approx(js, rel=1e-6)


@pytest.mark.parametrize("key, value", [("distribution", "gaussian"), ("normalisation", "sum"),
                                        ("target", "teacher")])
def test_view_consistency_variants_reject_unknown_switches(key, value):
    probs, masks = _inputs()
    with pytest.raises(ValueError, match=key):
        view_consistency(probs, masks, **{key: value})
