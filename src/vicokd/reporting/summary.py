"""The run summary: what ran, with which settings, on which machine, and links to every report."""
from __future__ import annotations

import os
import platform
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd


def machine_info() -> dict[str, Any]:
    """Platform, Python, CPU count, torch version and the accelerator torch sees."""
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "device": device,
    }


def dataset_statistics(sequences: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """Sequences, 2.5-FPS frames, hours and label occurrences per home and split.

    Args:
        sequences: the ``sequences`` table (``sequence_id, home, n_frames, duration, labels``).
        splits: the ``splits`` table (``sequence_id, home, split``).

    Returns:
        Rows ``home, split, sequences, frames, hours, labels`` (labels = sequence-level label count).
    """
    missing = {"sequence_id", "n_frames", "duration", "labels"} - set(sequences.columns)
    if missing:
        raise ValueError(f"The sequences table lacks the columns {sorted(missing)}.")
    joined = splits[["sequence_id", "home", "split"]].merge(
        sequences[["sequence_id", "n_frames", "duration", "labels"]], on="sequence_id", how="left",
        validate="one_to_one",
    )
    unknown = joined.loc[joined["n_frames"].isna(), "sequence_id"].tolist()
    if unknown:
        raise ValueError(f"The splits table names sequences missing from the sequences table: {unknown[:5]}")
    joined["n_labels"] = joined["labels"].map(len)
    order = {"train": 0, "val": 1, "test": 2}
    table = (
        joined.groupby(["home", "split"])
        .agg(sequences=("sequence_id", "size"), frames=("n_frames", "sum"),
             hours=("duration", lambda d: d.sum() / 3600.0), labels=("n_labels", "sum"))
        .reset_index()
    )
    table = table.assign(_order=table["split"].map(order)).sort_values(["home", "_order"])
    return table.drop(columns="_order").reset_index(drop=True)


def _bullet_block(values: Mapping[str, Any]) -> list[str]:
    return [f"- **{key}**: {value}" for key, value in values.items()]


def render_summary(
    sections: Mapping[str, str],
    settings: Mapping[str, Any],
    machine: Mapping[str, Any],
    runs: pd.DataFrame,
    links: Mapping[str, str],
    generated: datetime | None = None,
) -> str:
    """``summary.md``: what ran and how, the main results and links to every table and plot.

    Args:
        sections: title → markdown body placed after the settings (e.g. Table 1, timings, masks).
        settings: the settings that shaped the runs (backbone, T, image size, epochs, seeds, ...).
        machine: :func:`machine_info`.
        runs: the metrics table (:func:`vicokd.reporting.tables.evaluate_predictions`), for the list of
            models that ran.
        links: report title → file name relative to the summary.
        generated: timestamp to print (default: now, UTC).
    """
    stamp = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# ViCoKD run summary", "", f"Generated {stamp} from the predictions and histories on disk.", ""]
    lines += ["## Settings", "", *_bullet_block(settings), ""]
    lines += ["## Machine", "", *_bullet_block(machine), ""]
    models = runs.drop_duplicates(["run", "supervision", "home", "seed"]) if not runs.empty else runs
    lines += ["## What ran", ""]
    if models.empty:
        lines += ["_No model predictions were found._", ""]
    else:
        for (backbone, home), group in models.groupby(["backbone", "home"]):
            names = ", ".join(f"{m} {s}" for m, s in dict.fromkeys(zip(group["label"], group["supervision"])))
            seeds = ", ".join(str(seed) for seed in sorted(group["seed"].unique()))
            lines.append(f"- **{home}**, backbone {backbone}, seeds {seeds}: {names}")
        lines.append("")
    for title, body in sections.items():
        lines += [f"## {title}", "", body.strip(), ""]
    lines += ["## Reports", "", *(f"- [{title}]({path})" for title, path in links.items()), ""]
    return "\n".join(lines)


def training_summary(histories: pd.DataFrame) -> pd.DataFrame:
    """One row per trained model: epochs run, the epoch with the best validation sequence-level mAP
    (never chosen on test), its val/test mAPs, the training seconds, and — labelled optimistic, never
    our result — the test sequence-level mAP of the best *test* epoch (the authors' code selects
    that way: the reference protocol); then the selected epoch's loss terms (``loss.*``, unweighted)
    and view-consistency diagnostics (``vc.*``), the sizes that explain what each term could do.

    Args:
        histories: the per-epoch histories of every model, with their identity columns (``run``,
            ``label``, ``supervision``, ``home``, ``seed``, …) and ``epoch``, ``seconds``, ``val_map``,
            ``test_map``, ``val_seq_map``, ``test_seq_map``.
    """
    keys = ["run", "label", "group", "teacher", "supervision", "home", "seed", "model_version"]
    rows = []
    for key, runs in histories.groupby(keys, sort=False, dropna=False):
        best = runs.loc[runs["val_seq_map"].fillna(-1.0).idxmax()]
        rows.append({
            **dict(zip(keys, key)), "epochs": int(runs["epoch"].max()),
            "best_epoch": int(best["epoch"]), "seconds": float(runs["seconds"].sum()),
            **{k: float(best[k]) for k in ("val_seq_map", "test_seq_map", "val_map", "test_map")},
            "test_seq_map_best_test_epoch_optimistic": float(runs["test_seq_map"].max()),
            **{column: float(best[column]) for column in runs.columns
               if column.startswith(("loss.", "vc.")) and pd.notna(best[column])},
        })
    return pd.DataFrame(rows)


def teacher_check(training_summary: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """The teacher against the plain student (``baseline``) on validation, before distilling: per
    home, seed and supervision, both models' validation sequence-level mAP at their selected epochs
    and the teacher's margin (negative: distillation starts from a teacher that is not better).
    ``training_summary``: :func:`training_summary`."""
    students = training_summary[training_summary["run"] == baseline]
    teachers = training_summary.set_index(["run", "home", "seed"])["val_seq_map"]
    rows = [{"home": row.home, "seed": row.seed, "supervision": row.supervision,
             "teacher": row.teacher, "teacher val mAP": teachers.get((row.teacher, row.home, row.seed)),
             "student val mAP": row.val_seq_map}
            for row in students.itertuples()]
    table = pd.DataFrame(rows, columns=["home", "seed", "supervision", "teacher", "teacher val mAP",
                                        "student val mAP"])
    return table.assign(margin=table["teacher val mAP"] - table["student val mAP"])


def inventory(datasets: Mapping[str, Mapping[str, Any]], homes: Mapping[str, Sequence[str]],
              seeds: Sequence[int]) -> pd.DataFrame:
    """``dataset, partition, present`` for every ``<home>/seed<k>`` expected in every dataset
    (partitioned outputs of the runs, ``homes``: dataset -> the homes its run is trained in;
    partitions beyond the expected ones are listed too)."""
    rows = []
    for name, partitions in datasets.items():
        expected = [f"{home}/seed{seed}" for home in homes[name] for seed in seeds]
        for key in [*expected, *sorted(set(partitions) - set(expected))]:
            rows.append({"dataset": name, "partition": key, "present": key in partitions})
    return pd.DataFrame(rows, columns=["dataset", "partition", "present"])


def missing_models(inventory: pd.DataFrame) -> str:
    """A markdown list of what the inventory expects but is not on disk (or a sentence saying
    everything is there)."""
    missing = inventory[~inventory["present"]]
    if missing.empty:
        return "Every run of the run table has predictions for every home and seed."
    lines = [(f"{len(missing)} expected predictions are not on disk (train them, e.g. "
              "`kedro run --pipelines distill --namespaces <run>`):"), ""]
    for name, rows in missing.groupby("dataset", sort=False):
        lines.append(f"- `{name}`: {', '.join(rows['partition'])}")
    return "\n".join(lines)


def check_published_together(predictions: pd.DataFrame,
                             history_versions: Mapping[tuple[str, str, str, int], str], source: str) -> None:
    """Raise ``ValueError`` unless the model whose ``predictions`` these are has a history with the
    same ``model_version`` (``history_versions``: ``(run, supervision, home, seed) -> version``);
    ``source`` names the predictions in the message."""
    first = predictions.iloc[0]
    key = (first["run"], first["supervision"], first["home"], int(first["seed"]))
    found = history_versions.get(key)
    if found != first["model_version"]:
        raise ValueError(
            f"{source}: the predictions are of model version {first['model_version']}, its history "
            f"{'is missing' if found is None else f'of version {found}'}: the run's outputs were not "
            f"published together (interrupted?). Retrain it: kedro run --pipelines training "
            f"--namespaces {first['run']} --params \"ingestion.homes=[{first['home']}]\"")
