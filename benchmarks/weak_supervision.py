"""Sequence labels alone (V_S) against chance, per backbone, on the project's own data on disk.

    python benchmarks/weak_supervision.py [--env base] [--homes Home1 Home2] [--seeds 0 1 2]

Trains the plain student at V_S (the run table's ``baseline`` run) per backbone, home and seed
(default: the environment's ``seeds``), with the environment's settings, on the stores a `kedro run`
left under the data root (cached features, masks, splits), and prints its frame-level and
sequence-level test mAP beside the chance levels: a random scorer's expected AP of a class is its
share of positives, so chance macro mAP is the mean share over the classes present. Beside the
frame-level figure, the frame-level mAP of a scorer that knows every test sequence's labels but not
when they happen (each frame scored with its sequence's labels): what sequence labels alone can
teach about frames without localising them; and the frame-level mAP of scoring each frame with the
model's own sequence prediction: what the model knows about the sequence, spread over its frames (a
frame figure above it is localisation). Each trained figure is the mean ± std (ddof=1, as Table 2)
over the seeds, the frame-level one also as a multiple of chance. Nothing is written to the catalog
(run folders go to a temporary directory).
"""
from __future__ import annotations

import argparse
import tempfile

import numpy as np
import pandas as pd
from on_disk import load_on_disk

from vicokd.metrics import mean_average_precision
from vicokd.models import BACKBONES
from vicokd.reporting.tables import SCORE_PREFIX, TARGET_PREFIX, evaluate_predictions
from vicokd.training.runs import TrainingJob, train_model


def chance_map(targets: np.ndarray) -> float:
    """Expected macro AP (percent) of random scores: the mean positive share of the present classes."""
    flat = targets.reshape(-1, targets.shape[-1]) > 0
    shares = flat.mean(axis=0)
    return 100.0 * float(shares[shares > 0].mean())


FIGURES = ("frame mAP", "own seq", "seq mAP")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default=None)
    parser.add_argument("--homes", nargs="+", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    args = parser.parse_args()
    on_disk = load_on_disk(args.env)
    params, sources, encoders = on_disk.params, on_disk.sources, on_disk.encoders
    run = params["runs"][params["baseline"]]
    supervision = params["supervision_levels"]["V_S"]
    homes = args.homes or params["ingestion"].homes
    seeds = args.seeds or params["seeds"]
    rows = []
    with tempfile.TemporaryDirectory() as runs:
        settings = params["training"].with_overrides({**run.training, "checkpoint_dir": runs,
                                                      "progress": False})
        for backbone in BACKBONES:
            model = params["model"].model_copy(update={"backbone": backbone})
            for home in homes:
                for seed in seeds:
                    job = TrainingJob(run, supervision, settings, model, home, seed, encoders)
                    predictions = train_model(sources, job).predictions
                    rows.append({"backbone": backbone, "home": home, "seed": seed,
                                 **score_against_references(predictions)})
                    print(" ".join(f"{key} {value:.1f}" if isinstance(value, float) else
                                   f"{key} {value}" for key, value in rows[-1].items()), flush=True)
    print(summarise(pd.DataFrame(rows)).to_string(float_format="%.1f"))


def score_against_references(predictions: pd.DataFrame) -> dict[str, float]:
    """One model's predictions → its test frame- and sequence-level mAP and the reference levels."""
    maps = evaluate_predictions({"model": predictions}, split="test").set_index("level")["map"]
    test = predictions[predictions["split"] == "test"]
    frames = test[test["level"] == "frame"]
    clips = test[test["level"] == "sequence"]
    return {"frame mAP": maps["frame"], "frame chance": chance_map(_targets(frames).to_numpy()),
            "timeless": timeless_map(frames), "own seq": own_sequence_map(frames, clips),
            "seq mAP": maps["sequence"], "seq chance": chance_map(_targets(clips).to_numpy())}


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per backbone and home: the trained figures' mean and ± std over seeds (ddof=1), the frame
    figure as a multiple of chance, and the seed-independent reference levels."""
    grouped = rows.groupby(["backbone", "home"], sort=False)
    summary = grouped[["frame chance", "timeless", "seq chance"]].first()
    means, stds = grouped[list(FIGURES)].mean(), grouped[list(FIGURES)].std()
    for figure in FIGURES:
        summary[figure], summary[f"{figure} ±"] = means[figure], stds[figure]
    summary["× chance"] = summary["frame mAP"] / summary["frame chance"]
    return summary[["frame mAP", "frame mAP ±", "× chance", "frame chance", "own seq", "own seq ±",
                    "timeless", "seq mAP", "seq mAP ±", "seq chance"]]


def timeless_map(frames: pd.DataFrame) -> float:
    """Frame-level macro mAP (percent) of scoring each frame row with its sequence's labels (the
    union of the sequence's frame targets): perfect sequence knowledge, no localisation in time."""
    targets = _targets(frames)
    sequence_labels = targets.groupby(frames["sequence_id"]).transform("max")
    return mean_average_precision(sequence_labels.to_numpy(), targets.to_numpy())


def own_sequence_map(frames: pd.DataFrame, sequences: pd.DataFrame) -> float:
    """Frame-level macro mAP (percent) of scoring each frame row with its model's sequence
    prediction (the ``sequence``-level row of the same ``sequence_id``): no localisation in time."""
    targets = _targets(frames)
    scores = [SCORE_PREFIX + c.removeprefix(TARGET_PREFIX) for c in targets.columns]  # same classes
    spread = sequences.set_index("sequence_id").loc[frames["sequence_id"], scores]
    return mean_average_precision(spread.to_numpy(), targets.to_numpy())


def _targets(rows: pd.DataFrame) -> pd.DataFrame:
    """The prediction table's target columns (``target.<class>``)."""
    return rows[[c for c in rows.columns if c.startswith(TARGET_PREFIX)]]


if __name__ == "__main__":
    main()
