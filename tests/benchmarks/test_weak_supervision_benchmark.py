"""benchmarks/weak_supervision.py: the reference levels printed beside the V_S student's mAP."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def weak(import_benchmark):
    return import_benchmark("weak_supervision")


def test_chance_is_the_mean_positive_share_of_the_present_classes(weak):
    targets = np.array([[1, 0, 0], [0, 0, 0], [1, 1, 0], [0, 0, 0]])  # class 2 never present
    assert weak.chance_map(targets) == pytest.approx(100 * (2 / 4 + 1 / 4) / 2)


def test_timeless_scorer_gives_each_frame_its_sequence_labels(weak):
    # sequence a: class 0 in frame 0 of 4; sequence b: class 0 in frames 0-1 of 2, class 1 in frame 1.
    frames = pd.DataFrame({"sequence_id": ["a"] * 4 + ["b"] * 2,
                           "target.c0": [1, 0, 0, 0, 1, 1], "target.c1": [0, 0, 0, 0, 0, 1]})
    # class 0: the 6 frames of a and b tie at score 1, 3 positive -> AP = 3/6; class 1: the 2
    # frames of b tie, 1 positive -> AP = 1/2.
    assert weak.timeless_map(frames) == pytest.approx(100 * (0.5 + 0.5) / 2)


def test_own_sequence_scorer_gives_each_frame_its_sequence_prediction(weak):
    frames = pd.DataFrame({"sequence_id": ["a"] * 3 + ["b"] * 2,
                           "target.c0": [1, 0, 0, 1, 1], "target.c1": [0, 0, 1, 0, 0]})
    sequences = pd.DataFrame({"sequence_id": ["b", "a"], "score.c0": [0.9, 0.2],
                              "score.c1": [0.1, 0.6]})
    # class 0: b's 2 frames (0.9, both positive) rank above a's 3 (0.2, one positive):
    # AP = (1 + 1 + 3/5) / 3; class 1: a's 3 frames (0.6, one positive) first -> AP = 1/3.
    expected = ((1 + 1 + 3 / 5) / 3 + 1 / 3) / 2
    assert weak.own_sequence_map(frames, sequences) == pytest.approx(100 * expected)


def test_summary_is_mean_and_sample_std_over_seeds_with_the_multiple_of_chance(weak):
    seeds = pd.DataFrame({"backbone": ["multitsf"] * 3, "home": ["Home1"] * 3, "seed": [0, 1, 2],
                          "frame mAP": [6.0, 8.0, 10.0], "frame chance": [4.0] * 3,
                          "timeless": [15.0] * 3, "own seq": [5.0, 5.0, 8.0],
                          "seq mAP": [40.0, 50.0, 60.0], "seq chance": [30.0] * 3})
    row = weak.summarise(seeds).loc[("multitsf", "Home1")]
    assert row["frame mAP"] == pytest.approx(8.0)
    assert row["frame mAP ±"] == pytest.approx(2.0)  # sqrt((4 + 0 + 4) / 2)
    assert row["× chance"] == pytest.approx(2.0)
    assert row["own seq ±"] == pytest.approx(np.sqrt((1 + 1 + 4) / 2))
    assert row["seq mAP ±"] == pytest.approx(10.0)
    assert (row["frame chance"], row["timeless"], row["seq chance"]) == (4.0, 15.0, 30.0)
