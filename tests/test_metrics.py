import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from vicokd.metrics import mean_average_precision


def _sklearn_map(scores: np.ndarray, targets: np.ndarray) -> float:
    present = [c for c in range(targets.shape[1]) if targets[:, c].any()]
    return 100 * np.mean([average_precision_score(targets[:, c], scores[:, c]) for c in present])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map_matches_scikit_learn_including_ties(seed):
    rng = np.random.default_rng(seed)
    targets = (rng.random((40, 6)) < 0.3).astype(int)
    targets[:, 5] = 0  # a class without positives is left out
    scores = np.round(rng.random((40, 6)), 1)  # many ties
    assert mean_average_precision(scores, targets) == pytest.approx(
        _sklearn_map(scores, targets), rel=1e-9
    )


def test_map_of_a_perfect_ranking_is_100_and_of_a_reversed_one_is_below():
    targets = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    assert mean_average_precision(targets.astype(float), targets) == pytest.approx(100.0)
    assert mean_average_precision(1.0 - targets, targets) == pytest.approx(
        50.0
    )  # positives tie last: P = 2/4


def test_map_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        mean_average_precision(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="no class"):
        mean_average_precision(np.zeros((3, 2)), np.zeros((3, 2)))
