import numpy as np
import pytest
import torch

from project_parameters import random_model_config
from vicokd.data.sampling import sample_indices
from vicokd.models import build_model
from vicokd.reporting.attention import attention_maps


def _checkpoint(with_audio: bool, seed: int) -> dict:
    config = random_model_config("test")
    torch.manual_seed(seed)
    model = build_model(config, with_audio)
    return {"config": config, "with_audio": with_audio, "state_dict": model.state_dict(), "metadata": {}}


def test_attention_maps_shapes_rows_and_audio_use():
    rng = np.random.default_rng(0)
    views, n_frames, steps = 5, 13, 4
    frames = rng.integers(0, 255, (views, n_frames, 64, 64, 3), dtype=np.uint8)
    audio = rng.normal(size=(views, n_frames, 40, 128)).astype(np.float16)
    checkpoints = {"Teacher": _checkpoint(True, 0), "Student": _checkpoint(False, 1)}
    indices, clip, weights = attention_maps(checkpoints, frames, audio, steps)
    np.testing.assert_array_equal(indices, sample_indices(n_frames, steps, "uniform"))
    np.testing.assert_array_equal(clip, frames[:, indices])
    for label in checkpoints:
        assert weights[label].shape == (views, steps, steps)
        np.testing.assert_allclose(weights[label].sum(-1), 1.0, atol=1e-5)
    _, _, silent = attention_maps(checkpoints, frames, np.zeros_like(audio), steps)
    np.testing.assert_allclose(silent["Student"], weights["Student"], atol=1e-6)  # the student never hears
    assert not np.allclose(silent["Teacher"], weights["Teacher"], atol=1e-6)


def test_attention_maps_rejects_misaligned_audio():
    frames = np.zeros((5, 10, 64, 64, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="differ"):
        attention_maps({"Student": _checkpoint(False, 0)}, frames, np.zeros((5, 9, 40, 128)), 4)
