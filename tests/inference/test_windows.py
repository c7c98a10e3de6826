"""The sliding window over a whole recording: which frames each window holds, and the averaging."""
import numpy as np
import pytest
import torch

from vicokd.data.sampling import sample_indices
from vicokd.inference.windows import (
    average_over_windows,
    score_recording,
    window_indices,
    window_step,
)


def test_a_recording_longer_than_t_is_covered_by_overlapping_windows_of_consecutive_frames():
    windows = window_indices(n_frames=10, num_frames=4, frame_step=1, hop=2)
    # starts every 2 frames; the last window ends on the last frame
    assert windows.tolist() == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 9]]
    assert window_indices(11, 4, 1, 3).tolist() == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9], [7, 8, 9, 10]]


def test_windows_keep_the_training_spacing_as_interleaved_sub_sequences():
    # 60 frames, T = 12, spacing 5 (a training clip of a 60-frame sequence): 5 windows, one per residue
    windows = window_indices(60, 12, frame_step=5, hop=6)
    assert windows.shape == (5, 12)
    assert windows[2].tolist() == list(range(2, 60, 5))
    assert sorted(windows.ravel().tolist()) == list(range(60))
    # a recording too short for that spacing uses the widest that still fills a window: 30 // 12 = 2
    assert window_step(30, 12, 5) == 2
    # each residue's 15 frames: a window from its start and one ending on its last frame
    assert window_indices(30, 12, 5, 6).tolist() == [
        list(range(0, 24, 2)), list(range(6, 30, 2)), list(range(1, 25, 2)), list(range(7, 31, 2))]


def test_a_recording_shorter_than_t_is_one_window_sampled_as_evaluation_samples_it():
    windows = window_indices(n_frames=3, num_frames=8, frame_step=5, hop=4)
    assert windows.tolist() == [sample_indices(3, 8, "uniform").tolist()]
    assert windows.tolist() == [[(2 * i + 1) * 3 // 16 for i in range(8)]] == [[0, 0, 0, 1, 1, 2, 2, 2]]


@pytest.mark.parametrize("n_frames", [1, 3, 4, 9, 17, 60, 61])
def test_every_frame_lies_in_a_window(n_frames):
    for frame_step in (1, 2, 5):
        windows = window_indices(n_frames, 4, frame_step, 2)
        assert set(windows.ravel().tolist()) == set(range(n_frames))
        assert (np.diff(windows, axis=1) >= 0).all()


def test_a_frame_scores_the_mean_over_every_window_position_that_holds_it():
    windows = np.array([[0, 1, 2], [1, 2, 3], [3, 3, 3]])
    # score = position in the window (0, 1, 2), one class
    scores = np.tile(np.arange(3.0), (3, 1))[..., None]
    averaged = average_over_windows(scores, windows, 4)[:, 0]
    # frame 0: (0); frame 1: (1, 0); frame 2: (2, 1); frame 3: (2, 0, 1, 2)
    assert averaged.tolist() == pytest.approx([0.0, 0.5, 1.5, 1.25])
    with pytest.raises(ValueError, match=r"frames \[4\] lie in no window"):
        average_over_windows(scores, windows, 5)


def _mean_pixel(clips: torch.Tensor) -> torch.Tensor:
    """A model that scores each frame by its mean pixel over views (one 'class' per colour channel)."""
    return clips.float().mean(dim=(1, 4, 5)) / 255  # (B, V, T, 3, H, W) -> (B, T, 3)


@pytest.mark.parametrize("n_frames", [3, 23])
def test_scoring_a_recording_hands_each_window_its_own_frames(n_frames):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2, n_frames, 4, 5, 3), dtype=np.uint8)  # (V, n, H, W, 3)
    scores = score_recording(_mean_pixel, frames, num_frames=4, frame_step=2, hop=2, batch_size=3)
    # whatever the windows, a frame's score is its own mean pixel (computed here directly)
    expected = frames.astype(np.float64).mean(axis=(0, 2, 3)) / 255
    assert scores.shape == (n_frames, 3)
    np.testing.assert_allclose(scores, expected, rtol=1e-5)


def test_audio_windows_follow_the_frames():
    frames = np.zeros((2, 9, 2, 2, 3), np.uint8)
    audio = np.arange(9, dtype=np.float32)[None, :, None, None].repeat(2, 0).repeat(3, 2)  # (V, n, L, 1)

    def hears(clips, chunks):
        assert chunks.shape[:3] == clips.shape[:3]
        return chunks.mean(dim=(1, 3, 4))[..., None]  # the frame index, one class

    scores = score_recording(hears, frames, 4, 1, 2, 2, audio=audio)
    assert scores[:, 0].tolist() == pytest.approx(list(range(9)))
