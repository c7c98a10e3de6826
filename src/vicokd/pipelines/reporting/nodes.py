"""Nodes of the ``reporting`` pipeline: catalog datasets in, vicokd.reporting library, reports out."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from vicokd.data.annotations import CLASSES
from vicokd.data.ingest import IngestionParameters
from vicokd.detection.yolo_export import truth_on_frames
from vicokd.models import ModelConfig
from vicokd.reporting import figures, human_centric, summary, tables
from vicokd.reporting.attention import attention_maps
from vicokd.reporting.settings import ReportingSettings
from vicokd.training.checkpoints import load_published, published_versions
from vicokd.training.run_table import RunSpec, output_name
from vicokd.training.settings import TrainingSettings

#: Partitions of one run's outputs at one supervision level: ``<home>/seed<k> -> loader``.
Partitions = Mapping[str, Callable[[], Any]]


def _load_all(partitioned: Mapping[str, Partitions]) -> pd.DataFrame:
    """Every partition of every dataset, in the order given, as one table."""
    return pd.concat([load() for partitions in partitioned.values()
                      for _, load in sorted(partitions.items())], ignore_index=True)


def evaluate_models(reporting: ReportingSettings, runs: dict[str, Any], homes: list[str],
                    seeds: list[int], **outputs: Partitions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Macro mAP and per-class AP of every trained model on ``reporting.split``, in run-table order,
    and the inventory of what is on disk.

    ``outputs``: each run's predictions (``predictions__<dataset>``) and history
    (``history__<dataset>``) at one supervision level, ``<home>/seed<k> -> loader`` (empty when that
    run has not been trained). A model's predictions and history must carry the same
    ``model_version`` (they were published together); a mismatch stops reporting before any report
    is written.

    Returns:
        The metrics (only of models on disk) and ``dataset, partition, present`` for every
        expected home and seed (the run's homes of ``homes`` × ``seeds``; ``runs``: the run
        table) of every prediction dataset.
    """
    predictions = {k.removeprefix("predictions__"): v for k, v in outputs.items() if k.startswith("predictions__")}
    run_table = [RunSpec.model_validate(row) for row in runs.values()]  # rows, or RunSpecs already
    trained_homes = {output_name(run.name, "predictions", supervision): run.trained_homes(homes)
                     for run in run_table for supervision in run.supervisions}
    histories = [v for k, v in outputs.items() if k.startswith("history__")]
    loaded = {f"{name}/{key}": load() for name, partitions in predictions.items()
              for key, load in sorted(partitions.items())}
    versions = {(h["run"].iloc[0], h["supervision"].iloc[0], h["home"].iloc[0], int(h["seed"].iloc[0])):
                h["model_version"].iloc[0]
                for history in histories for h in (load() for load in history.values())}
    for source, table in loaded.items():
        summary.check_published_together(table, versions, source)
    return (tables.evaluate_predictions(loaded, split=reporting.split),
            summary.inventory(predictions, trained_homes, seeds))


def summarise_training(**histories: Partitions) -> pd.DataFrame:
    """Best epoch (on validation mAP), its val/test mAPs and training seconds per trained model."""
    return summary.training_summary(_load_all(histories))


def _render(table: pd.DataFrame, labels: Mapping[str, str], title: str, note: str,
            reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    table = tables.relabel(table, labels)
    return tables.to_markdown(table, title, note, reporting.digits), table


def build_methods_table(model_metrics: pd.DataFrame, baseline: str,
                        reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    """Table 1 (markdown, csv): the teacher and every method × supervision per home, Δ to the
    baseline run (the plain student)."""
    note = (f"Macro mAP (%) on the {reporting.split} split, mean over seeds: sequence level (the paper's "
            "metric: the sequence prediction against the sequence labels, scored as the authors' code "
            "scores it) and frame level beside it; Δ = difference to the plain student of the same "
            "supervision. Every model is the epoch with the best validation sequence-level mAP.")
    table = tables.comparison_table(model_metrics, tables.method_runs(model_metrics),
                                    reference=baseline)
    return _render(table, tables.run_labels(model_metrics), "Table 1: methods", note, reporting)


def build_seeds_table(model_metrics: pd.DataFrame, reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    """Table 2 (markdown, csv): sequence-level mAP mean ± std (ddof 1) over the seeds that ran."""
    runs = tables.method_runs(model_metrics)
    table = tables.relabel(tables.seeds_table(model_metrics, runs), tables.run_labels(model_metrics))
    seeds = model_metrics["seed"].nunique()
    note = (f"Sequence-level macro mAP (%) on the {reporting.split} split over {seeds} seed(s)"
            + ("; a single seed has no spread (std —)." if seeds < 2 else "."))
    return tables.seeds_markdown(table, "Table 2: spread over seeds", note, reporting.digits), table


def build_teacher_table(model_metrics: pd.DataFrame, reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    """Table 3 (markdown, csv): every teacher run, Δ to the first (the plain teacher)."""
    runs = tables.teacher_runs(model_metrics)
    note = f"Macro mAP (%) on the {reporting.split} split; Δ = difference to the plain teacher."
    table = tables.comparison_table(model_metrics, runs, reference=runs[0] if runs else None)
    return _render(table, tables.run_labels(model_metrics), "Table 3: teacher + view-aware consistency",
                   note, reporting)


def build_ablation_table(model_metrics: pd.DataFrame, reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    """Table 4 (markdown, csv): the run the ablations override (ViCoKD) and every ablation, Δ to it,
    in the homes the ablations are trained in."""
    runs = tables.ablation_runs(model_metrics)
    note = f"Macro mAP (%) on the {reporting.split} split; Δ = difference to the full ViCoKD."
    ablated = model_metrics["run"].isin(runs[1:])
    homes = model_metrics.loc[ablated, "home"].unique() if ablated.any() else model_metrics["home"].unique()
    table = tables.comparison_table(model_metrics[model_metrics["home"].isin(homes)], runs,
                                    reference=runs[0] if runs else None)
    return _render(table, tables.run_labels(model_metrics), "Table 4: ablations of ViCoKD", note,
                   reporting)


def build_per_class_table(model_metrics: pd.DataFrame, reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    """Per-class AP (markdown, csv) of every model at sequence level, mean over seeds."""
    note = f"Sequence-level AP (%) per class on the {reporting.split} split (— : no positive sequence)."
    return _render(tables.per_class_table(model_metrics), tables.run_labels(model_metrics),
                   "Per-class AP", note, reporting.model_copy(update={"digits": 1}))


def build_dataset_statistics(sequences: pd.DataFrame, splits: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Sequences, frames, hours and labels per home and split (markdown, csv)."""
    table = summary.dataset_statistics(sequences, splits)
    note = "Frames are 2.5-FPS frames; labels counts sequence-level labels."
    return tables.to_markdown(table, "Dataset statistics", note), table


def plot_map_curves(**histories: Partitions) -> Figure:
    """Figure 3: validation and test mAP per epoch of the teachers and methods (the ablations have
    Table 4), per home; with several seeds, their mean and a band ± one std."""
    frames = _load_all(histories)
    frames = frames[frames["group"] != "ablation"]
    curves = frames.groupby(["label", "supervision", "home", "epoch"], sort=False)[list(figures.HISTORY_METRICS)]
    table = curves.mean().join(curves.std(), rsuffix="_std").reset_index()
    labelled = {f"{label} {supervision}": runs
                for (label, supervision), runs in table.groupby(["label", "supervision"], sort=False)}
    seeds = frames["seed"].nunique()
    title = "Sequence-level mAP per epoch (Figure 3)" + (f": mean of {seeds} seeds, band ± std" if seeds > 1 else "")
    return figures.map_curves(labelled, title=title)


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
    sequences: pd.DataFrame, splits: pd.DataFrame, frames: Mapping[str, np.ndarray],
    log_mels: Mapping[str, np.ndarray], training: TrainingSettings,
    reporting: ReportingSettings, model_metrics: pd.DataFrame, **models: Partitions,
) -> dict[str, Figure]:
    """Figure 4, ``{home}.png`` per home: cross-modal attention per view of each model of
    ``reporting.attention.models`` (``models``: their checkpoints, in that order, each checked to be
    the version whose predictions ``model_metrics`` reports), first seed."""
    settings = reporting.attention
    plots = {}
    keys = sorted(next(iter(models.values())))
    versions = published_versions(model_metrics)
    for home in dict.fromkeys(key.split("/")[0] for key in keys):
        key = next(k for k in keys if k.startswith(f"{home}/"))
        sequence_id = _attention_sequence(sequences, splits, home, settings.sequence_id)
        checkpoints = {}
        for partitions in models.values():
            checkpoint = load_published(partitions[key], versions)
            checkpoints[f"{checkpoint['metadata']['label']} {checkpoint['metadata']['supervision']}"] = checkpoint
        indices, clip, weights = attention_maps(
            checkpoints, frames[sequence_id], log_mels[sequence_id], training.num_frames
        )
        shown = sorted(set(np.linspace(0, len(indices) - 1, settings.query_frames).round().astype(int)))
        plots[f"{home}.png"] = figures.attention_figure(
            weights, clip, shown, title=f"{sequence_id}: cross-modal attention (frame indices {indices[shown].tolist()})"
        )
    return plots


def write_summary(
    table1_methods: str, training_summary: pd.DataFrame, dataset_statistics: str, mask_quality_table: str,
    simulation_overlap: dict, model_metrics: pd.DataFrame, model_inventory: pd.DataFrame,
    model: ModelConfig, training: TrainingSettings, ingestion: IngestionParameters, baseline: str,
    reporting: ReportingSettings,
) -> str:
    """summary.md: settings, machine, what ran, Table 1, the teacher check, training time, data and
    mask quality, links."""
    settings = {
        "backbone": model.backbone,
        "frames per clip (T)": training.num_frames,
        "image size": ingestion.image_size,
        "epochs": _epochs_by_role(training_summary),
        "batch size": training.batch_size,
        "learning rate": training.learning_rate,
        "seeds": ", ".join(str(s) for s in sorted(model_metrics["seed"].unique())),
        "homes": ", ".join(ingestion.homes),
        "data": ingestion.dataset_root,
        "evaluated split": reporting.split,
    }
    seconds = float(training_summary["seconds"].sum())
    overlap = pd.DataFrame.from_dict(simulation_overlap, orient="index").rename_axis("home").reset_index()
    sections = {
        "Results": _body(table1_methods),
        "Missing": summary.missing_models(model_inventory),
        "Teacher check (validation, before distilling)": _body(tables.to_markdown(
            summary.teacher_check(training_summary, baseline), "",
            "Validation sequence-level mAP (%) of the teacher and of the plain student at their "
            "selected epochs; a negative margin means distillation starts from a teacher that is "
            "not better than the student alone.", reporting.digits)),
        "Training time": f"{seconds / 60:.1f} min of training over all models and homes.\n"
                         + _body(tables.to_markdown(training_summary, "", digits=reporting.digits)),
        "Data": _body(dataset_statistics),
        "View overlap of the synthetic home": _body(tables.to_markdown(overlap, "", digits=3)),
        "Mask quality": _body(mask_quality_table),
    }
    return summary.render_summary(sections, settings, summary.machine_info(), model_metrics, reporting.links)


def _epochs_by_role(training_summary: pd.DataFrame) -> str:
    """Epochs the teachers and the students ran, e.g. ``teachers 50, students 35``."""
    is_teacher = training_summary["group"] == "teacher"
    roles = {"teachers": training_summary[is_teacher], "students": training_summary[~is_teacher]}
    return ", ".join(
        f"{role} {'/'.join(str(n) for n in sorted(rows['epochs'].unique()))}"
        for role, rows in roles.items() if not rows.empty
    )


def _body(markdown: str) -> str:
    """A markdown report without its first heading line (the summary gives its own)."""
    return markdown.split("\n", 1)[1] if markdown.startswith("#") else markdown


def plot_saliency_maps(
    sequences: pd.DataFrame, splits: pd.DataFrame, frames: Mapping[str, np.ndarray],
    log_mels: Mapping[str, np.ndarray], frame_labels: Mapping[str, np.ndarray],
    person_truth: pd.DataFrame, training: TrainingSettings, reporting: ReportingSettings,
    model_metrics: pd.DataFrame, **models: Partitions,
) -> tuple[dict[str, Figure], str, pd.DataFrame]:
    """Figure 4 as the paper draws it, ``{home}.png``: each view's frames of one test sequence with
    the spatial saliency (Grad-CAM on the ViT's patch tokens) of each model of
    ``reporting.attention.models`` (first seed) and the true person box; and, beyond the paper, the
    share of each model's saliency inside the true person box over every visible (view, frame) of
    every test sequence, per home (markdown, csv; empty without ground truth). Each checkpoint must
    be the version whose predictions ``model_metrics`` reports."""
    settings = reporting.attention
    plots, shares = {}, []
    keys = sorted(next(iter(models.values())))
    versions = published_versions(model_metrics)
    for home in dict.fromkeys(key.split("/")[0] for key in keys):
        key = next(k for k in keys if k.startswith(f"{home}/"))
        checkpoints = {}
        for partitions in models.values():
            checkpoint = load_published(partitions[key], versions)
            metadata = checkpoint["metadata"]
            checkpoints[f"{metadata['label']} {metadata['supervision']}"] = checkpoint
        shown_sequence = _attention_sequence(sequences, splits, home, settings.sequence_id)
        test = splits.loc[(splits["home"] == home) & (splits["split"] == "test"), "sequence_id"]
        for sequence_id in sorted(test):
            indices, clip, audio = human_centric.clip_inputs(frames[sequence_id], log_mels[sequence_id],
                                                             training.num_frames)
            class_index = human_centric.explained_class(frame_labels[sequence_id])
            maps = human_centric.saliency_maps(checkpoints, clip, audio, class_index)
            truth = _truth_on_clip(person_truth, sequence_id, frames[sequence_id].shape[1], indices)
            if truth is not None:
                shares.append(human_centric.human_centric_shares(maps, *truth).assign(
                    home=home, sequence_id=sequence_id))
            if sequence_id == shown_sequence:
                visible = truth[0] if truth is not None else np.ones(clip.shape[:2], bool)
                plots[f"{home}.png"] = figures.saliency_figure(
                    clip.permute(0, 1, 3, 4, 2).numpy(), maps,
                    human_centric.shown_frames(visible, settings.shown_frames),
                    truth[1] if truth is not None else None,
                    title=f"{sequence_id}: Grad-CAM of {CLASSES[class_index]} (white: true person box)")
    table = _share_table(shares)
    note = ("Share (%) of each model's Grad-CAM saliency inside the true person box, mean over every "
            "(view, frame) of the test sequences where the simulator says the person is visible; "
            "`uniform` is the box's mean area, what a map spread evenly would score.")
    return plots, tables.to_markdown(table, "Human-centric saliency (Figure 4, measured)", note,
                                     reporting.digits), table


def _truth_on_clip(person_truth: pd.DataFrame, sequence_id: str, n_frames: int,
                   indices: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The simulator's visibility ``(V, T)`` and boxes ``(V, T, 4)`` at the clip's frames, or None
    without ground truth (real data)."""
    rows = person_truth[person_truth["sequence_id"] == sequence_id] if not person_truth.empty else person_truth
    if rows.empty:
        return None
    visible, boxes = truth_on_frames(rows, n_frames)
    return visible[:, indices], boxes[:, indices]


def _share_table(shares: list[pd.DataFrame]) -> pd.DataFrame:
    """Per home: every model's mean share (%) and the uniform reference."""
    if not shares:
        return pd.DataFrame(columns=["home"])
    frame = pd.concat(shares, ignore_index=True)
    table = frame.pivot_table(index="home", columns="model", values="share", aggfunc="mean", sort=False)
    table = 100 * table[list(dict.fromkeys(frame["model"]))]
    table["uniform"] = 100 * frame.groupby("home")["box_area"].mean()
    table["(view, frame) pairs"] = frame.groupby(["home", "model"]).size().groupby("home").first()
    return table.reset_index()
