"""benchmarks/training_length.py: the per-home summary of the models trained at one length."""
from __future__ import annotations

import math

import pandas as pd
import pytest


def test_summary_is_the_mean_over_seeds_per_home_with_the_validation_spread(import_benchmark):
    length = import_benchmark("training_length")
    rows = pd.DataFrame({"home": ["Home1", "Home1", "Home2"], "best epoch": [4, 8, 10],
                         "val seq mAP": [60.0, 70.0, 50.0], "test seq mAP": [40.0, 50.0, 45.0],
                         "test frame mAP": [10.0, 20.0, 5.0]})
    summary = length.summarise(rows)
    assert list(summary.columns) == list(length.COLUMNS)
    # Home1: seeds at 60 and 70 -> sample std sqrt(((60-65)^2 + (70-65)^2) / 1) = sqrt(50)
    assert summary.loc["Home1"].tolist() == pytest.approx([6.0, 65.0, 50 ** 0.5, 45.0, 15.0])
    home2 = summary.loc["Home2"]  # one seed: no spread
    assert home2.drop("± std").tolist() == pytest.approx([10.0, 50.0, 45.0, 5.0])
    assert math.isnan(home2["± std"])
