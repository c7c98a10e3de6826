"""How far training length moves the models, on the validation split, on the data of a finished run.

    python benchmarks/training_length.py [--env base] [--runs student cokd] [--epochs 15 30]
    python benchmarks/training_length.py --runs teacher --epochs 25 40

Trains each run of the run table (``--runs``) at each of its supervision levels for every number
of ``--epochs`` (the cosine schedule spans them), every home and seed of the environment, with the
environment's other settings, on the stores a `kedro run` left under the data root (cached
features, masks, splits, encoders; a distilling run reads the teacher checkpoints on disk). For
each run, supervision, length and home it prints the mean over seeds of the selected epoch (best
validation sequence-level mAP), that validation figure (± std over seeds) — what a choice of
length may be made on — and, for information only, the test sequence- and frame-level mAP of the
selected epoch. Nothing is written to the catalog (run folders go to a temporary directory).
"""
from __future__ import annotations

import argparse
import tempfile

import pandas as pd
from on_disk import OnDisk, load_on_disk

from vicokd.pipelines.training.pipeline import teacher_models
from vicokd.reporting.tables import evaluate_predictions
from vicokd.training.run_table import RunSpec
from vicokd.training.runs import train_run

COLUMNS = ("best epoch", "val seq mAP", "± std", "test seq mAP", "test frame mAP")


def train_for(on_disk: OnDisk, run: RunSpec, supervision: str, epochs: int,
              checkpoint_dir: str) -> pd.DataFrame:
    """One row per home and seed: the selected epoch, its validation sequence-level mAP and its
    test mAP at both levels, for ``run`` trained ``epochs`` epochs."""
    params = on_disk.params
    run = run.model_copy(update={"training": {**run.training, "epochs": epochs}})
    settings = params["training"].with_overrides({"checkpoint_dir": checkpoint_dir, "progress": False,
                                                  "resume": False})
    teacher = on_disk.catalog.load(teacher_models(run, params["runs"])) if run.distils else None
    _, histories, predictions = train_run(
        on_disk.sources, run, params["supervision_levels"][supervision], settings, params["model"],
        params["ingestion"].homes, params["seeds"], on_disk.encoders, teacher)
    rows = []
    for key, history in histories.items():
        best = history.loc[history["val_seq_map"].idxmax()]
        test = evaluate_predictions({key: predictions[key]}, split="test").set_index("level")["map"]
        rows.append({"home": best["home"], "best epoch": best["epoch"],
                     "val seq mAP": best["val_seq_map"], "test seq mAP": test["sequence"],
                     "test frame mAP": test["frame"]})
    return pd.DataFrame(rows)


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per home, and the validation figure's std over seeds (ddof=1, as Table 2)."""
    grouped = rows.groupby("home")
    summary = grouped[["best epoch", "val seq mAP", "test seq mAP", "test frame mAP"]].mean()
    summary["± std"] = grouped["val seq mAP"].std()
    return summary[list(COLUMNS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default=None)
    parser.add_argument("--runs", nargs="+", default=None,
                        help="runs of the run table (default: the plain student)")
    parser.add_argument("--epochs", nargs="+", type=int, default=[15, 30])
    args = parser.parse_args()
    on_disk = load_on_disk(args.env)
    runs = on_disk.params["runs"]
    names = args.runs or [on_disk.params["baseline"]]
    unknown = sorted(set(names) - set(runs))
    if unknown:
        parser.error(f"unknown run(s) {unknown}: the run table has {sorted(runs)}")
    print(f"{'run':<10} {'sup':<5} {'epochs':>6} {'home':<6} " + " ".join(f"{c:>14}" for c in COLUMNS))
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        for name in names:
            for supervision in runs[name].supervisions:
                for epochs in args.epochs:
                    rows = train_for(on_disk, runs[name], supervision, epochs,
                                     f"{checkpoint_dir}/{epochs}")
                    for home, row in summarise(rows).iterrows():
                        print(f"{name:<10} {supervision:<5} {epochs:>6} {home:<6} "
                              + " ".join(f"{value:14.1f}" for value in row), flush=True)


if __name__ == "__main__":
    main()
