"""Intervals on mAP and on differences of mAP: a two-level paired bootstrap over the test sequences
and the training seeds.

One replicate draws, per home, the home's test sequences with replacement (one index set shared by
every model and seed of that home: paired) and the seeds with replacement; a model's replicate mAP
at one seed is :func:`vicokd.metrics.mean_average_precision` of the drawn sequences (every frame of a
drawn sequence at frame level, a sequence drawn twice counted twice). A replicate of a mean is the
mean over the drawn seeds; of a difference ``A − B``, the mean over the drawn seeds ``s`` of
``mAP(A, s) − mAP(B, s)`` (A and B paired by seed, on the seeds both have). The interval is the
percentile interval of the replicates; the estimate beside it is the same statistic on the data as
they are (every sequence, every seed once). ``docs/reporting.md`` describes the procedure.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from vicokd.reporting import memo

#: Streams of the random generator of one home: the sequence draws and the seed draws.
_SEQUENCES, _SEEDS = 0, 1


class Model(NamedTuple):
    """One trained configuration: a run of the run table at one supervision level."""

    backbone: str
    run: str
    supervision: str


class Estimate(NamedTuple):
    """A statistic, its interval and the number of seeds behind it (NaN, NaN, NaN, 0: not on disk)."""

    value: float
    low: float
    high: float
    seeds: int


MISSING = Estimate(np.nan, np.nan, np.nan, 0)


def replicate_map(scores: np.ndarray, targets: np.ndarray, sequence: np.ndarray,
                  weights: np.ndarray) -> np.ndarray:
    """Macro AP (%) of every resampled set of rows at once.

    The rows are resampled by sequence: replicate ``r`` holds each row of sequence ``q``
    ``weights[r, q]`` times. Each replicate's value equals :func:`vicokd.metrics.mean_average_precision`
    on its rows repeated that way: AP per class over the classes with a positive in the replicate,
    rows of equal score forming one threshold.

    Args:
        scores: ``(N, C)`` scores of the rows.
        targets: ``(N, C)`` binary labels.
        sequence: ``(N,)`` index in ``[0, Q)`` of each row's sequence.
        weights: ``(R, Q)`` non-negative integer counts of each sequence in each replicate.

    Returns:
        ``(R,)`` macro AP in percent (NaN for a replicate without any positive).
    """
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(targets) > 0
    sequence = np.asarray(sequence)
    n_sequences = weights.shape[1]
    # Per class, at the tie groups that hold a positive (the only thresholds where recall moves),
    # per sequence: the rows ranked up to the group (``seen``) and the positives in it (``new``).
    # A replicate's counts are these times its weights; its positives so far (``found``) are the
    # running sum of ``new`` within the class. Arrays are (group, replicate).
    seen_blocks, new_blocks = [], []
    for c in np.flatnonzero(positive.any(axis=0)):
        order = np.argsort(-scores[:, c], kind="stable")
        ranked = scores[order, c]
        group = np.cumsum(np.r_[True, ranked[1:] != ranked[:-1]]) - 1
        shape = (group[-1] + 1, n_sequences)
        cell = group * n_sequences + sequence[order]
        rows = np.bincount(cell, minlength=shape[0] * shape[1]).reshape(shape)
        hits = np.bincount(cell, weights=positive[order, c], minlength=shape[0] * shape[1]).reshape(shape)
        keep = hits.sum(axis=1) > 0
        seen_blocks.append(rows.cumsum(axis=0)[keep])
        new_blocks.append(hits[keep])
    if not seen_blocks:
        return np.full(len(weights), np.nan)
    sizes = np.array([block.shape[0] for block in seen_blocks])
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    ends = starts + sizes
    counts = np.vstack(seen_blocks + new_blocks).astype(np.float64) @ np.asarray(weights, np.float64).T
    seen, new = counts[: sizes.sum()], counts[sizes.sum():]
    found = np.cumsum(new, axis=0)
    for start, end in zip(starts[::-1], ends[::-1]):  # running sums restart at each class
        if start:
            found[start:end] -= found[start - 1]
    total = found[ends - 1]  # every positive of a class is found by its last positive group
    np.maximum(seen, 1.0, out=seen)
    np.multiply(new, found, out=new)
    np.divide(new, seen, out=new)  # Δ true positives · precision, per group
    summed = np.add.reduceat(new, starts, axis=0)
    present = total > 0
    ap = np.where(present, summed / np.where(present, total, 1.0), 0.0)
    n_present = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_present > 0, 100.0 * ap.sum(axis=0) / n_present, np.nan)


def _stream(seed: int, home: str, kind: int, *more: int) -> np.random.Generator:
    """The generator of one home's draws of one kind (independent of the order of the homes)."""
    return np.random.default_rng([seed, zlib.crc32(home.encode()), kind, *more])


def resample_counts(n_items: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """``(replicates, n_items)``: how often each item is drawn when ``n_items`` items are drawn with
    replacement, once per replicate."""
    drawn = rng.integers(0, n_items, size=(replicates, n_items))
    counts = np.zeros((replicates, n_items), dtype=np.int64)
    np.add.at(counts, (np.arange(replicates)[:, None], drawn), 1)
    return counts


def sequence_counts(seed: int, home: str, n_sequences: int, replicates: int) -> np.ndarray:
    """``(replicates, n_sequences)``: the drawn test sequences of ``home`` (shared by every model)."""
    return resample_counts(n_sequences, replicates, _stream(seed, home, _SEQUENCES))


def seed_counts(seed: int, home: str, seeds: Iterable[int], replicates: int) -> np.ndarray:
    """``(replicates, len(seeds))``: the drawn training seeds, shared by every comparison of
    ``home`` on the same seeds."""
    seeds = tuple(seeds)
    return resample_counts(len(seeds), replicates, _stream(seed, home, _SEEDS, *seeds))


def percentile_interval(value: float, draws: np.ndarray, confidence: float, seeds: int) -> Estimate:
    """``value`` with the central ``confidence`` percentile interval of ``draws``."""
    if seeds == 0 or np.isnan(value) or np.isnan(draws).all():
        return MISSING
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.nanpercentile(draws, [tail, 100.0 - tail])
    return Estimate(float(value), float(low), float(high), seeds)


@dataclass
class SeedDraws:
    """One model in one home at one level: per seed the mAP on the data and on every replicate."""

    points: dict[int, float] = field(default_factory=dict)
    draws: dict[int, np.ndarray] = field(default_factory=dict)


class Replicates:
    """Replicate mAPs of every model, home, level and seed, and the intervals built from them."""

    def __init__(self, models: Mapping[tuple[Model, str, str], SeedDraws], sequences: Mapping[str, int],
                 replicates: int, confidence: float, seed: int):
        """``models``: ``(model, home, level) -> SeedDraws``; ``sequences``: test sequences per
        home; ``replicates``, ``confidence``, ``seed``: the bootstrap's settings."""
        self.models = dict(models)
        self.sequences = dict(sequences)
        self.replicates, self.confidence, self.seed = replicates, confidence, seed

    def _seed_counts(self, home: str, seeds: tuple[int, ...]) -> np.ndarray:
        return seed_counts(self.seed, home, seeds, self.replicates)

    def seeds(self, model: Model, home: str, level: str) -> list[int]:
        """The seeds of ``model`` on disk in ``home`` (empty when it did not run there)."""
        found = self.models.get((model, home, level))
        return sorted(found.points) if found else []

    def mean_draws(self, model: Model, home: str, level: str) -> tuple[float, np.ndarray, int]:
        """Mean mAP over seeds, its replicates ``(R,)`` and the number of seeds."""
        return self._contrast(((model, 1.0),), home, level)

    def difference_draws(self, a: Model, b: Model, home: str, level: str) -> tuple[float, np.ndarray, int]:
        """``mAP(a) − mAP(b)`` paired by seed (the seeds both have): estimate, replicates, seeds."""
        return self._contrast(((a, 1.0), (b, -1.0)), home, level)

    def _contrast(self, terms: tuple[tuple[Model, float], ...], home: str,
                  level: str) -> tuple[float, np.ndarray, int]:
        found = [self.models.get((model, home, level)) for model, _ in terms]
        if any(f is None for f in found):
            return np.nan, np.full(self.replicates, np.nan), 0
        seeds = tuple(sorted(set.intersection(*(set(f.points) for f in found))))
        if not seeds:
            return np.nan, np.full(self.replicates, np.nan), 0
        points = sum(sign * np.array([f.points[s] for s in seeds]) for f, (_, sign) in zip(found, terms))
        draws = sum(sign * np.stack([f.draws[s] for s in seeds], axis=1) for f, (_, sign) in zip(found, terms))
        counts = self._seed_counts(home, seeds)
        return float(points.mean()), (counts * draws).sum(axis=1) / len(seeds), len(seeds)

    def interval(self, value: float, draws: np.ndarray, seeds: int) -> Estimate:
        """:func:`percentile_interval` at the bootstrap's confidence."""
        return percentile_interval(value, draws, self.confidence, seeds)

    def mean(self, model: Model, home: str, level: str) -> Estimate:
        """Mean mAP over the seeds of ``model`` with its interval."""
        return self.interval(*self.mean_draws(model, home, level))

    def difference(self, a: Model, b: Model, home: str, level: str) -> Estimate:
        """``mAP(a) − mAP(b)`` with its interval."""
        return self.interval(*self.difference_draws(a, b, home, level))


def bootstrap(predictions: Mapping[str, pd.DataFrame], levels: Iterable[str], replicates: int,
              confidence: float, seed: int, split: str = "test",
              published: Mapping[str, Callable[[], pd.DataFrame]] | None = None,
              ) -> tuple[Replicates, dict[str, pd.DataFrame]]:
    """Replicate mAPs of every model of ``predictions`` (name → prediction table, the name used in
    errors; tables as :func:`vicokd.reporting.tables.evaluate_predictions` reads them) on
    ``split`` at each of ``levels``; a model's draws are read back from ``published`` (name →
    loader of :func:`model_draws`' table, :mod:`vicokd.reporting.memo`) when neither the model nor
    the bootstrap's settings and its home's sequences changed.

    Returns:
        The replicates and the draw tables computed here (name → table with its memo key).

    Raises:
        ValueError: a table does not cover every ``split`` sequence of its home that other tables
            have (paired resampling needs one set of sequences per home).
    """
    levels = list(levels)
    chosen = {name: rows for name, table in predictions.items()
              if not (rows := table[(table["split"] == split) & table["level"].isin(levels)]).empty}
    home_sequences: dict[str, set[str]] = {}
    for table in chosen.values():
        for home, rows in table.groupby("home"):
            home_sequences.setdefault(home, set()).update(rows["sequence_id"])
    index = {home: {sequence_id: i for i, sequence_id in enumerate(sorted(ids))}
             for home, ids in home_sequences.items()}
    weights = {home: np.vstack([np.ones(len(ids), dtype=np.int64),
                                sequence_counts(seed, home, len(ids), replicates)])
               for home, ids in index.items()}

    def key_of(table: pd.DataFrame) -> str | None:
        return memo.memo_key(table, split=split, levels=levels, replicates=replicates, seed=seed,
                             sequences={home: sorted(index[home]) for home in sorted(set(table["home"]))})

    def draws_of(name: str, table: pd.DataFrame) -> pd.DataFrame:
        return model_draws(name, table, index, weights, split)

    with threadpool_limits(limits=1, user_api="blas"):  # small products: threads cost more than they give
        draw_tables, computed = memo.reuse_or_compute(chosen, published or {}, key_of, draws_of,
                                                      "bootstrap replicates")
    models: dict[tuple[Model, str, str], SeedDraws] = {}
    for table in draw_tables.values():
        for row in table.itertuples(index=False):
            found = models.setdefault((Model(row.backbone, row.run, row.supervision), row.home, row.level),
                                      SeedDraws())
            found.points[int(row.seed)] = float(row.point)
            found.draws[int(row.seed)] = np.asarray(row.draws, np.float64)
    sequences = {home: len(ids) for home, ids in index.items()}
    return Replicates(models, sequences, replicates, confidence, seed), computed


#: Identity columns of a draw table row.
_DRAW_KEYS = ["backbone", "run", "supervision", "home", "seed", "level"]


def model_draws(name: str, table: pd.DataFrame, index: Mapping[str, Mapping[str, int]],
                weights: Mapping[str, np.ndarray], split: str) -> pd.DataFrame:
    """One model's mAP on the data (``point``) and on every replicate (``draws``, ``(R,)``), one
    row per :data:`_DRAW_KEYS` (level); ``index``: home → sequence id → position in ``weights``
    (home → ``(1 + R, n)`` sequence counts, the data's row first)."""
    rows = []
    for key, model_rows in table.groupby(_DRAW_KEYS, sort=False):
        values = _replicate_rows(name, key, model_rows, index[key[3]], weights[key[3]], split)
        rows.append(dict(zip(_DRAW_KEYS, key), point=float(values[0]), draws=values[1:]))
    return pd.DataFrame(rows, columns=[*_DRAW_KEYS, "point", "draws"])


def _replicate_rows(name: str, key: tuple, rows: pd.DataFrame, index: Mapping[str, int],
                    weights: np.ndarray, split: str) -> np.ndarray:
    """:func:`replicate_map` of one model's rows at one level (``key``: its identity and level),
    which must cover every sequence of ``index`` (the home's)."""
    absent = set(index) - set(rows["sequence_id"])
    if absent:
        _, run, supervision, home, model_seed, level = key
        raise ValueError(
            f"Prediction table {name}: {run} {supervision} {home} seed {model_seed} has no {level}-level "
            f"{split} rows for {len(absent)} of the {len(index)} {split} sequences other models of "
            f"{home} have (e.g. {sorted(absent)[:3]}): the predictions are of another split; retrain "
            "or remove them.")
    classes = [column.removeprefix("score.") for column in rows.columns
               if column.startswith("score.")]  # the table's own classes, in column order
    return replicate_map(rows[[f"score.{c}" for c in classes]].to_numpy(),
                         rows[[f"target.{c}" for c in classes]].to_numpy(),
                         rows["sequence_id"].map(index).to_numpy(), weights)
