"""The two-level paired bootstrap: the vectorised AP against the metric on the same rows, the
procedure against a computation by its definition, and cases decided by hand."""
import numpy as np
import pandas as pd
import pytest

from project_parameters import multisensor_home
from vicokd.metrics import mean_average_precision
from vicokd.reporting import intervals, tables
from vicokd.reporting.intervals import Model

HOME = "Home1"
CLASSES = multisensor_home().classes


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_replicate_map_equals_the_metric_on_the_resampled_rows_with_ties(seed):
    rng = np.random.default_rng(seed)
    n_sequences = 7
    rows_per_sequence = rng.integers(1, 5, n_sequences)  # frame level: several rows per sequence
    sequence = np.repeat(np.arange(n_sequences), rows_per_sequence)
    targets = (rng.random((len(sequence), 6)) < 0.3).astype(int)
    targets[:, 5] = 0  # a class without positives is left out
    scores = np.round(rng.random(targets.shape), 1)  # many ties
    weights = np.vstack([np.ones(n_sequences, int), intervals.resample_counts(n_sequences, 40, rng)])

    got = intervals.replicate_map(scores, targets, sequence, weights)

    for r, counts in enumerate(weights):
        rows = np.repeat(np.arange(len(sequence)), counts[sequence])  # a sequence drawn k times: k copies
        if targets[rows].any():
            assert got[r] == pytest.approx(mean_average_precision(scores[rows], targets[rows]), abs=1e-9)
        else:
            assert np.isnan(got[r])


def _table(run: str, seed: int, scores: np.ndarray, targets: np.ndarray, frames: int = 1,
           supervision: str = "V_F") -> pd.DataFrame:
    """A prediction table of one model: sequence ``q`` has ``frames`` rows at frame level (and one at
    sequence level) with the scores and targets of row ``q`` in the first classes."""
    rows = []
    for q, (score, target) in enumerate(zip(scores, targets)):
        for level, count in (("sequence", 1), ("frame", frames)):
            for f in range(count):
                row = {"backbone": "multitsf", "run": run, "supervision": supervision, "home": HOME,
                       "seed": seed, "model_version": f"{run}-{supervision}-{seed}", "level": level,
                       "split": "test", "sequence_id": f"{HOME}/01/{q:02d}",
                       "frame_index": f if level == "frame" else -1}
                row.update({f"score.{c}": 0.0 for c in CLASSES})
                row.update({f"target.{c}": 0 for c in CLASSES})
                shift = 0.01 * f if level == "frame" else 0.0  # frames of a sequence differ a little
                row.update({f"score.{c}": s + shift for c, s in zip(CLASSES, score)})
                row.update({f"target.{c}": int(t) for c, t in zip(CLASSES, target)})
                rows.append(row)
    return pd.DataFrame(rows)


def _bootstrap(tables_: dict, replicates: int = 2000) -> intervals.Replicates:
    return intervals.bootstrap(tables_, tables.TABLE_LEVELS, replicates, 0.95, seed=7)[0]


def _arrays(table: pd.DataFrame, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, targets and sequence index of one level's rows."""
    rows = table[table["level"] == level]
    return (rows[[f"score.{c}" for c in CLASSES]].to_numpy(), rows[[f"target.{c}" for c in CLASSES]].to_numpy(),
            rows["sequence_id"].str[-2:].astype(int).to_numpy())


def _map(table: pd.DataFrame, level: str, counts: np.ndarray | None = None) -> float:
    """The metric on one level's rows, each sequence repeated ``counts[q]`` times (default once)."""
    scores, targets, index = _arrays(table, level)
    repeat = np.repeat(np.arange(len(index)), counts[index] if counts is not None else 1)
    return mean_average_precision(scores[repeat], targets[repeat])


def test_procedure_matches_its_definition_on_a_tiny_table():
    rng = np.random.default_rng(3)
    n, seeds = 5, (0, 1)
    targets = (rng.random((n, 3)) < 0.5).astype(int)
    targets[0] = 1  # every resample has a positive
    predictions = {(run, s): _table(run, s, np.round(rng.random((n, 3)), 1), targets, frames=2)
                   for run in ("a", "b") for s in seeds}
    replicates = _bootstrap({f"{run}/{s}": t for (run, s), t in predictions.items()}, replicates=60)

    # by the definition: per replicate one draw of the sequences (shared by both models and every
    # seed) and one of the seeds; Δ* = mean over the drawn seeds of mAP(a) − mAP(b)
    sequence_draws = intervals.sequence_counts(7, HOME, n, 60)
    seed_draws = intervals.seed_counts(7, HOME, seeds, 60)
    assert (sequence_draws.sum(axis=1) == n).all() and (seed_draws.sum(axis=1) == len(seeds)).all()
    for level in ("sequence", "frame"):  # frame level: whole sequences (two rows each) are drawn
        arrays = {key: _arrays(table, level) for key, table in predictions.items()}

        def resampled(key, counts, arrays=arrays):
            scores, targets, index = arrays[key]
            repeat = np.repeat(np.arange(len(index)), counts[index])
            return mean_average_precision(scores[repeat], targets[repeat])

        draws = [np.dot(drawn_seeds, [resampled(("a", s), counts) - resampled(("b", s), counts)
                                      for s in seeds]) / len(seeds)
                 for counts, drawn_seeds in zip(sequence_draws, seed_draws)]
        point = np.mean([_map(predictions["a", s], level) - _map(predictions["b", s], level) for s in seeds])
        low, high = np.percentile(draws, [2.5, 97.5])
        got = replicates.difference(Model("multitsf", "a", "V_F"), Model("multitsf", "b", "V_F"), HOME, level)
        assert got == pytest.approx((point, low, high, 2))


# Ten sequences, one class: positives are sequences 0-4. A perfect ranking scores AP 100 on any
# resample with a positive; the inverted one scores less whenever a negative is drawn too.
TARGETS = np.array([[1]] * 5 + [[0]] * 5)
PERFECT = TARGETS * 0.8 + 0.1
INVERTED = 1.0 - PERFECT


def test_a_model_better_on_every_seed_has_an_interval_above_zero():
    predictions = {f"{run}/{s}": _table(run, s, scores, TARGETS)
                   for s in (0, 1, 2) for run, scores in (("a", PERFECT), ("b", INVERTED))}
    estimate = _bootstrap(predictions).difference(Model("multitsf", "a", "V_F"),
                                                  Model("multitsf", "b", "V_F"), HOME, "sequence")
    # every replicate with a positive and a negative (all but ~0.2 % of them) has Δ > 0
    assert estimate.value > 0 and estimate.low > 0 and estimate.seeds == 3


def test_models_that_swap_places_between_seeds_have_an_interval_around_zero():
    # seed 0: a perfect, b inverted; seed 1: the reverse. Δ* = (c0 − c1)·d/2 with the seed counts
    # (c0, c1) = (2, 0), (1, 1), (0, 2) drawn with probability 1/4, 1/2, 1/4: both tails reach ±d.
    predictions = {"a/0": _table("a", 0, PERFECT, TARGETS), "b/0": _table("b", 0, INVERTED, TARGETS),
                   "a/1": _table("a", 1, INVERTED, TARGETS), "b/1": _table("b", 1, PERFECT, TARGETS)}
    estimate = _bootstrap(predictions).difference(Model("multitsf", "a", "V_F"),
                                                  Model("multitsf", "b", "V_F"), HOME, "sequence")
    assert estimate.value == pytest.approx(0.0)
    assert estimate.low < -10 and estimate.high > 10


def test_identical_models_give_exactly_zero_and_the_mean_is_the_mean_over_seeds():
    rng = np.random.default_rng(0)
    targets = (rng.random((8, 4)) < 0.4).astype(int)
    targets[0] = 1
    scores = {s: rng.random((8, 4)) for s in (0, 1)}
    predictions = {f"{run}/{s}": _table(run, s, scores[s], targets, frames=3)
                   for run in ("a", "b") for s in (0, 1)}
    replicates = _bootstrap(predictions)
    a, b = Model("multitsf", "a", "V_F"), Model("multitsf", "b", "V_F")
    for level in ("sequence", "frame"):
        assert replicates.difference(a, b, HOME, level)[:3] == (0.0, 0.0, 0.0)
        mean = replicates.mean(a, HOME, level)
        assert mean.value == pytest.approx(np.mean([_map(predictions[f"a/{s}"], level) for s in (0, 1)]))
        assert mean.low <= mean.high and mean.seeds == 2


def test_missing_models_and_seeds_pair_on_the_seeds_both_have():
    predictions = {"a/0": _table("a", 0, PERFECT, TARGETS), "a/1": _table("a", 1, PERFECT, TARGETS),
                   "b/1": _table("b", 1, INVERTED, TARGETS)}
    replicates = _bootstrap(predictions, replicates=50)
    a, b = Model("multitsf", "a", "V_F"), Model("multitsf", "b", "V_F")
    assert replicates.seeds(a, HOME, "sequence") == [0, 1]
    difference = replicates.difference(a, b, HOME, "sequence")
    expected = 100.0 - mean_average_precision(INVERTED, TARGETS)  # seed 1 only
    assert difference.seeds == 1 and difference.value == pytest.approx(expected)
    assert replicates.difference(a, Model("multitsf", "absent", "V_F"), HOME, "sequence") == intervals.MISSING
    assert replicates.mean(a, "Home2", "sequence") == intervals.MISSING


def test_a_table_without_every_test_sequence_is_named():
    short = _table("b", 0, INVERTED, TARGETS)
    short = short[short["sequence_id"] != f"{HOME}/01/09"]
    with pytest.raises(ValueError, match=r"b_table: b V_F Home1 seed 0 .* 1 of the 10 test sequences"):
        _bootstrap({"a_table": _table("a", 0, PERFECT, TARGETS), "b_table": short}, replicates=10)


def test_draws_read_back_give_the_same_intervals_and_a_changed_bootstrap_draws_again(monkeypatch):
    predictions = {f"{run}/{s}": _table(run, s, scores, TARGETS)
                   for s in (0, 1) for run, scores in (("a", PERFECT), ("b", INVERTED))}
    first, saved = intervals.bootstrap(predictions, tables.TABLE_LEVELS, 100, 0.95, seed=7)
    assert saved.keys() == predictions.keys()
    published = {name: (lambda table=table: table) for name, table in saved.items()}
    drawn = []
    real = intervals.model_draws
    monkeypatch.setattr(intervals, "model_draws", lambda name, *args: drawn.append(name) or real(name, *args))

    again, saved_again = intervals.bootstrap(predictions, tables.TABLE_LEVELS, 100, 0.95, 7,
                                             published=published)
    assert drawn == [] and saved_again == {}
    a, b = Model("multitsf", "a", "V_F"), Model("multitsf", "b", "V_F")
    for level in tables.TABLE_LEVELS:
        assert again.difference(a, b, HOME, level) == first.difference(a, b, HOME, level)
        assert again.mean(a, HOME, level) == first.mean(a, HOME, level)
    intervals.bootstrap(predictions, tables.TABLE_LEVELS, 100, 0.95, 8, published=published)
    assert sorted(drawn) == sorted(predictions)  # another generator seed: every model drawn again
