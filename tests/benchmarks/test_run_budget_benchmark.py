"""benchmarks/run_budget.py: stage times scaled to another size, and the splits planned for it."""
from __future__ import annotations

import pandas as pd
import pytest

from project_parameters import load_parameters
from vicokd.data.description import DatasetDescription
from vicokd.data.splitting import split_sequences
from vicokd.simulation.generate import SimulationParameters
from vicokd.simulation.planning import planned_sequences

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
SHARES = (0.2, 0.1, 0.7)  # of training: per model, evaluation, steps


def test_the_measured_size_is_predicted_at_its_own_time(budget):
    measured = size(budget, 8, counts(100, 20, 50))
    assert budget.predicted_seconds(TIMING, measured, measured, SHARES) == pytest.approx(370.0)


def test_each_stage_scales_with_what_it_grows_with(budget):
    measured = size(budget, 8, counts(100, 20, 50))  # simulated 390, outside test 275
    candidate = size(budget, 4, counts(50, 40, 110, extra_train=15))  # simulated 435, outside test 200
    expected = (100 * 435 / 390          # simulation: every simulated sequence
                + 40 * 200 / 275         # detector: the sequences outside test
                + 20 * 15 / 30           # pretraining: the pretraining home's training sequences
                + 200 * (0.2 * 4 / 8                 # training: per model (seeds),
                         + 0.1 * (4 * 40) / (8 * 20)    # evaluation (seeds × val),
                         + 0.7 * (4 * 50) / (8 * 100))  # steps (seeds × train)
                + 10)                    # reporting: fixed
    assert budget.predicted_seconds(TIMING, measured, candidate, SHARES) == pytest.approx(expected)


def test_test_sequences_count_the_evaluated_homes_only(budget):
    assert size(budget, 4, counts(100, 20, 50)).test_sequences() == 100


def test_a_planned_size_splits_every_sequence_as_the_stratification_does(budget, tmp_path):
    params = load_parameters("test")
    planned = budget.plan(params, 24, 2, 0.5, 0.25, tmp_path)
    dataset = DatasetDescription.model_validate(params["dataset"])
    homes = [*params["ingestion"]["homes"], *params["simulation"]["extra_homes"]]
    settings = SimulationParameters.model_validate(
        {**params["simulation"], "sequences_per_home": 24}).settings
    sequences = pd.concat([planned_sequences(tmp_path / "own", home, settings.sequences_of(
        home, params["simulation"]["extra_homes"]), settings, params["seed"], dataset)
        for home in homes], ignore_index=True)
    splits = split_sequences(sequences, 0.5, 0.25, params["seed"], use_dataset_splits=False,
                             classes=dataset.classes)
    expected = splits.groupby(["home", "split"]).size()
    assert planned.counts.set_index(["home", "split"])["sequences"].to_dict() == expected.to_dict()
    labels = dict(zip(sequences["sequence_id"], sequences["labels"]))
    val = splits[splits["home"].isin(params["ingestion"]["homes"]) & (splits["split"] == "val")]
    fewest = min(sum(c in labels[s] for s in ids) for _, ids in val.groupby("home")["sequence_id"]
                 for c in dataset.classes)
    assert planned.min_val_positives == fewest
    assert planned.count("seeds") == 2.0
    for home in params["ingestion"]["homes"]:
        assert expected[home].sum() == 24


def test_the_measured_size_is_read_from_the_run_reports(budget, tmp_path):
    table = counts(100, 20, 50)
    pd.concat([table, pd.DataFrame([("all", "train", 230)], columns=table.columns)]).to_csv(
        tmp_path / "split_class_counts.csv", index=False)
    pd.DataFrame({"seed": [0, 1, 2, 0, 1, 2]}).to_csv(tmp_path / "training_summary.csv", index=False)
    measured = budget.measured_size(tmp_path, {"ingestion": {"homes": list(EVALUATED)}})
    assert (measured.sequences, measured.seeds) == (170, 3)
    assert measured.test_share == pytest.approx(round(50 / 170, 2))
    assert measured.val_share == pytest.approx(round(20 / 120, 2))
    assert measured.count("simulated") == 390
