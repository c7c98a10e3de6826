import math

import pytest
import torch

from vicokd.losses import two_way_loss


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x)) if x < 30 else x


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def _one_way(x: list[list[float]], y: list[list[int]], tp: float, tn: float) -> float:
    """Average over rows with a positive of softplus(tn·lse_neg(x/tn) + tp·lse_pos(-x/tp))."""
    terms = []
    for row, labels in zip(x, y):
        pos = [-v / tp for v, t in zip(row, labels) if t]
        neg = [v / tn for v, t in zip(row, labels) if not t]
        if not pos:
            continue
        if not neg:  # softplus(-inf) = 0
            terms.append(0.0)
            continue
        terms.append(_softplus(tn * _logsumexp(neg) + tp * _logsumexp(pos)))
    return sum(terms) / len(terms) if terms else 0.0


def _reference(logits: torch.Tensor, targets: torch.Tensor, tp: float, tn: float) -> float:
    x, y = logits.tolist(), targets.int().tolist()
    columns_x = [list(c) for c in zip(*x)]
    columns_y = [list(c) for c in zip(*y)]
    return _one_way(x, y, tp, tn) + _one_way(columns_x, columns_y, tp, tn)


@pytest.mark.parametrize("tp, tn", [(4.0, 1.0), (1.0, 1.0), (2.0, 0.5)])
def test_two_way_matches_explicit_row_and_column_loops(tp, tn):
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(7, 5, generator=generator) * 3
    targets = (torch.rand(7, 5, generator=generator) < 0.3).float()
    targets[0] = 0  # a row without positives is skipped
    targets[:, 1] = 1  # a column without negatives contributes 0
    expected = _reference(logits, targets, tp, tn)
    assert two_way_loss(logits, targets, tp=tp, tn=tn).item() == pytest.approx(expected, rel=1e-5)


def test_two_way_default_temperatures_are_tp4_tn1():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    targets = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    assert two_way_loss(logits, targets).item() == pytest.approx(
        _reference(logits, targets, 4.0, 1.0), rel=1e-6
    )


def test_two_way_gradients_stay_finite_without_negatives_or_positives():
    logits = torch.randn(4, 3, requires_grad=True)
    targets = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    two_way_loss(logits, targets).backward()
    assert torch.isfinite(logits.grad).all()
    empty = torch.randn(3, 2, requires_grad=True)
    loss = two_way_loss(empty, torch.zeros(3, 2))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(empty.grad, torch.zeros(3, 2))


def test_two_way_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same"):
        two_way_loss(torch.zeros(3, 4), torch.zeros(3, 5))
