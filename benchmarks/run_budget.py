"""Which sizes of the default run fit a time budget, and how wide Table 1's intervals would be:
a finished run's stage times scaled to other sizes (docs/performance.md, "The 20-minute budget
against Table 1's evidence target").

    python benchmarks/run_budget.py [data/08_reporting] --variance 7.6 16.8 3.0 --reference-test 111
        [--budget 1200] [--sequences 120 180 240 300] [--seeds 2 4 8] [--test-shares 0.3 0.55]
        [--val-shares 0.15 0.25]

For every size (sequences per evaluated home × seeds × test share × validation share of the
rest; the other settings of the environment) the splits are planned as a run makes them (the
simulator's scripts, no video; the project's stratification, which splits every home, the
pretraining home too) and printed with:
- the predicted seconds of `kedro run`: each stage of the finished run's ``run_timing.csv`` scaled
  by what it grows with (simulation, ingestion, person scoring: every simulated sequence;
  features: the evaluated homes' sequences; detector training: the sequences outside test;
  pretraining: the pretraining homes' training sequences; reporting: as measured; training: in
  three parts, ``--training-shares`` of the finished run's training time growing with the seeds
  (building and starting each model), the seeds × a home's validation sequences (every epoch's
  evaluation) and the seeds × its training sequences (the steps). 0.22 / 0.16 / 0.62 were fitted
  (2026-12-04, one machine instance) to four runs' training per seed, 31.2 s + 0.68 s per
  validation + 0.52 s per training sequence of a home (misses 1.7–3.5 s of 92–143 s): the
  300-sequence default (training / validation sequences per home 174.5 / 33.5), 280 × 4 with test
  share 0.55 (107.5 / 20.5), 240 × 4 with 0.55 and validation share 0.35 (72 / 39) and 240 × 8
  with validation share 0.35 (103.5 / 61);
- the median 95 % half-width of Table 1's Δ(method − plain student) from benchmarks/
  interval_width.py's variance model (``--variance M I S`` as it printed them, fitted on a run
  with ``--reference-test`` test sequences in the evaluated homes);
- the fewest positive validation sequences of a class in an evaluated home.
A size fits when it is within ``--budget``, at most ``--target`` wide and has at least
``--min-positives`` validation sequences per class.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from interval_width import predict
from model_cost import environment_parameters

from vicokd.data.description import DatasetDescription
from vicokd.data.splitting import split_class_counts, split_sequences
from vicokd.simulation.generate import SimulationParameters
from vicokd.simulation.planning import planned_sequences

#: What each stage's time grows with (a quantity of :meth:`Size.count`; None: fixed); training
#: in :data:`TRAINING_PARTS`.
GROWS_WITH = {"simulation": "simulated", "ingestion": "simulated", "person scoring": "simulated",
              "features": "evaluated", "detector training": "outside_test",
              "pretraining": "pretraining_train", "reporting": None}
#: What training's three parts grow with (``--training-shares``: per model, evaluation, steps).
TRAINING_PARTS = ("seeds", "seed_val_sequences", "seed_sequences")


@dataclasses.dataclass(frozen=True)
class Size:
    """A run's size and its split counts."""

    sequences: int  # per evaluated home
    seeds: int
    test_share: float
    val_share: float  # of each home's sequences outside test
    counts: pd.DataFrame  # home, split -> sequences
    min_val_positives: int  # fewest positive validation sequences of a class in an evaluated home
    evaluated: tuple[str, ...]

    def count(self, what: str) -> float:
        """The quantity a stage's time grows with (:data:`GROWS_WITH`)."""
        c, own = self.counts, self.counts["home"].isin(self.evaluated)
        if what == "seeds":
            return float(self.seeds)
        if what == "simulated":
            return float(c["sequences"].sum())
        if what == "evaluated":
            return float(c.loc[own, "sequences"].sum())
        if what == "outside_test":
            return float(c.loc[c["split"] != "test", "sequences"].sum())
        if what == "pretraining_train":
            return float(c.loc[~own & (c["split"] == "train"), "sequences"].sum())
        if what in ("seed_sequences", "seed_val_sequences"):
            split = "train" if what == "seed_sequences" else "val"
            return self.seeds * float(c.loc[own & (c["split"] == split), "sequences"].mean())
        raise ValueError(f"unknown quantity {what!r}")

    def test_sequences(self) -> int:
        c = self.counts
        return int(c.loc[c["home"].isin(self.evaluated) & (c["split"] == "test"), "sequences"].sum())


def per_home(counts: pd.DataFrame) -> pd.DataFrame:
    """``home, split, sequences`` of a :func:`~vicokd.data.splitting.split_class_counts` table,
    without its rows over all homes."""
    return counts.loc[counts["home"] != "all", ["home", "split", "sequences"]].reset_index(drop=True)


def plan(params: dict, sequences: int, seeds: int, test_share: float, val_share: float,
         folder: Path) -> Size:
    """The split counts of a run with ``sequences`` per evaluated home (the extra homes at
    their own count), ``seeds``, ``test_share`` and ``val_share``, made as the run would make them."""
    evaluated, extra = params["ingestion"]["homes"], params["simulation"]["extra_homes"]
    settings = SimulationParameters.model_validate(
        {**params["simulation"], "sequences_per_home": sequences}).settings
    dataset = DatasetDescription.model_validate(params["dataset"])
    seed = params["seed"]
    where = Path(tempfile.mkdtemp(dir=folder))
    table = pd.concat([planned_sequences(where, home, settings.sequences_of(home, extra), settings,
                                         seed, dataset) for home in [*evaluated, *extra]],
                      ignore_index=True)
    splits = split_sequences(table, test_share, val_share, seed,
                             use_dataset_splits=False, classes=dataset.classes)
    counts = split_class_counts(table, splits, dataset.classes)
    validation = counts[counts["home"].isin(evaluated) & (counts["split"] == "val")]
    fewest = int(validation[list(dataset.classes)].to_numpy().min())
    return Size(sequences, seeds, test_share, val_share, per_home(counts), fewest, tuple(evaluated))


def measured_size(reports: Path, params: dict) -> Size:
    """The finished run's size, from its ``split_class_counts.csv`` and ``training_summary.csv``."""
    counts = per_home(pd.read_csv(reports / "split_class_counts.csv"))
    seeds = pd.read_csv(reports / "training_summary.csv")["seed"].nunique()
    evaluated = tuple(params["ingestion"]["homes"])
    own = counts[counts["home"].isin(evaluated)]
    test = own.loc[own["split"] == "test", "sequences"].sum()
    val = own.loc[own["split"] == "val", "sequences"].sum()
    sequences = int(own["sequences"].sum() / len(evaluated))
    return Size(sequences, seeds, round(float(test / own["sequences"].sum()), 2),
                round(float(val / (own["sequences"].sum() - test)), 2), counts, -1, evaluated)


def predicted_seconds(timing: pd.DataFrame, measured: Size, size: Size,
                      training_shares: Sequence[float]) -> float:
    """``kedro run``'s seconds at ``size``: each measured stage scaled by :data:`GROWS_WITH`,
    training's ``training_shares`` by :data:`TRAINING_PARTS`."""

    def ratio(what: str | None) -> float:
        return 1.0 if what is None else size.count(what) / measured.count(what)

    total = 0.0
    for stage, seconds in zip(timing["stage"], timing["seconds"]):
        if stage == "training":
            total += seconds * sum(share * ratio(part)
                                   for share, part in zip(training_shares, TRAINING_PARTS))
        elif stage != "total":
            total += seconds * ratio(GROWS_WITH[stage])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="?", default="data/08_reporting", type=Path,
                        help="a finished run's reports (run_timing.csv, split_class_counts.csv, "
                             "training_summary.csv)")
    parser.add_argument("--env", default="base")
    parser.add_argument("--variance", nargs=3, type=float, required=True, metavar=("M", "I", "S"))
    parser.add_argument("--reference-test", type=int, required=True,
                        help="test sequences of the evaluated homes in the run the variance was fitted on")
    parser.add_argument("--budget", type=float, default=1200.0, help="seconds of `kedro run`")
    parser.add_argument("--target", type=float, default=2.5, help="median half-width, mAP points")
    parser.add_argument("--min-positives", type=int, default=3)
    parser.add_argument("--sequences", nargs="+", type=int, default=[120, 180, 240, 300])
    parser.add_argument("--seeds", nargs="+", type=int, default=[2, 4, 8])
    parser.add_argument("--test-shares", nargs="+", type=float, default=[0.3, 0.45, 0.55])
    parser.add_argument("--val-shares", nargs="+", type=float, default=None,
                        help="validation shares of the rest (default: the environment's)")
    parser.add_argument("--training-shares", nargs=3, type=float, default=[0.22, 0.16, 0.62],
                        metavar=("MODELS", "VALIDATION", "STEPS"),
                        help="shares of training growing with seeds, seeds × validation and seeds × "
                             "training sequences")
    args = parser.parse_args()
    params = environment_parameters(args.env)
    timing = pd.read_csv(args.reports / "run_timing.csv")
    measured = measured_size(args.reports, params)
    print(f"measured: {measured.sequences} sequences per home, {measured.seeds} seeds, test share "
          f"{measured.test_share}, val share {measured.val_share}: {timing.loc[timing['stage'] == 'total', 'seconds'].iloc[0]:.0f} s")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        val_shares = args.val_shares or [params["stratification"]["val_size"]]
        for sequences, share, val in itertools.product(args.sequences, args.test_shares, val_shares):
            planned = plan(params, sequences, 1, share, val, Path(folder))
            for seeds in args.seeds:
                size = dataclasses.replace(planned, seeds=seeds)
                seconds = predicted_seconds(timing, measured, size, args.training_shares)
                width = predict(args.variance, size.test_sequences() / args.reference_test, seeds)
                fits = (seconds <= args.budget and width <= args.target
                        and size.min_val_positives >= args.min_positives)
                rows.append({"sequences": sequences, "test share": share, "val share": val,
                             "seeds": seeds,
                             "train / home": size.count("seed_sequences") / seeds,
                             "test (evaluated)": size.test_sequences(),
                             "min val positives": size.min_val_positives,
                             "seconds": round(seconds), "half-width": round(width, 2),
                             "fits": "yes" if fits else ""})
    table = pd.DataFrame(rows).sort_values(["seconds"])
    print(table.to_string(index=False))
    within = table[table["seconds"] <= args.budget]
    if within.empty:
        print(f"no size within {args.budget:.0f} s")
    else:
        best = within.sort_values("half-width").iloc[0]
        print(f"narrowest within {args.budget:.0f} s: {best['sequences']} sequences, {best['seeds']} "
              f"seeds, test share {best['test share']}, val share {best['val share']}: half-width "
              f"{best['half-width']}, "
              f"{best['min val positives']} val positives at least")


if __name__ == "__main__":
    main()
