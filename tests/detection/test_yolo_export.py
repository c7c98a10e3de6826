"""Truth alignment on the 2.5-FPS axis and the YOLO dataset export."""
import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from vicokd.detection.yolo_export import (
    export_yolo_dataset,
    truth_by_sequence,
    truth_on_frames,
    yolo_label_lines,
)


def _truth(native_fps: float, n_native: int, n_views: int = 5) -> pd.DataFrame:
    """Rows for one sequence: native frame k visible when k is odd, box x1 = k / 1000."""
    rows = []
    for view in range(1, n_views + 1):
        for k in range(n_native):
            visible = k % 2 == 1
            box = (k / 1000, 0.1 * view, k / 1000 + 0.2, 0.1 * view + 0.3) if visible else (np.nan,) * 4
            rows.append({"home": "Home1", "sequence_id": "Home1/01/00-Part1", "view": view,
                         "frame": k, "time": k / native_fps, "visible": visible, "x1": box[0],
                         "y1": box[1], "x2": box[2], "y2": box[3], "actions": []})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # order must not matter


def test_truth_on_frames_takes_the_row_nearest_in_time():
    # native 6 fps: 2.5-FPS frame f at f/2.5 s; nearest native frames worked out by hand:
    # f=0 → 0.0 s → k=0; f=1 → 0.4 s → k=2 (0.333, vs 0.5); f=2 → 0.8 s → k=5 (0.833);
    # f=3 → 1.2 s → k=7 (1.1667, vs 1.3333)
    visible, boxes = truth_on_frames(_truth(6.0, 12), n_frames=4, sample_fps=2.5)
    nearest = np.array([0, 2, 5, 7])
    assert visible.shape == (5, 4) and boxes.shape == (5, 4, 4)
    np.testing.assert_array_equal(visible, np.tile(nearest % 2 == 1, (5, 1)))
    np.testing.assert_allclose(boxes[:, 2, 0], 5 / 1000)
    np.testing.assert_allclose(boxes[:, 3, 1], 0.1 * np.arange(1, 6))
    assert np.isnan(boxes[:, [0, 1]]).all()
    # at 5 FPS: f/5 s → k = 0, 1 (0.2 → 0.167), 2 (0.4 → 0.333, vs 0.5), 4 (0.6 → 0.667, vs 0.5)
    visible, _ = truth_on_frames(_truth(6.0, 12), n_frames=4, sample_fps=5.0)
    np.testing.assert_array_equal(visible[0], np.array([0, 1, 2, 4]) % 2 == 1)


def test_truth_by_sequence_names_a_missing_sequence():
    with pytest.raises(ValueError, match="Home2/01/00-Part1"):
        truth_by_sequence(_truth(10.0, 8), {"Home1/01/00-Part1": 2, "Home2/01/00-Part1": 2}, 2.5)


def test_yolo_label_lines_are_centre_and_size():
    assert yolo_label_lines(np.array([0.1, 0.2, 0.3, 0.6])) == ["0 0.200000 0.400000 0.200000 0.400000"]
    assert yolo_label_lines(np.full(4, np.nan)) == []


def test_export_writes_images_labels_and_negatives(tmp_path):
    rng = np.random.default_rng(0)
    frames = {"a": rng.integers(0, 255, (5, 3, 8, 8, 3), dtype=np.uint8),
              "b": rng.integers(0, 255, (5, 2, 8, 8, 3), dtype=np.uint8)}
    truth = truth_by_sequence(
        pd.concat([_truth(2.5, 3).assign(sequence_id="a"), _truth(2.5, 2).assign(sequence_id="b")]),
        {"a": 3, "b": 2}, 2.5)
    data_yaml = export_yolo_dataset(frames, truth, {"train": ["a"], "val": ["b"]}, tmp_path / "yolo")

    spec = yaml.safe_load(data_yaml.read_text())
    assert spec["names"] == {0: "person"} and spec["train"] == "images/train"
    train_images = sorted((tmp_path / "yolo/images/train").glob("*.png"))
    assert len(train_images) == 5 * 3 and len(list((tmp_path / "yolo/images/val").glob("*"))) == 5 * 2
    image = np.asarray(Image.open(tmp_path / "yolo/images/train/a__v2__f00001.png"))
    np.testing.assert_array_equal(image, frames["a"][1, 1])
    assert (tmp_path / "yolo/labels/train/a__v2__f00000.txt").read_text() == ""  # negative
    cx, cy = 0.001 + 0.1, 0.2 + 0.15  # frame 1 = native frame 1 (odd: visible), view 2
    assert (tmp_path / "yolo/labels/train/a__v2__f00001.txt").read_text() == (
        f"0 {cx:.6f} {cy:.6f} 0.200000 0.300000\n")


def test_export_frame_step_staggers_views(tmp_path):
    frames = {"a": np.zeros((5, 3, 8, 8, 3), dtype=np.uint8)}
    truth = truth_by_sequence(_truth(2.5, 3).assign(sequence_id="a"), {"a": 3}, 2.5)
    export_yolo_dataset(frames, truth, {"train": ["a"]}, tmp_path)  # all 15, then replaced
    np.save(tmp_path / "images/train/a__v2__f00000.npy", frames["a"][1, 0])  # ultralytics' disk cache
    export_yolo_dataset(frames, truth, {"train": ["a"]}, tmp_path, frame_step={"train": 2})
    names = sorted(p.stem for p in (tmp_path / "images/train").glob("*.png"))
    expected = sorted(f"a__v{v + 1}__f{f:05d}" for v in range(5) for f in range(v % 2, 3, 2))
    assert names == expected and len(names) == 8  # views 1, 3, 5: frames 0, 2; views 2, 4: frame 1
    assert len(list((tmp_path / "labels/train").glob("*.txt"))) == 8
    assert not list((tmp_path / "images/train").glob("*.npy"))  # a cache of replaced images is gone
