import numpy as np
import pytest

from vicokd.data.sampling import sample_indices


def test_uniform_takes_bin_centres():
    assert sample_indices(10, 5, "uniform").tolist() == [1, 3, 5, 7, 9]
    assert sample_indices(100, 4, "uniform").tolist() == [12, 37, 62, 87]


def test_random_perturb_draws_one_frame_per_bin():
    rng = np.random.default_rng(0)
    draws = np.stack([sample_indices(20, 4, "random_perturb", rng) for _ in range(300)])
    for i in range(4):
        assert set(draws[:, i].tolist()) == set(
            range(5 * i, 5 * i + 5)
        )  # every frame of bin i, nothing else


def test_fewer_frames_than_samples_repeats_frames_in_order():
    rng = np.random.default_rng(1)
    for mode in ("uniform", "random_perturb"):
        indices = sample_indices(3, 8, mode, rng)
        assert indices.shape == (8,)
        assert (np.diff(indices) >= 0).all() and set(indices.tolist()) == {0, 1, 2}
    assert sample_indices(3, 8, "uniform").tolist() == [0, 0, 0, 1, 1, 2, 2, 2]
    assert sample_indices(3, 8, "random_perturb", rng).tolist() == [0, 0, 0, 1, 1, 1, 2, 2]


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="n_frames >= 1"):
        sample_indices(0, 4, "uniform")
    with pytest.raises(ValueError, match="random generator"):
        sample_indices(5, 4, "random_perturb")
    with pytest.raises(ValueError, match="unknown sampling mode"):
        sample_indices(5, 4, "dense")
