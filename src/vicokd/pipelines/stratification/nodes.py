"""Stratification nodes: thin wrappers around vicokd.data.splitting."""

from __future__ import annotations

import pandas as pd

from vicokd.data.description import DatasetDescription
from vicokd.data.splitting import (
    StratificationParameters,
    split_class_counts,
    split_sequences,
)
from vicokd.reporting.tables import to_markdown


def split_by_home(
    sequences: pd.DataFrame,
    stratification: StratificationParameters,
    seed: int,
    dataset: DatasetDescription,
) -> pd.DataFrame:
    """``splits``: ``sequence_id, home, split`` — iterative stratification per home on the
    sequence labels over ``dataset.classes``, seeded."""
    return split_sequences(
        sequences,
        test_size=stratification.test_size,
        val_size=stratification.val_size,
        seed=seed,
        use_dataset_splits=stratification.use_dataset_splits,
        classes=dataset.classes,
    )


def count_classes_per_split(
    sequences: pd.DataFrame, splits: pd.DataFrame, dataset: DatasetDescription
) -> tuple[pd.DataFrame, str]:
    """Sequences per class of ``dataset.classes`` for every (home, split): a table and its
    markdown rendering."""
    counts = split_class_counts(sequences, splits, dataset.classes)
    return counts, to_markdown(counts, "Sequences per class and split")
