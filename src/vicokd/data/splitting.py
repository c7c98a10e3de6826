"""Train / validation / test splits per home by iterative stratification on sequence labels."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import Field

from vicokd.data.annotations import multi_hot
from vicokd.parameters import Parameters

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def _label_matrix(sequences: pd.DataFrame, classes: Sequence[str]) -> np.ndarray:
    """``(N, C)`` multi-hot sequence labels over ``classes``."""
    return (
        np.stack([multi_hot(list(labels), classes) for labels in sequences["labels"]])
        if len(sequences)
        else np.zeros((0, len(classes)))
    )


def stratified_holdout(
    labels: np.ndarray,
    holdout_size: float,
    seed: int,
    min_class_count: int = 4,
    both_sides: bool = True,
    tolerance: float = 0.05,
    tries: int = 20,
) -> np.ndarray:
    """``(N,)`` bool, True for the ~``holdout_size`` fraction of rows held out by iterative
    stratification (MultilabelStratifiedShuffleSplit) on the ``(N, C)`` multi-hot ``labels``.

    Iterative stratification can miss the size or leave a rare class on one side, so up to ``tries``
    splits (random states drawn from ``seed``) are made and the first one with every class of at
    least ``min_class_count`` rows on the kept side (and on the held-out side when ``both_sides``)
    and a size within ``tolerance`` is kept — else the one closest to that. Deterministic for a seed.
    """
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit  # with scikit-learn: 1 s

    held_out = np.zeros(len(labels), dtype=bool)
    if len(labels) < 2 or round(holdout_size * len(labels)) < 1:
        return held_out
    common = labels.sum(axis=0) >= min_class_count
    best, best_score = held_out, (np.inf, np.inf)
    for state in np.random.SeedSequence(seed).generate_state(tries):
        splitter = MultilabelStratifiedShuffleSplit(
            n_splits=1, test_size=holdout_size, random_state=int(state)
        )
        _, test_rows = next(splitter.split(np.zeros((len(labels), 1)), labels))
        candidate = np.zeros(len(labels), dtype=bool)
        candidate[test_rows] = True
        missing = labels[~candidate].sum(axis=0) == 0
        if both_sides:
            missing |= labels[candidate].sum(axis=0) == 0
        one_sided = common & missing
        score = (int(one_sided.sum()), max(0.0, abs(candidate.mean() - holdout_size) - tolerance))
        if score < best_score:
            best, best_score = candidate, score
        if best_score == (0, 0.0):
            break
    return best


class StratificationParameters(Parameters):
    """The ``stratification:`` parameter block: the share of each home held out for testing and of
    its train part held out for validation."""

    test_size: Annotated[float, Field(gt=0, lt=1)]  # fraction of each home in test
    val_size: Annotated[float, Field(gt=0, lt=1)]  # fraction of each home's train part in val
    use_dataset_splits: bool  # test = the dataset's own test files where a home has them


def split_sequences(
    sequences: pd.DataFrame,
    test_size: float,
    val_size: float,
    seed: int,
    use_dataset_splits: bool,
    classes: Sequence[str],
) -> pd.DataFrame:
    """``sequence_id, home, split`` with split ∈ {train, val, test}, made per home.

    Test: iterative stratification on sequence labels over ``classes`` (``test_size`` of the
    home), or the dataset's
    own train/test files (column ``dataset_split``) when ``use_dataset_splits`` and the home has them.
    Validation: ``val_size`` of the home's train part, stratified the same way, leaving in train every
    class the train part has. Same seed, same split.
    """
    parts = []
    for home, group in sequences.groupby("home", sort=True):
        group = group.reset_index(drop=True)
        labels = _label_matrix(group, classes)
        own = group["dataset_split"] if "dataset_split" in group else pd.Series([None] * len(group))
        if use_dataset_splits and own.notna().all():
            is_test = (own == "test").to_numpy()
        else:
            if use_dataset_splits:
                logger.warning(
                    "%s: not every sequence is in the dataset's train/test files; stratifying instead",
                    home,
                )
            is_test = stratified_holdout(labels, test_size, seed)
        split = np.where(is_test, "test", "train").astype(object)
        train_rows = np.flatnonzero(~is_test)
        is_val = stratified_holdout(
            labels[train_rows], val_size, seed, min_class_count=1, both_sides=False
        )
        split[train_rows[is_val]] = "val"
        parts.append(
            pd.DataFrame({"sequence_id": group["sequence_id"], "home": home, "split": split})
        )
    if not parts:
        return pd.DataFrame(
            {
                "sequence_id": pd.Series(dtype=str),
                "home": pd.Series(dtype=str),
                "split": pd.Series(dtype=str),
            }
        )
    return pd.concat(parts, ignore_index=True)


def split_class_counts(
    sequences: pd.DataFrame, splits: pd.DataFrame, classes: Sequence[str]
) -> pd.DataFrame:
    """One row per (home, split) and a total row per split: ``sequences`` then one count per class
    of ``classes``."""
    table = splits.merge(sequences[["sequence_id", "labels"]], on="sequence_id", how="left")
    rows = []
    for home in [*sorted(table["home"].unique()), "all"]:
        for split in SPLITS:
            chosen = table[(table["split"] == split) & ((table["home"] == home) | (home == "all"))]
            counts = _label_matrix(chosen, classes).sum(axis=0).astype(int)
            rows.append(
                {
                    "home": home,
                    "split": split,
                    "sequences": len(chosen),
                    **dict(zip(classes, counts)),
                }
            )
    return pd.DataFrame(rows)
