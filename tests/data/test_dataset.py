from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest
import torch

from project_parameters import multisensor_home
from vicokd.data.dataset import MultiViewClipDataset

N, H, W = 12, 4, 6
CLASSES = multisensor_home().classes


class Forbidden(Mapping):
    """A store that fails on any access: the V_S path must never read frame labels."""

    def __getitem__(self, key):
        raise AssertionError("frame labels were read")

    def __iter__(self):
        raise AssertionError("frame labels were read")

    def __len__(self):
        raise AssertionError("frame labels were read")


@pytest.fixture
def stores():
    sequences = pd.DataFrame(
        {"sequence_id": ["a", "b"], "n_frames": [N, 3], "labels": [["Drink", "Eat"], []]}
    )
    frames, audio, labels, masks, presence = {}, {}, {}, {}, {}
    for key, n in (("a", N), ("b", 3)):
        # pixel value = 10·view + frame, so a sample shows which view and frame it came from
        value = 10 * np.arange(5)[:, None] + np.arange(n)[None, :]
        frames[key] = np.broadcast_to(value[:, :, None, None, None], (5, n, H, W, 3)).astype(
            np.uint8
        )
        audio[key] = np.broadcast_to(value[:, :, None, None], (5, n, 2, 3)).astype(np.float16)
        labels[key] = (np.arange(n)[:, None] == np.arange(16)[None, :]).astype(np.uint8)
        masks[key] = (value % 2).astype(np.uint8)
        presence[key] = (value / 100).astype(np.float32)
    return sequences, frames, audio, labels, masks, presence


def test_sample_shapes_view_order_and_indices(stores):
    sequences, frames, audio, labels, masks, presence = stores
    data = MultiViewClipDataset(
        sequences, frames, audio, labels, masks, presence, num_frames=4, sampling="uniform",
        classes=CLASSES)
    sample = data[0]
    assert sample["frames"].shape == (5, 4, 3, H, W) and sample["frames"].dtype == torch.uint8
    assert sample["indices"].tolist() == [1, 4, 7, 10] and sample["indices"].dtype == torch.int64
    expected = 10 * np.arange(5)[:, None] + np.array([1, 4, 7, 10])[None, :]
    assert (
        sample["frames"][:, :, 0, 0, 0].numpy() == expected
    ).all()  # views in order, frames indexed
    assert sample["audio"].shape == (5, 4, 2, 3) and sample["audio"].dtype == torch.float32
    assert (sample["audio"][:, :, 0, 0].numpy() == expected).all()
    assert sample["masks"].tolist() == (expected % 2).tolist()
    assert torch.allclose(
        sample["person_confidence"], torch.tensor(expected / 100, dtype=torch.float32)
    )
    assert sample["frame_labels"].shape == (4, 16)
    assert sample["frame_labels"].argmax(dim=1).tolist() == [1, 4, 7, 10]
    assert sample["sequence_labels"].nonzero().flatten().tolist() == [
        CLASSES.index("Drink"),
        CLASSES.index("Eat"),
    ]
    assert sample["sequence_id"] == "a"
    short = data[1]
    assert short["indices"].tolist() == [0, 1, 1, 2] and not short["sequence_labels"].any()


def test_sequence_supervision_never_reads_frame_labels(stores):
    sequences, frames, *_ = stores
    data = MultiViewClipDataset(
        sequences, frames, frame_labels=None, num_frames=4, sampling="random_perturb",
        classes=CLASSES)
    assert "frame_labels" not in data[0] and "audio" not in data[0] and "masks" not in data[0]
    with pytest.raises(AssertionError, match="frame labels were read"):
        MultiViewClipDataset(sequences, frames, frame_labels=Forbidden(), num_frames=4,
                             classes=CLASSES)[0]


def test_random_perturb_is_reproducible_per_seed_epoch_and_item(stores):
    sequences, frames, *_ = stores
    data = MultiViewClipDataset(
        sequences, frames, num_frames=4, sampling="random_perturb", seed=3, cache=True,
        classes=CLASSES)
    epoch0 = [data[0]["indices"].tolist() for _ in range(3)]
    assert epoch0[0] == epoch0[1] == epoch0[2]
    draws = set()
    for epoch in range(20):
        data.set_epoch(epoch)
        draws.add(tuple(data[0]["indices"].tolist()))
    data.set_epoch(0)
    assert data[0]["indices"].tolist() == epoch0[0]
    assert len(draws) > 10  # epochs differ
    again = MultiViewClipDataset(sequences, frames, num_frames=4, sampling="random_perturb", seed=3,
                                 classes=CLASSES)
    assert again[0]["indices"].tolist() == epoch0[0]


def test_training_audio_is_augmented_reproducibly_per_epoch_and_item():
    from vicokd.data.augment import SpecAugment

    rng = np.random.default_rng(0)
    sequences = pd.DataFrame({"sequence_id": ["H/a"], "n_frames": [6], "labels": [["Eat"]]})
    frames = {"H/a": rng.integers(0, 255, (2, 6, 8, 8, 3), dtype=np.uint8)}
    audio = {"H/a": rng.standard_normal((2, 6, 40, 128)).astype(np.float16) + 5.0}  # no zero entry
    augment = SpecAugment(freq_mask_width=48, time_mask_width=8)
    clips = MultiViewClipDataset(sequences, frames, audio=audio, num_frames=4,
                                 sampling="random_perturb", augment_audio=augment, classes=CLASSES)
    first = clips[0]["audio"]
    assert (first == 0).any() and not (first == 0).all()  # masked entries, set to 0
    assert torch.equal(clips[0]["audio"], first)  # same epoch and item: the same masks
    clips.set_epoch(1)
    assert not torch.equal(clips[0]["audio"], first)
    plain = MultiViewClipDataset(sequences, frames, audio=audio, num_frames=4, sampling="uniform",
                                 classes=CLASSES)
    assert not (plain[0]["audio"] == 0).any()
