"""Per-class thresholds chosen on validation frames, and the segments they cut out of frame scores."""
import numpy as np
import pandas as pd
import pytest

from vicokd.inference.segments import (
    annotation_segments,
    choose_thresholds,
    f1_scores,
    frame_segments,
)


def test_f1_per_class_and_pooled_by_hand():
    scores = np.array([[0.9, 0.2], [0.6, 0.7], [0.1, 0.8], [0.4, 0.1]])
    targets = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    per_class, pooled = f1_scores(scores, targets, 0.5)
    # class 0: predicted {0, 1}, true {0, 2}: tp 1 -> 2/(2+2); class 1: predicted {1, 2} = true
    assert per_class.tolist() == pytest.approx([0.5, 1.0])
    assert pooled == pytest.approx(2 * 3 / (4 + 4))


def test_each_class_gets_its_best_candidate_and_a_class_without_positives_the_pooled_best():
    scores = np.array([[0.9, 0.55], [0.4, 0.45], [0.2, 0.7]])
    targets = np.array([[1, 0], [1, 0], [0, 0]])
    thresholds, f1, fitted = choose_thresholds(scores, targets, [0.8, 0.3, 0.5])
    # class 0: F1 1 at 0.3 (both positives, nothing else), 2/3 at 0.5 and 0.8.
    # class 1 has no positive; pooled F1 over both classes: 0.3 -> 2·2/(5+2) = 4/7,
    # 0.5 -> 2·1/(3+2) = 2/5, 0.8 -> 2·1/(1+2) = 2/3: the best is 0.8
    assert thresholds.tolist() == [0.3, 0.8]
    assert f1[0] == pytest.approx(1.0) and np.isnan(f1[1])
    assert fitted.tolist() == [True, False]
    assert choose_thresholds(scores[:, :1], targets[:, :1], [0.5, 0.3])[0].tolist() == [0.3]


def test_segments_are_runs_of_frames_at_or_above_the_threshold():
    scores = np.zeros((10, 2))
    scores[[0, 1, 2], 0] = [0.6, 0.5, 0.9]  # frames 0-2 of class A (0.5 reaches 0.5)
    scores[[6, 7], 0] = [0.7, 0.8]
    scores[9, 1] = 0.95  # the last frame of class B
    segments = frame_segments(scores, [0.5, 0.9], ["A", "B"], fps=2.5)
    expected = pd.DataFrame({
        "class": ["A", "A", "B"],
        # frame f stands for [(f - 0.5) / 2.5, (f + 0.5) / 2.5], starting at 0 s at the earliest
        "start": [0.0, 5.5 / 2.5, 8.5 / 2.5],
        "end": [2.5 / 2.5, 7.5 / 2.5, 9.5 / 2.5],
        "score": [(0.6 + 0.5 + 0.9) / 3, 0.75, 0.95],
    })
    pd.testing.assert_frame_equal(segments, expected)
    assert frame_segments(np.zeros((4, 2)), [0.5, 0.5], ["A", "B"], 2.5).empty


def test_annotation_segments_one_row_per_label():
    tricks = [{"start": 1.0, "end": 2.5, "labels": ["Drink", "Eat"]}, {"start": 3.0, "end": 4.0, "labels": ["Exit"]}]
    assert annotation_segments(tricks).values.tolist() == [
        ["Drink", 1.0, 2.5], ["Eat", 1.0, 2.5], ["Exit", 3.0, 4.0]]
