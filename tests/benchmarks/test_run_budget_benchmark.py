"""benchmarks/run_budget.py: stage times scaled to another size, and the splits planned for it."""
from __future__ import annotations

import pandas as pd
import pytest

from project_parameters import load_parameters

EVALUATED = ("Home1", "Home2")


@pytest.fixture
def budget(import_benchmark):
    return import_benchmark("run_budget")


def counts(train: int, val: int, test: int, extra_train: int = 30) -> pd.DataFrame:
    """Split counts of the two evaluated homes (the same in each) and one pretraining home."""
    rows = [(home, split, n) for home in EVALUATED
            for split, n in (("train", train), ("val", val), ("test", test))]
    rows += [("Home3", "train", extra_train), ("Home3", "val", 5), ("Home3", "test", 15)]
    return pd.DataFrame(rows, columns=["home", "split", "sequences"])


def size(budget, seeds: int, table: pd.DataFrame):
    return budget.Size(0, seeds, 0.3, 0.15, table, 3, EVALUATED)


TIMING = pd.DataFrame({"stage": ["simulation", "detector training", "pretraining", "training",
                                 "reporting", "total"],
                       "seconds": [100.0, 40.0, 20.0, 200.0, 10.0, 370.0]})


def test_the_measured_size_is_predicted_at_its_own_time(budget):
    measured = size(budget, 8, counts(100, 20, 50))
    assert budget.predicted_seconds(TIMING, measured, measured, 0.25) == pytest.approx(370.0)


def test_each_stage_scales_with_what_it_grows_with(budget):
    measured = size(budget, 8, counts(100, 20, 50))  # simulated 390, outside test 275
    candidate = size(budget, 4, counts(50, 20, 130, extra_train=15))  # simulated 435, outside test 160
    expected = (100 * 435 / 390          # simulation: every simulated sequence
                + 40 * 160 / 275         # detector: the sequences outside test
                + 20 * 15 / 30           # pretraining: the pretraining home's training sequences
                + 200 * (0.25 * 4 / 8 + 0.75 * (4 * 50) / (8 * 100))  # training: seeds, seeds × train
                + 10)                    # reporting: fixed
    assert budget.predicted_seconds(TIMING, measured, candidate, 0.25) == pytest.approx(expected)


def test_test_sequences_count_the_evaluated_homes_only(budget):
    assert size(budget, 4, counts(100, 20, 50)).test_sequences() == 100


def test_a_planned_size_splits_every_sequence_as_the_stratification_does(budget, tmp_path):
    params = load_parameters("test")
    planned = budget.plan(params, 24, 2, 0.5, 0.25, tmp_path)
    table = planned.counts.set_index(["home", "split"])["sequences"]
    extra = params["simulation"]["extra_homes"]
    per_extra = params["simulation"]["sequences_per_extra_home"] or 24
    for home in params["ingestion"]["homes"]:
        assert table[home].sum() == 24
        assert table[(home, "test")] == pytest.approx(12, abs=2)
    for home in extra:
        assert table[home].sum() == per_extra
    assert planned.min_val_positives >= 0 and planned.count("seeds") == 2.0
