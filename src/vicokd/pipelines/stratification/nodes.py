"""Stratification nodes: thin wrappers around vicokd.data.splitting."""

from __future__ import annotations

from typing import Any

import pandas as pd

from vicokd.data.splitting import markdown_table, split_class_counts, split_sequences


def split_by_home(sequences: pd.DataFrame, params: dict[str, Any], seed: int) -> pd.DataFrame:
    """``splits``: ``sequence_id, home, split`` — iterative stratification per home, seeded."""
    return split_sequences(
        sequences,
        test_size=float(params["test_size"]),
        val_size=float(params["val_size"]),
        seed=int(seed),
        use_dataset_splits=bool(params.get("use_dataset_splits", False)),
    )


def count_classes_per_split(
    sequences: pd.DataFrame, splits: pd.DataFrame
) -> tuple[pd.DataFrame, str]:
    """Sequences per class for every (home, split): a table and its markdown rendering."""
    counts = split_class_counts(sequences, splits)
    return counts, markdown_table(counts)
