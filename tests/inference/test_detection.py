"""Segment-level detection mAP (ActivityNet style) on examples worked out by hand."""
import numpy as np
import pandas as pd
import pytest

from vicokd.inference.detection import (
    interpolated_average_precision,
    segment_average_precision,
    segment_detection_map,
    temporal_iou,
)


def test_temporal_iou():
    others = np.array([[5, 15], [10, 20], [0, 10], [2, 3], [4, 4]])
    assert temporal_iou((0, 10), others).tolist() == pytest.approx([5 / 15, 0.0, 1.0, 0.1, 0.0])
    assert temporal_iou((3, 3), np.array([[3, 3]])).tolist() == [0.0]  # no length: no overlap


def test_interpolated_precision_takes_the_best_precision_at_or_beyond_each_recall():
    precision = np.array([1.0, 0.5, 1 / 3, 0.5, 0.4])
    recall = np.array([1, 1, 1, 2, 2]) / 3
    # recall steps 1/3 (precision 1), 1/3 (best later 0.5), 1/3 to 1 unreached (0)
    assert interpolated_average_precision(precision, recall) == pytest.approx(0.5)


TRUTH = pd.DataFrame({"recording": ["r1", "r1", "r2", "r1"], "class": ["A", "A", "A", "B"],
                      "start": [0.0, 20.0, 5.0, 0.0], "end": [10.0, 30.0, 15.0, 5.0]})
PREDICTED = pd.DataFrame({
    "recording": ["r1", "r1", "r2", "r1", "r3"], "class": ["A"] * 5,
    "start": [0.0, 1.0, 10.0, 22.0, 0.0], "end": [9.0, 10.0, 20.0, 30.0, 1.0],
    "score": [0.9, 0.8, 0.7, 0.6, 0.5]})


def test_class_ap_by_hand():
    truth = TRUTH[TRUTH["class"] == "A"]
    # tIoU with the best true segment: 0.9, 0.9 (already taken; the other is 0), 1/3, 0.8, none
    # at 0.5: hits 1 0 0 1 0 -> precision 1 .5 .33 .5 .4, recall 1/3 .. 2/3 -> 1/3·1 + 1/3·.5
    assert segment_average_precision(PREDICTED, truth, 0.5) == pytest.approx(0.5)
    # at 0.3 the third is a hit: precision 1 .5 .67 .75 .6 -> 1/3·1 + 1/3·.75 + 1/3·.75
    assert segment_average_precision(PREDICTED, truth, 0.3) == pytest.approx(5 / 6)
    assert segment_average_precision(PREDICTED, truth, 0.95) == 0.0
    assert segment_average_precision(PREDICTED.iloc[:0], truth, 0.5) == 0.0


def test_a_prediction_whose_best_true_segment_is_taken_matches_the_next_one():
    truth = pd.DataFrame({"recording": ["r", "r"], "start": [0.0, 0.0], "end": [10.0, 11.0]})
    predicted = pd.DataFrame({"recording": ["r", "r"], "start": [0.0, 0.0], "end": [10.0, 9.9],
                              "score": [0.9, 0.8]})
    assert segment_average_precision(predicted, truth, 0.5) == pytest.approx(1.0)
    assert segment_average_precision(predicted, truth, 0.95) == pytest.approx(0.5)


def test_map_over_classes_with_true_segments_per_threshold_and_their_mean():
    table = segment_detection_map(PREDICTED, TRUTH, (0.3, 0.5, 0.7))
    assert table["tiou"].tolist() == [0.3, 0.5, 0.7, "mean"]
    # class B has a true segment and no prediction: AP 0
    assert table["ap.B"].tolist() == [0.0] * 4
    assert table["ap.A"].tolist() == pytest.approx([500 / 6, 50.0, 50.0, (500 / 6 + 100) / 3])
    assert table["map"].tolist() == pytest.approx([250 / 6, 25.0, 25.0, (250 / 6 + 50) / 3])
    with pytest.raises(ValueError, match="missing columns"):
        segment_detection_map(PREDICTED.drop(columns="score"), TRUTH)
