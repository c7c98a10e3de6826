import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from vicokd.models.scoring import max_pooled_frame_scores, sequence_scores

SEQUENCE_LOGITS = [[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]]
# (N=2, T=3, C=3); the max over time is [[2, 2, 1], [0, 4, -1]]
FRAME_LOGITS = [
    [[0.0, 2.0, -1.0], [2.0, 0.0, 1.0], [1.0, 1.0, 0.0]],
    [[-1.0, 4.0, -2.0], [0.0, 0.0, -1.0], [-3.0, 1.0, -5.0]],
]


def _softmax(row):
    total = sum(math.exp(x) for x in row)
    return [math.exp(x) / total for x in row]


def _sigmoid(row):
    return [1 / (1 + math.exp(-x)) for x in row]


@pytest.mark.parametrize("backbone", ["multitsf", "multitrans"])
def test_multitsf_and_multitrans_take_the_softmax_over_classes(backbone):
    expected = [_softmax(row) for row in SEQUENCE_LOGITS]
    scores = sequence_scores(torch.tensor(SEQUENCE_LOGITS), backbone)
    np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-6)
    assert scores.sum(dim=1).tolist() == pytest.approx([1.0, 1.0])
    frames = max_pooled_frame_scores(torch.tensor(FRAME_LOGITS), backbone)
    np.testing.assert_allclose(
        frames.numpy(), [_softmax([2.0, 2.0, 1.0]), _softmax([0.0, 4.0, -1.0])], rtol=1e-6
    )


def test_multiasl_takes_the_sigmoid():
    expected = [_sigmoid(row) for row in SEQUENCE_LOGITS]
    np.testing.assert_allclose(
        sequence_scores(torch.tensor(SEQUENCE_LOGITS), "multiasl").numpy(), expected, rtol=1e-6
    )
    np.testing.assert_allclose(
        max_pooled_frame_scores(torch.tensor(FRAME_LOGITS), "multiasl").numpy(),
        [_sigmoid([2.0, 2.0, 1.0]), _sigmoid([0.0, 4.0, -1.0])],
        rtol=1e-6,
    )


def test_a_model_output_is_read_like_its_logits():
    output = SimpleNamespace(
        sequence_logits=torch.tensor(SEQUENCE_LOGITS), frame_logits=torch.tensor(FRAME_LOGITS)
    )
    assert torch.equal(
        sequence_scores(output, "multitsf"), sequence_scores(output.sequence_logits, "multitsf")
    )
    assert torch.equal(
        max_pooled_frame_scores(output, "multitsf"),
        max_pooled_frame_scores(output.frame_logits, "multitsf"),
    )


def test_an_unknown_backbone_is_refused():
    with pytest.raises(ValueError, match="unknown backbone"):
        sequence_scores(torch.zeros(1, 3), "resnet")
