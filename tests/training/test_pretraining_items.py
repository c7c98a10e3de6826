"""The pretraining items: one per (sequence, view, k-th frame), read into memory once."""
import numpy as np
import pandas as pd
import pytest
import torch

from vicokd.training.pretraining import FrameItems, pretraining_rows


def _sequence(seed: int, views: int = 2, frames: int = 5):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (views, frames, 4, 6, 3), dtype=np.uint8)  # (V, n, H, W, 3)
    log_mels = rng.normal(size=(views, frames, 3, 2)).astype(np.float32)  # (V, n, L, M)
    labels = rng.integers(0, 2, (frames, 4)).astype(np.uint8)  # (n, C)
    masks = rng.integers(0, 2, (views, frames)).astype(np.uint8)  # (V, n)
    return images, log_mels, labels, masks


@pytest.fixture
def store():
    data = {"a": _sequence(0), "b": _sequence(1)}
    return {name: {sid: parts[i] for sid, parts in data.items()}
            for i, name in enumerate(("images", "log_mels", "labels", "masks"))}


def test_visual_items_follow_sequence_view_frame_order_with_masked_targets(store):
    items = FrameItems(pd.DataFrame({"sequence_id": ["a", "b"]}), store["images"], store["labels"],
                       store["masks"], frame_step=2)
    expected = [(sid, view, frame) for sid in ("a", "b") for view in range(2) for frame in (0, 2, 4)]
    assert len(items) == len(expected)
    for index, (sid, view, frame) in enumerate(expected):
        item = items[index]
        image = store["images"][sid][view, frame]  # (H, W, 3)
        assert item["inputs"].dtype == torch.uint8
        assert torch.equal(item["inputs"], torch.from_numpy(image.transpose(2, 0, 1).copy()))
        target = store["labels"][sid][frame] * store["masks"][sid][view, frame]
        assert item["targets"].tolist() == target.astype(np.float32).tolist()


def test_audio_items_are_float_chunks_with_the_frame_labels(store):
    items = FrameItems(pd.DataFrame({"sequence_id": ["b"]}), store["log_mels"], store["labels"],
                       None, frame_step=3)
    assert len(items) == 2 * 2  # 2 views x frames 0 and 3
    last = items[3]  # view 1, frame 3
    assert last["inputs"].dtype == torch.float32
    assert torch.equal(last["inputs"], torch.from_numpy(store["log_mels"]["b"][1, 3]))
    assert last["targets"].tolist() == store["labels"]["b"][3].astype(np.float32).tolist()


def test_no_sequences_is_an_error(store):
    with pytest.raises(ValueError, match="no sequences"):
        FrameItems(pd.DataFrame({"sequence_id": []}), store["images"], store["labels"], None, 1)


def _table(homes_and_splits):
    return pd.DataFrame([{"sequence_id": f"{home}/{i}", "home": home, "split": split}
                         for i, (home, split) in enumerate(homes_and_splits)])


def test_pretraining_homes_are_learnt_from_when_the_dataset_holds_them():
    table = _table([("Home1", "train"), ("Home3", "train"), ("Home3", "val"), ("Home3", "test")])
    rows, words = pretraining_rows(table, ["Home3"], ["Home1"])
    assert rows["sequence_id"].tolist() == ["Home3/1", "Home3/2", "Home3/3"]
    assert words == "pretrained here on Home3 (pretraining homes, never evaluated)"


def test_without_a_pretraining_home_the_evaluated_homes_training_split_is_used_never_test():
    table = _table([("Home1", "train"), ("Home1", "val"), ("Home1", "test"), ("Home2", "train"),
                    ("Home2", "test")])
    rows, words = pretraining_rows(table, ["Home3"], ["Home1", "Home2"])
    assert rows["sequence_id"].tolist() == ["Home1/0", "Home1/1", "Home2/3"]
    assert "test" not in set(rows["split"])
    assert words.startswith("pretrained here on the training split of Home1, Home2")
    assert "pretraining.homes: Home3" in words
