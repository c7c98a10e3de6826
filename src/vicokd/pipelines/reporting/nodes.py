"""Nodes of the ``reporting`` pipeline: catalog datasets in, vicokd.reporting library, reports out."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from vicokd.reporting import figures, summary, tables
from vicokd.reporting.attention import attention_maps

#: Supervision of the student and ViCoKD checkpoints whose attention Figure 4 shows.
ATTENTION_SUPERVISION = "V_F"


def evaluate_models(reporting: dict[str, Any], **predictions: pd.DataFrame) -> pd.DataFrame:
    """Macro mAP and per-class AP of every model (teachers and students) on ``reporting.split``."""
    return tables.evaluate_predictions(predictions, split=reporting["split"])


def evaluate_ablations(
    model_metrics: pd.DataFrame,
    stored_predictions: Mapping[str, Callable[[], pd.DataFrame]],
    distill: dict[str, Any],
    reporting: dict[str, Any],
) -> pd.DataFrame:
    """The same metrics for the ablation models (``distill.ablations``) among the prediction tables on
    disk, leaving out models already in ``model_metrics`` (reading it also makes this node run after
    every prediction table of the run is written). No ablation on disk → an empty table."""
    ablations = set(distill["ablations"])
    found = {}
    for name, load in sorted(stored_predictions.items()):
        table = load()
        chosen = table[table["method"].isin(ablations) & ~table["model"].isin(model_metrics["model"])]
        if not chosen.empty:
            found[name] = chosen
    if not found:
        return pd.DataFrame(columns=list(model_metrics.columns))
    return tables.evaluate_predictions(found, split=reporting["split"])


def _render(table: pd.DataFrame, title: str, note: str, reporting: dict[str, Any]) -> tuple[str, pd.DataFrame]:
    table = tables.relabel(table, reporting["labels"])
    return tables.to_markdown(table, title, note, reporting["digits"]), table


def build_methods_table(
    model_metrics: pd.DataFrame, distill: dict[str, Any], reporting: dict[str, Any]
) -> tuple[str, pd.DataFrame]:
    """Table 1 (markdown, csv): teacher and every method × supervision per home, Δ to the student."""
    note = (f"Macro mAP (%) on the {reporting['split']} split, mean over seeds: frame level (primary) and "
            "sequence level (seq); Δ = difference to the plain student of the same supervision.")
    table = tables.methods_table(model_metrics, list(distill["methods"]))
    return _render(table, "Table 1: methods", note, reporting)


def build_seeds_table(
    model_metrics: pd.DataFrame, distill: dict[str, Any], reporting: dict[str, Any]
) -> tuple[str, pd.DataFrame]:
    """Table 2 (markdown, csv): frame-level mAP mean ± std (ddof 1) over the seeds that ran."""
    methods = ["teacher", *distill["methods"]]
    table = tables.relabel(tables.seeds_table(model_metrics, methods), reporting["labels"])
    seeds = model_metrics["seed"].nunique()
    note = (f"Frame-level macro mAP (%) on the {reporting['split']} split over {seeds} seed(s)"
            + ("; a single seed has no spread (std —)." if seeds < 2 else "."))
    return tables.seeds_markdown(table, "Table 2: spread over seeds", note, reporting["digits"]), table


def build_teacher_table(model_metrics: pd.DataFrame, reporting: dict[str, Any]) -> tuple[str, pd.DataFrame]:
    """Table 3 (markdown, csv): the teacher with and without view-aware consistency."""
    note = f"Macro mAP (%) on the {reporting['split']} split; Δ = difference to the plain teacher."
    return _render(tables.teacher_table(model_metrics), "Table 3: teacher + view-aware consistency", note,
                   reporting)


def build_ablation_table(
    model_metrics: pd.DataFrame, ablation_metrics: pd.DataFrame, distill: dict[str, Any], reporting: dict[str, Any]
) -> tuple[str, pd.DataFrame]:
    """Table 4 (markdown, csv): ViCoKD and its ablations (run ``--pipeline distill_ablations`` first)."""
    metrics = pd.concat([model_metrics, ablation_metrics], ignore_index=True)
    note = (f"Macro mAP (%) on the {reporting['split']} split; Δ = difference to the full ViCoKD. Ablations "
            "come from `kedro run --pipeline distill_ablations`.")
    table = tables.ablation_table(metrics, list(distill["ablations"])) if not ablation_metrics.empty else pd.DataFrame()
    return _render(table, "Table 4: ablations of ViCoKD", note, reporting)


def build_per_class_table(
    model_metrics: pd.DataFrame, ablation_metrics: pd.DataFrame, reporting: dict[str, Any]
) -> tuple[str, pd.DataFrame]:
    """Per-class AP (markdown, csv) of every model at frame level, mean over seeds."""
    metrics = pd.concat([model_metrics, ablation_metrics], ignore_index=True)
    note = f"Frame-level AP (%) per class on the {reporting['split']} split (— : no positive frame)."
    return _render(tables.per_class_table(metrics), "Per-class AP", note, {**reporting, "digits": 1})


def build_dataset_statistics(sequences: pd.DataFrame, splits: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Sequences, frames, hours and labels per home and split (markdown, csv)."""
    table = summary.dataset_statistics(sequences, splits)
    note = "Frames are 2.5-FPS frames; labels counts sequence-level labels."
    return tables.to_markdown(table, "Dataset statistics", note), table


def _display_name(model: str, labels: Mapping[str, str]) -> str:
    """``vicokd_V_F`` → ``ViCoKD V_F`` (model names are ``<method>_<supervision>``)."""
    for supervision in tables.SUPERVISION_ORDER:
        if model.endswith(f"_{supervision}"):
            method = model[: -len(supervision) - 1]
            return f"{labels.get(method, method)} {supervision}"
    return model


def plot_map_curves(reporting: dict[str, Any], **histories: pd.DataFrame) -> Figure:
    """Figure 3: validation and test mAP per epoch of every model, per home."""
    labelled = {_display_name(str(h["model"].iloc[0]), reporting["labels"]): h for h in histories.values()}
    return figures.map_curves(labelled, title="Frame-level mAP per epoch (Figure 3)")


def _attention_sequence(sequences: pd.DataFrame, splits: pd.DataFrame, home: str, chosen: str | None) -> str:
    """The configured sequence, else the home's test sequence with the most sequence labels."""
    if chosen is not None:
        return chosen
    test = splits[(splits["home"] == home) & (splits["split"] == "test")]["sequence_id"]
    candidates = sequences[sequences["sequence_id"].isin(test)]
    if candidates.empty:
        raise ValueError(f"No test sequence of {home} in the splits table: cannot draw its attention maps.")
    counts = candidates["labels"].map(len).to_numpy()
    return str(candidates["sequence_id"].iloc[int(np.argmax(counts))])


def plot_attention_maps(
    teacher_model: Mapping[str, dict], student_model: Mapping[str, dict], vicokd_model: Mapping[str, dict],
    sequences: pd.DataFrame, splits: pd.DataFrame, frames: Mapping[str, np.ndarray],
    audio_features: Mapping[str, np.ndarray], training: dict[str, Any], reporting: dict[str, Any],
) -> dict[str, Figure]:
    """Figure 4, ``{home}.png`` per home: cross-modal attention per view of teacher, student and ViCoKD."""
    settings = reporting["attention"]
    labels = reporting["labels"]
    plots = {}
    for home in sorted(teacher_model):
        sequence_id = _attention_sequence(sequences, splits, home, settings["sequence_id"])
        checkpoints = {
            labels["teacher"]: teacher_model[home],
            f"{labels['student']} {ATTENTION_SUPERVISION}": student_model[home],
            f"{labels['vicokd']} {ATTENTION_SUPERVISION}": vicokd_model[home],
        }
        indices, clip, weights = attention_maps(
            checkpoints, frames[sequence_id], audio_features[sequence_id], training["num_frames"]
        )
        shown = sorted(set(np.linspace(0, len(indices) - 1, settings["query_frames"]).round().astype(int)))
        plots[f"{home}.png"] = figures.attention_figure(
            weights, clip, shown, title=f"{sequence_id}: cross-modal attention (frame indices {indices[shown].tolist()})"
        )
    return plots


def write_summary(
    table1_methods: str, training_summary: pd.DataFrame, dataset_statistics: str, mask_quality_table: str,
    simulation_overlap: dict, model_metrics: pd.DataFrame, model: dict[str, Any], training: dict[str, Any],
    ingestion: dict[str, Any], reporting: dict[str, Any],
) -> str:
    """summary.md: settings, machine, what ran, Table 1, training time, data and mask quality, links."""
    settings = {
        "backbone": model["backbone"],
        "frames per clip (T)": training["num_frames"],
        "image size": ingestion["image_size"],
        "epochs": _epochs_by_role(training_summary),
        "batch size": training["batch_size"],
        "learning rate": training["learning_rate"],
        "seeds": ", ".join(str(s) for s in sorted(model_metrics["seed"].unique())),
        "homes": ", ".join(ingestion["homes"]),
        "data": ingestion["dataset_root"],
        "evaluated split": reporting["split"],
    }
    seconds = float(training_summary["seconds"].sum())
    overlap = pd.DataFrame.from_dict(simulation_overlap, orient="index").rename_axis("home").reset_index()
    sections = {
        "Results": _body(table1_methods),
        "Training time": f"{seconds / 60:.1f} min of training over all models and homes.\n"
                         + _body(tables.to_markdown(training_summary, "", digits=reporting["digits"])),
        "Data": _body(dataset_statistics),
        "View overlap of the synthetic home": _body(tables.to_markdown(overlap, "", digits=3)),
        "Mask quality": _body(mask_quality_table),
    }
    return summary.render_summary(sections, settings, summary.machine_info(), model_metrics, reporting["links"])


def _epochs_by_role(training_summary: pd.DataFrame) -> str:
    """Epochs the teachers and the students ran, e.g. ``teachers 50, students 35``."""
    is_teacher = training_summary["model"].str.startswith("teacher")
    roles = {"teachers": training_summary[is_teacher], "students": training_summary[~is_teacher]}
    return ", ".join(
        f"{role} {'/'.join(str(n) for n in sorted(rows['epochs'].unique()))}"
        for role, rows in roles.items() if not rows.empty
    )


def _body(markdown: str) -> str:
    """A markdown report without its first heading line (the summary gives its own)."""
    return markdown.split("\n", 1)[1] if markdown.startswith("#") else markdown
