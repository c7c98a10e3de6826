"""A fake home for the masking pipeline: frames with a red 'person' box where the truth says visible."""
import numpy as np
import pandas as pd
import pytest

from vicokd.datasets import ArrayStoreDataset, StampedArrays

SIZE, N_FRAMES, NATIVE_FPS = 32, 6, 10.0  # native 10 fps: 2.5-FPS frame f = native frame 4f
PERSON_RGB = (220, 40, 40)


def _person_pixels(frames: np.ndarray) -> np.ndarray:
    """``(..., H, W, 3)`` → ``(...)`` bool: the frame shows the red person box."""
    return (np.asarray(frames) == PERSON_RGB).all(axis=-1).any(axis=(-1, -2))


@pytest.fixture
def person_pixels():
    """The function telling, per frame, whether the red person box is drawn."""
    return _person_pixels


def fake_home(folder, seed: int = 0):
    """Six sequences over two homes (train 2, val 2, test 2); returns frames store, truth, splits."""
    rng = np.random.default_rng(seed)
    stride = round(NATIVE_FPS / 2.5)
    frames, rows, splits = {}, [], []
    for s, split in enumerate(["train", "train", "val", "val", "test", "test"]):
        home = f"Home{s % 2 + 1}"
        sid = f"{home}/01/{s:02d}-Part1"
        clip = np.full((5, N_FRAMES, SIZE, SIZE, 3), 80, dtype=np.uint8)
        for view in range(1, 6):
            for k in range(N_FRAMES * stride):
                visible = bool(rng.random() < 0.5)
                box = (np.nan,) * 4
                if visible:
                    x, y = rng.integers(0, SIZE - 12, 2)
                    box = (x / SIZE, y / SIZE, (x + 6) / SIZE, (y + 12) / SIZE)
                    if k % stride == 0:
                        clip[view - 1, k // stride, y:y + 12, x:x + 6] = PERSON_RGB
                rows.append({"home": home, "sequence_id": sid, "view": view, "frame": k,
                             "time": k / NATIVE_FPS, "visible": visible, "x1": box[0],
                             "y1": box[1], "x2": box[2], "y2": box[3], "actions": []})
        frames[sid] = clip
        splits.append({"sequence_id": sid, "home": home, "split": split})
    store = ArrayStoreDataset(str(folder / "frames"))
    store.save(StampedArrays(frames, None, fingerprint=f"fake home {seed}"))  # as ingestion stamps it
    return store, pd.DataFrame(rows), pd.DataFrame(splits)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return fake_home(tmp_path_factory.mktemp("home"))
