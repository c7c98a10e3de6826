import itertools
import math

import pytest
import torch

from vicokd.losses import view_consistency_diagnostics, view_consistency_loss


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
