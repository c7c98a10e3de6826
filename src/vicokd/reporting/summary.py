"""The run summary: a headline, what ran, with which settings, on which machine and code, what is
missing, and links to every report (the per-model figures stay in the CSV files)."""
from __future__ import annotations

import math
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from vicokd.reporting.claims import VERDICTS
from vicokd.reporting.intervals import Model, Replicates
from vicokd.reporting.tables import format_estimate
from vicokd.training.run_names import partition_key


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


def code_version(folder: Path = Path(__file__).parent) -> str:
    """The git commit of the code in ``folder`` (12 hex digits, ``+changes`` when tracked files
    differ from it), or ``unknown`` outside a git checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()
    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+changes" if changed else "")


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


def render_summary(headline: str, record: Mapping[str, Any], settings: Mapping[str, Any],
                   sections: Mapping[str, str], links: Mapping[str, str]) -> str:
    """``summary.md``: the headline first, then where it comes from, the settings, ``sections``
    (title → markdown body) and one line of links.

    Args:
        headline: one line (the claims' verdict counts, the best student against the teacher).
        record: ``generated`` (ISO time), ``commit`` and ``machine`` (:func:`machine_info`).
        settings: the settings that shaped the runs, shown as ``key value`` pairs.
        links: report title → file name relative to the summary.
    """
    machine = record["machine"]
    generated = datetime.fromisoformat(record["generated"]).strftime("%Y-%m-%d %H:%M UTC")
    origin = (f"Generated {generated} by commit `{record['commit']}` on {machine['platform']} "
              f"({machine['cpu_count']} CPUs, {machine['device']}, Python {machine['python']}, torch "
              f"{machine['torch']}), from the predictions and histories on disk.")
    shown = "; ".join(f"{key} {value}" for key, value in settings.items())
    lines = ["# ViCoKD run summary", "", headline, "", origin, "", f"**Settings**: {shown}.", ""]
    for title, body in sections.items():
        lines += [f"## {title}", "", body.strip(), ""]
    lines += ["## Reports", "", " · ".join(f"[{title}]({path})" for title, path in links.items()), ""]
    return "\n".join(lines)


def training_summary(histories: pd.DataFrame) -> pd.DataFrame:
    """One row per trained model: epochs run, the epoch with the best validation sequence-level mAP
    (never chosen on test), its val/test mAPs, the training seconds, and — labelled optimistic, never
    our result — the test sequence-level mAP of the best *test* epoch (the authors' code selects
    that way: the reference protocol; NaN unless every epoch was scored on test); then the selected epoch's loss terms (``loss.*``, unweighted),
    view-consistency diagnostics (``vc.*``) and the terms' gradient norms (``grad.*``), the sizes
    that explain what each term could do.

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
            "test_seq_map_best_test_epoch_optimistic": (float(runs["test_seq_map"].max())
                                                         if runs["test_seq_map"].notna().all()
                                                         else math.nan),
            **{column: float(best[column]) for column in runs.columns
               if column.startswith(("loss.", "vc.", "grad.")) and pd.notna(best[column])},
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


def inventory(expected: Mapping[tuple[str, str], Sequence[str]], seeds: Sequence[int],
              found: Mapping[str, Mapping[tuple[str, str], Sequence[str]]]) -> pd.DataFrame:
    """What the run table expects on disk against what is there.

    Args:
        expected: ``(run, supervision) -> homes`` the run is trained in.
        seeds: the training seeds.
        found: output kind (``predictions``, ``history``) → ``(run, supervision) ->`` its partitions
            on disk (``<home>/seed<k>``).

    Returns:
        ``run, supervision, home, seed`` and one boolean column per kind, a row per expected model
        (in run-table order) and per model found beyond them.
    """
    rows = []
    for (run, supervision), homes in expected.items():
        keys = [partition_key(home, seed) for home in homes for seed in seeds]
        on_disk = set().union(*(set(partitions.get((run, supervision), ())) for partitions in found.values()))
        for key in [*keys, *sorted(on_disk - set(keys))]:
            home, seed = key.split("/")
            rows.append({"run": run, "supervision": supervision, "home": home,
                         "seed": int(seed.removeprefix("seed")),
                         **{kind: key in partitions.get((run, supervision), ())
                            for kind, partitions in found.items()}})
    return pd.DataFrame(rows, columns=["run", "supervision", "home", "seed", *found])


def missing_models(inventory: pd.DataFrame, shown: int = 4) -> str:
    """A markdown list of the slices (run, supervision, home) with a seed the inventory expects but
    is not (entirely) on disk, naming the seeds and outputs missing (the first ``shown`` slices, then
    how many more); or a sentence saying everything is there."""
    kinds = [c for c in inventory.columns if c not in ("run", "supervision", "home", "seed")]
    missing = inventory[~inventory[kinds].all(axis=1)]
    if missing.empty:
        return ("Every run of the run table has predictions for every home and seed. Each has its "
                "history.")
    lines = [(f"{len(missing)} expected models are not (entirely) on disk; the tables and claims use "
              "the seeds present (train them, e.g. `kedro run --pipelines distill --namespaces <run>`):"), ""]
    slices = list(missing.groupby(["run", "supervision", "home"], sort=False))
    for (run, supervision, home), rows in slices[:shown]:
        absent = [k for k in kinds if not rows[k].all()]
        seeds = ", ".join(str(seed) for seed in rows["seed"])
        lines.append(f"- `{run}` {supervision} in {home}: seed{'s' if len(rows) > 1 else ''} {seeds} "
                     f"(no {' and no '.join(absent)})")
    if len(slices) > shown:
        lines.append(f"- and {len(slices) - shown} more (model_inventory.csv)")
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


def teacher_check_line(check: pd.DataFrame, digits: int) -> str:
    """One sentence from :func:`teacher_check`: in how many (home, seed, supervision) the teacher
    beats the plain student on validation, and the smallest margin (or where it does not)."""
    margins = check.dropna(subset=["margin"])
    if margins.empty:
        return "No teacher and plain student to compare on validation."
    behind = margins[margins["margin"] <= 0]

    def where(row: Any) -> str:
        return f"{row.home} seed {row.seed} {row.supervision} ({row.margin:+.{digits}f})"

    text = (f"On validation (sequence-level mAP at the selected epochs) the teacher beats the plain "
            f"student in {len(margins) - len(behind)} of {len(margins)} (home, seed, supervision)")
    if behind.empty:
        return text + f"; smallest margin {where(margins.loc[margins['margin'].idxmin()])}."
    return text + "; not in " + ", ".join(where(row) for row in behind.itertuples()) + "."


def best_students(metrics: pd.DataFrame, replicates: Replicates, teacher: Model | None,
                  digits: int) -> list[str]:
    """Per home, the student (a ``method`` row at any supervision) with the highest mean
    sequence-level mAP against ``teacher``: ``Home1: CoKD V_F 53.3 vs 63.1, Δ −9.7 [−14.0, −5.2]``.

    Args:
        metrics: :func:`vicokd.reporting.tables.evaluate_predictions` output.
        replicates: their bootstrap replicates.
        teacher: the teacher the students are compared against (None: no line).
    """
    if teacher is None:
        return []
    labels = dict(zip(metrics["run"], metrics["label"]))
    students = metrics.loc[metrics["group"] == "method", ["backbone", "run", "supervision"]].drop_duplicates()
    lines = []
    for home in sorted(metrics["home"].unique()):
        means = {Model(*row): replicates.mean(Model(*row), home, "sequence")
                 for row in students.itertuples(index=False)}
        means = {model: e for model, e in means.items() if e.seeds}
        reference = replicates.mean(teacher, home, "sequence")
        if not means or not reference.seeds:
            continue
        best = max(means, key=lambda model: means[model].value)
        delta = replicates.difference(best, teacher, home, "sequence")
        lines.append(f"{home}: {labels[best.run]} {best.supervision} {means[best].value:.{digits}f} vs "
                     f"{reference.value:.{digits}f}, Δ "
                     + format_estimate(delta.value, delta.low, delta.high, digits, signed=True))
    return lines


def headline_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Table 1 (as written to its CSV) at sequence level only: method, supervision and per home
    the mAP and Δ with their intervals."""
    keep = ["method", "supervision"] + [
        c for c in table.columns
        if c.split(" ", 1)[-1] in ("mAP", "mAP low", "mAP high", "Δ", "Δ low", "Δ high")]
    return table[keep]


def claims_by_statement(claims: pd.DataFrame) -> pd.DataFrame:
    """Per claim statement (over homes and supervisions): how many rows have each verdict."""
    counts = pd.crosstab(claims["claim"], claims["verdict"]).reindex(
        index=list(dict.fromkeys(claims["claim"])), columns=list(VERDICTS), fill_value=0)
    return counts.rename_axis(columns=None).reset_index()


def split_sizes(statistics: pd.DataFrame) -> str:
    """``Home1 33/6/21, Home2 34/8/18``: train/val/test sequences per home from
    :func:`dataset_statistics`."""
    table = statistics.pivot(index="home", columns="split", values="sequences")
    splits = [s for s in ("train", "val", "test") if s in table.columns]
    return ", ".join(f"{home} " + "/".join(str(int(row[s])) for s in splits) for home, row in table.iterrows())
