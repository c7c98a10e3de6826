"""Mask quality: precision, recall and F1 per home, checked on a hand-made case."""
import numpy as np
import pytest

from vicokd.detection.quality import best_threshold, mask_quality, quality_table


def test_mask_quality_counts_by_hand():
    truth = {"s1": np.array([[1, 1, 0, 0], [1, 0, 0, 1]]), "s2": np.array([[1, 1, 1, 0]]),
             "s3": np.array([[0, 0]])}
    pred = {"s1": np.array([[1, 0, 1, 0], [1, 0, 0, 1]]), "s2": np.array([[0, 0, 0, 1]]),
            "s3": np.array([[1, 1]])}
    report = mask_quality(pred, truth, {"s1": "Home1", "s2": "Home2", "s3": "Home2"})
    # Home1 (s1): tp 3, fp 1, fn 1, tn 3 → precision 3/4, recall 3/4, F1 3/4
    assert report["Home1"] == pytest.approx(
        {"precision": 0.75, "recall": 0.75, "f1": 0.75, "tp": 3, "fp": 1, "fn": 1, "tn": 3,
         "frames": 8})
    # Home2 (s2 + s3): tp 0, fp 3, fn 3, tn 0 → every score 0 (empty F1 denominator)
    assert report["Home2"] == pytest.approx(
        {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 3, "fn": 3, "tn": 0, "frames": 6})


def test_mask_quality_f1_is_the_harmonic_mean():
    truth = {"s": np.array([[1, 1, 1, 1, 0, 0]])}
    pred = {"s": np.array([[1, 1, 0, 0, 1, 0]])}
    scores = mask_quality(pred, truth, {"s": "H"})["H"]
    precision, recall = 2 / 3, 2 / 4
    assert scores["f1"] == pytest.approx(2 * precision * recall / (precision + recall))


def test_mask_quality_rejects_misaligned_masks():
    with pytest.raises(ValueError, match="s1"):
        mask_quality({"s1": np.zeros((5, 3))}, {"s1": np.zeros((5, 4))}, {"s1": "Home1"})


def test_quality_table_rows_and_no_ground_truth():
    report = {"source": "detector", "split": "test", "threshold": 0.5,
              "homes": {"Home1": {"precision": 0.9, "recall": 0.8, "f1": 0.847, "frames": 10}}}
    table = quality_table(report)
    assert "| Home1 | 0.900 | 0.800 | 0.847 | 10 |" in table
    empty = quality_table({**report, "homes": {}, "note": "no ground truth (person_truth is empty)"})
    assert "no ground truth" in empty and "| Home1" not in empty


def test_best_threshold_maximises_f1_over_candidates():
    confidence = {"a": np.array([[0.9, 0.7, 0.35, 0.2]]), "b": np.array([[0.6, 0.1]])}
    truth = {"a": np.array([[1, 1, 1, 0]]), "b": np.array([[0, 0]])}
    # t=0.3: tp 3, fp 1 → F1 6/7; t=0.5: tp 2, fp 1, fn 1 → 2/3; t=0.8: tp 1, fn 2 → 1/2;
    # t=0.4: tp 2, fp 1, fn 1 → 2/3
    assert best_threshold(confidence, truth, [0.8, 0.5, 0.4, 0.3]) == 0.3
    # ties go to the first (smaller) candidate: 0.4 and 0.5 both give 2/3
    assert best_threshold(confidence, truth, [0.4, 0.5]) == 0.4
