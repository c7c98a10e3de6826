import pytest
import torch

from vicokd.models.action_selection import (
    action_selection_loss,
    actionness_targets,
    generalized_cross_entropy,
    select_frames,
    selection_size,
)


def test_selection_size_is_an_eighth_of_the_frames_and_at_least_one():
    assert [selection_size(t) for t in (1, 7, 8, 16, 70)] == [1, 1, 1, 2, 8]


def test_frames_are_selected_by_class_softmax_plus_actionness():
    # T = 8 -> k = 1. Class activations of 2 classes; actionness of 2 streams.
    cas = torch.zeros(1, 8, 2)
    cas[0, 2, 0] = 5.0  # frame 2 strongly class 0
    actionness = torch.full((1, 2, 8), 0.1)
    actionness[0, :, 6] = 0.9  # frame 6 looks most like an action
    # class 0: frame 2 scores (softmax 0.9933 + 0.2) / 3 = 0.398; frame 6: (0.5 + 1.8) / 3 = 0.767
    # class 1: frame 6 scores (0.5 + 1.8) / 3; every other frame at most (0.5 + 0.2) / 3
    selected = select_frames(cas, actionness)
    assert selected.tolist() == [[[6, 6]]]
    actionness[0, :, 6] = 0.1  # now class 0 picks frame 2, class 1 a frame other than 2
    selected = select_frames(cas, actionness)
    assert selected[0, 0, 0].item() == 2 and selected[0, 0, 1].item() != 2


def test_actionness_targets_mark_the_frames_selected_for_labelled_classes():
    selected = torch.tensor([[[0, 3, 5], [1, 3, 6]]])  # (B=1, k=2, C=3)
    labels = torch.tensor([[1.0, 0.0, 1.0]])  # classes 0 and 2
    expected = torch.tensor([[1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0]])  # frames 0,1 (c0), 5,6 (c2)
    assert torch.equal(actionness_targets(selected, labels, frames=8), expected)
    assert actionness_targets(selected, torch.zeros(1, 3), frames=8).sum() == 0


def test_generalized_cross_entropy_by_hand():
    probs = torch.tensor([[0.8, 0.3, 0.1]])
    targets = torch.tensor([[1.0, 0.0, 0.0]])
    q = 0.5
    positive = (1 - 0.8**q) / q
    negative = ((1 - 0.7**q) / q + (1 - 0.9**q) / q) / 2
    assert generalized_cross_entropy(probs, targets, q).item() == pytest.approx(
        positive + negative, abs=1e-5
    )


def test_action_selection_loss_sums_the_streams_and_is_zero_without_actionness():
    actionness = torch.tensor([[[0.8, 0.3, 0.1, 0.5], [0.2, 0.6, 0.4, 0.9]]])  # (1, 2, 4)
    selected = torch.tensor([[[0, 2]]])  # k = 1, C = 2
    labels = torch.tensor([[1.0, 0.0]])  # frame 0 is the actionness positive
    targets = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    expected = generalized_cross_entropy(actionness[:, 0], targets) + generalized_cross_entropy(
        actionness[:, 1], targets
    )
    torch.testing.assert_close(action_selection_loss(actionness, selected, labels), expected)
    assert action_selection_loss(None, None, labels).item() == 0.0
