import numpy as np
import pandas as pd
import pytest

from project_parameters import multisensor_home
from vicokd.data.splitting import split_class_counts, split_sequences
from vicokd.reporting.tables import to_markdown

CLASSES = multisensor_home().classes

#: conf/base's stratification (the paper's 7:3, 15 % of train for validation).
SIZES = {"test_size": 0.3, "val_size": 0.15}


def random_sequences(seed: int) -> pd.DataFrame:
    """Two homes of 40-90 sequences with 1-3 labels each, some classes rare."""
    rng = np.random.default_rng(seed)
    weights = np.linspace(1, 6, len(CLASSES))
    rows = []
    for home in ("Home1", "Home2"):
        for i in range(rng.integers(40, 90)):
            labels = rng.choice(
                CLASSES, rng.integers(1, 4), replace=False, p=weights / weights.sum()
            )
            rows.append(
                {"sequence_id": f"{home}/01/{i:02d}-Part1", "home": home, "labels": list(labels)}
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(6))
def test_split_proportions_coverage_and_disjointness(seed):
    sequences = random_sequences(seed)
    splits = split_sequences(sequences, **SIZES, seed=seed, use_dataset_splits=False,
                             classes=CLASSES)
    assert splits["sequence_id"].is_unique and set(splits["sequence_id"]) == set(
        sequences["sequence_id"]
    )
    assert set(splits["split"]) == {"train", "val", "test"}
    table = splits.merge(sequences[["sequence_id", "labels"]], on="sequence_id")
    for _, home in table.groupby("home"):
        assert abs((home["split"] == "test").mean() - 0.3) <= 0.05
        for name in CLASSES:
            having = home[home["labels"].apply(lambda labels, name=name: name in labels)]
            if len(having) >= 4:
                assert {"train", "test"} <= set(having["split"]), name


def test_same_seed_same_split_other_seed_other_split():
    sequences = random_sequences(0)
    def split(seed: int) -> pd.DataFrame:
        return split_sequences(sequences, **SIZES, seed=seed, use_dataset_splits=False,
                               classes=CLASSES)

    first = split(5)
    assert first.equals(split(5))
    assert not first["split"].equals(split(6)["split"])


def test_dataset_splits_are_used_when_asked():
    sequences = random_sequences(1)
    sequences["dataset_split"] = np.where(np.arange(len(sequences)) % 4 == 0, "test", "train")
    splits = split_sequences(sequences, **SIZES, seed=0, use_dataset_splits=True, classes=CLASSES)
    own = sequences.set_index("sequence_id")["dataset_split"]
    assert ((splits["split"] == "test") == (splits["sequence_id"].map(own) == "test")).all()
    assert (splits["split"] == "val").any()


def test_class_counts_add_up():
    sequences = random_sequences(2)
    splits = split_sequences(sequences, **SIZES, seed=0, use_dataset_splits=False, classes=CLASSES)
    counts = split_class_counts(sequences, splits, CLASSES)
    assert list(counts.columns) == ["home", "split", "sequences", *CLASSES]
    overall = counts[counts["home"] == "all"]
    assert overall["sequences"].sum() == len(sequences)
    for name in CLASSES:
        assert (
            overall[name].sum()
            == sequences["labels"].apply(lambda labels, name=name: name in labels).sum()
        )
    home1_test = counts[(counts["home"] == "Home1") & (counts["split"] == "test")][
        "sequences"
    ].item()
    assert home1_test == ((splits["home"] == "Home1") & (splits["split"] == "test")).sum()
    assert to_markdown(counts, "t").count("\n") == len(counts) + 4  # title, blank, header, rule
