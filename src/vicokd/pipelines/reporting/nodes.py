"""Nodes of the ``reporting`` pipeline: catalog datasets in, vicokd.reporting library, reports out.

Every node but :func:`publish_reports` computes into memory; that one returns every report to its
file, so a failure anywhere leaves the previous reports as they were (all reports or none).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from vicokd.data.description import DatasetDescription
from vicokd.data.ingest import IngestionParameters
from vicokd.datasets.array_store import StampedArrays, lazy_loaders
from vicokd.detection.yolo_export import truth_on_frames
from vicokd.fingerprints import Fingerprint
from vicokd.models import ModelConfig
from vicokd.reporting import claims, figures, human_centric, intervals, segment_map, summary, tables
from vicokd.reporting.attention import attention_maps
from vicokd.reporting.intervals import Model, Replicates
from vicokd.reporting.paper import paper_results
from vicokd.reporting.settings import ReportingSettings
from vicokd.training.checkpoints import load_published, published_versions
from vicokd.training.run_names import dataset_name
from vicokd.training.run_table import RunSpec
from vicokd.training.settings import TrainingSettings

#: Partitions of one run's outputs at one supervision level: ``<home>/seed<k> -> loader``.
Partitions = Mapping[str, Callable[[], Any]]
#: Prefix of a report computed but not yet written (``conf/base/catalog_reporting_pending.yml``).
PENDING = "pending_"


def _load_all(partitioned: Mapping[str, Partitions]) -> pd.DataFrame:
    """Every partition of every dataset, in the order given, as one table."""
    return pd.concat([load() for partitions in partitioned.values()
                      for _, load in sorted(partitions.items())], ignore_index=True)


def _run_table(runs: Mapping[str, Any]) -> dict[str, RunSpec]:
    """The run table's rows as :class:`RunSpec` (they arrive as mappings, or validated already)."""
    return {name: RunSpec.model_validate(row) for name, row in runs.items()}


def collect_predictions(runs: dict[str, Any], homes: list[str], seeds: list[int],
                        reporting: ReportingSettings, **outputs: Partitions,
                        ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Every trained model's prediction table (only those of ``reporting.seeds`` when it is set),
    and the inventory of what is on disk.

    ``outputs``: each run's predictions (``predictions__<dataset>``) and history
    (``history__<dataset>``) at one supervision level, ``<home>/seed<k> -> loader`` (empty when that
    run has not been trained). A model's predictions and history must carry the same
    ``model_version`` (they were published together); a mismatch stops reporting before any report
    is written.

    Returns:
        ``<dataset>/<home>/seed<k> -> prediction table`` and, per model the run table expects (the
        run's homes of ``homes`` × ``seeds``), whether its predictions and history are on disk.
    """
    run_table = _run_table(runs)
    found: dict[str, dict[tuple[str, str], list[str]]] = {"predictions": {}, "history": {}}
    for run in run_table.values():
        for supervision in run.supervisions:
            for kind, on_disk in found.items():
                partitions = outputs[f"{kind}__{dataset_name(run.name, kind, supervision)}"]
                on_disk[(run.name, supervision)] = sorted(partitions)
    predictions = {k.removeprefix("predictions__"): v for k, v in outputs.items() if k.startswith("predictions__")}
    loaded = {f"{name}/{key}": load() for name, partitions in predictions.items()
              for key, load in sorted(partitions.items())}
    versions = {(h["run"].iloc[0], h["supervision"].iloc[0], h["home"].iloc[0], int(h["seed"].iloc[0])):
                h["model_version"].iloc[0]
                for name, history in outputs.items() if name.startswith("history__")
                for h in (load() for load in history.values())}
    for source, table in loaded.items():
        summary.check_published_together(table, versions, source)
    if reporting.seeds is not None:
        loaded = {source: table for source, table in loaded.items()
                  if int(table["seed"].iloc[0]) in reporting.seeds}
    expected = {(run.name, supervision): run.trained_homes(homes)
                for run in run_table.values() for supervision in run.supervisions}
    return loaded, summary.inventory(expected, seeds, found)


def evaluate_models(predictions: dict[str, pd.DataFrame], reporting: ReportingSettings) -> pd.DataFrame:
    """Macro mAP and per-class AP of every model on ``reporting.split``, at every level."""
    return tables.evaluate_predictions(predictions, split=reporting.split)


def bootstrap_models(predictions: dict[str, pd.DataFrame], reporting: ReportingSettings, seed: int,
                     published: Partitions) -> tuple[Replicates, dict[str, pd.DataFrame]]:
    """Bootstrap replicates of every model's mAP on ``reporting.split`` at the tables' levels, the
    generator seeded from ``seed`` (the data's seed); each model's draws are read back from
    ``published`` when the model and the bootstrap are unchanged (:mod:`vicokd.reporting.memo`).

    Returns:
        The replicates and the draw tables computed in this run (to keep for the next one)."""
    settings = reporting.intervals
    return intervals.bootstrap(predictions, tables.TABLE_LEVELS, settings.replicates,
                               settings.confidence, seed, split=reporting.split, published=published)


def summarise_training(**histories: Partitions) -> pd.DataFrame:
    """Best epoch (on validation mAP), its val/test mAPs and training seconds per trained model."""
    return summary.training_summary(_load_all(histories))


def _interval_note(reporting: ReportingSettings) -> str:
    settings = reporting.intervals
    return (f"[low, high]: {settings.confidence:.0%} bootstrap interval over the {reporting.split} "
            f"sequences and the training seeds ({settings.replicates} replicates; docs/reporting.md); "
            "seeds: models on disk per home.")


def _render(table: pd.DataFrame, labels: Mapping[str, str], title: str, note: str,
            reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    table = tables.relabel(table, labels)
    return tables.to_markdown(table, title, note, reporting.digits), table


def build_methods_table(model_metrics: pd.DataFrame, model_replicates: Replicates, baseline: str,
                        reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    """Table 1 (markdown, csv): the teacher and every method × supervision per home, Δ to the
    baseline run (the plain student), each with its interval."""
    note = (f"Macro mAP (%) on the {reporting.split} split, mean over seeds: sequence level (the paper's "
            "metric: the sequence prediction against the sequence labels, scored as the authors' code "
            "scores it) and frame level beside it; Δ = difference to the plain student of the same "
            "supervision, paired by seed. Every model is the epoch with the best validation "
            f"sequence-level mAP. {_interval_note(reporting)}")
    methods = model_metrics.loc[model_metrics["group"] == "method", "run"]
    table = tables.comparison_table(model_metrics, model_replicates, tables.method_runs(model_metrics),
                                    references={run: baseline for run in methods})
    return _render(table, tables.run_labels(model_metrics), "Table 1: methods", note, reporting)


def build_seeds_table(model_metrics: pd.DataFrame, reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    """Table 2 (markdown, csv): sequence-level mAP mean ± std (ddof 1) over the seeds that ran."""
    runs = tables.method_runs(model_metrics)
    table = tables.relabel(tables.seeds_table(model_metrics, runs), tables.run_labels(model_metrics))
    seeds = model_metrics["seed"].nunique()
    note = (f"Sequence-level macro mAP (%) on the {reporting.split} split over the seeds on disk (n); "
            "— : the run has no model in that home"
            + ("; a single seed has no spread (std —)." if seeds < 2 else "."))
    return tables.seeds_markdown(table, "Table 2: spread over seeds", note, reporting.digits), table


def _own_bases(model_metrics: pd.DataFrame, runs: list[str]) -> dict[str, str]:
    """Each run of ``runs`` → the run it is built on (its ``base``) when that is in ``runs``, else the
    first of ``runs``."""
    bases = dict(zip(model_metrics["run"], model_metrics["base"]))
    return {run: bases[run] if bases.get(run) in runs else runs[0] for run in runs}


def build_teacher_table(model_metrics: pd.DataFrame, model_replicates: Replicates,
                        reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    """Table 3 (markdown, csv): every teacher run, Δ to the teacher it is built on (the plain
    teacher)."""
    runs = tables.teacher_runs(model_metrics)
    note = (f"Macro mAP (%) on the {reporting.split} split; Δ = difference to the plain teacher, paired "
            f"by seed. {_interval_note(reporting)}")
    table = tables.comparison_table(model_metrics, model_replicates, runs,
                                    references=_own_bases(model_metrics, runs) if runs else {})
    return _render(table, tables.run_labels(model_metrics), "Table 3: teacher + view-aware consistency",
                   note, reporting)


def build_ablation_table(model_metrics: pd.DataFrame, model_replicates: Replicates,
                         reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    """Table 4 (markdown, csv): the run the ablations override (ViCoKD) and every ablation, Δ to the
    run it ablates, in the homes the ablations are trained in."""
    runs = tables.ablation_runs(model_metrics)
    note = (f"Macro mAP (%) on the {reporting.split} split; Δ = difference to the run each ablation "
            f"ablates (the full ViCoKD), paired by seed. {_interval_note(reporting)}")
    ablated = model_metrics["run"].isin(runs[1:])
    homes = model_metrics.loc[ablated, "home"].unique() if ablated.any() else model_metrics["home"].unique()
    table = tables.comparison_table(model_metrics[model_metrics["home"].isin(homes)], model_replicates,
                                    runs, references=_own_bases(model_metrics, runs) if runs else {})
    return _render(table, tables.run_labels(model_metrics), "Table 4: ablations of ViCoKD", note,
                   reporting)


def build_per_class_table(model_metrics: pd.DataFrame, reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    """Per-class AP (markdown, csv) of every model at sequence level, mean over seeds."""
    note = f"Sequence-level AP (%) per class on the {reporting.split} split (— : no positive sequence)."
    return _render(tables.per_class_table(model_metrics), tables.run_labels(model_metrics),
                   "Per-class AP", note, reporting.model_copy(update={"digits": 1}))


def build_segment_map_table(test_predictions: dict[str, pd.DataFrame], sequences: pd.DataFrame,
                            candidates: list[float], tious: list[float],
                            reporting: ReportingSettings, dataset: DatasetDescription,
                            published: Partitions) -> tuple[str, pd.DataFrame, dict[str, pd.DataFrame]]:
    """Segment-level detection mAP (markdown, csv) of every model at each tIoU, mean over seeds:
    segments of the frames training scored, with thresholds chosen on validation
    (:mod:`vicokd.reporting.segment_map`); each model's is read back from ``published`` when the
    model, its home's annotations and the settings are unchanged (:mod:`vicokd.reporting.memo`).
    The third output: the per-model tables computed in this run (to keep for the next one)."""
    metrics, computed = segment_map.segment_map_metrics(
        test_predictions, sequences, reporting.split, candidates, tious, dataset.sample_fps, published)
    note = (f"ActivityNet-style detection mAP (%) on the {reporting.split} split, mean over seeds, "
            "at each temporal IoU: the T frames training scored per sequence, each holding for its "
            f"nearest {dataset.sample_fps:g}-FPS frames, cut into segments with per-class thresholds chosen on the "
            "validation frames (the best F1 of inference.threshold_candidates).")
    markdown, table = _render(segment_map.segment_map_table(metrics), tables.run_labels(metrics),
                              "Segment-level detection mAP", note, reporting)
    return markdown, table, computed


def build_dataset_statistics(sequences: pd.DataFrame, splits: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Sequences, frames, hours and labels per home and split (markdown, csv)."""
    table = summary.dataset_statistics(sequences, splits)
    note = "Frames are 2.5-FPS frames; labels counts sequence-level labels."
    return tables.to_markdown(table, "Dataset statistics", note), table


def build_claims(model_metrics: pd.DataFrame, model_replicates: Replicates, runs: dict[str, Any],
                 baseline: str, homes: list[str], reporting: ReportingSettings) -> tuple[str, pd.DataFrame]:
    """The claims table (markdown, csv): every claim of the paper the run table can test, the
    paper's figure for the run's backbone, ours with its interval, and a verdict."""
    run_table = _run_table(runs)
    derived = [claim for backbone in dict.fromkeys(model_metrics["backbone"])
               for claim in claims.derive_claims(run_table, baseline, homes, backbone)]
    table = claims.claims_table(derived, model_replicates, paper_results())
    note = (f"{claims.counts_sentence(table)}. Δ in sequence-level mAP points on the {reporting.split} "
            "split, paired by seed; paper: the paper's figures for this backbone (— : not reported). "
            "Verdict: agrees / disagrees when the interval lies entirely on the paper's side of 0 / "
            "the other side (the claim's direction where the paper has no figure), undecided when it "
            f"contains 0, missing when a model is not on disk. {_interval_note(reporting)}")
    return tables.to_markdown(table, "Claims of the paper", note, reporting.digits), table


def plot_map_curves(**histories: Partitions) -> Figure:
    """Figure 3: validation mAP per epoch of Table 1's models (the teacher the methods distil from,
    drawn in every panel, and every comparison method), and test mAP when every epoch was scored on
    test (``training.test_every_epoch``), one panel per home, supervision level and split; with
    several seeds, their mean and a band ± one std."""
    frames = _load_all(histories)
    frames = frames[frames["run"].isin(tables.method_runs(frames))]
    metrics = [metric for metric in figures.HISTORY_METRICS
               if metric in frames.columns and frames[metric].notna().all()]
    curves = frames.groupby(["label", "supervision", "home", "epoch"], sort=False)[metrics]
    table = (curves.mean().join(curves.std(), rsuffix="_std").reset_index()
             .rename(columns={"label": "method"}))
    references = list(dict.fromkeys(frames.loc[frames["group"] == "teacher", "label"]))
    seeds = frames["seed"].nunique()
    title = ("Sequence-level mAP per epoch (Figure 3)"
             + (f": mean of {seeds} seeds, band ± std" if seeds > 1 else ""))
    return figures.map_curves(table, references, title=title)


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


def _first_shared_partitions(models: Mapping[str, Partitions], reported: set[str]) -> dict[str, str]:
    """Per home, the first ``<home>/seed<k>`` of ``reported`` (the models the report covers, e.g.
    ``reporting.seeds``) every model of ``models`` has on disk (a home where one of them is missing
    is left out: the inventory names what is missing)."""
    shared = set.intersection(reported, *(set(partitions) for partitions in models.values()))
    first: dict[str, str] = {}
    for key in sorted(shared):
        first.setdefault(key.split("/")[0], key)
    return first


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
    for home, checkpoints in _figure4_models(models, model_metrics).items():
        sequence_id = _attention_sequence(sequences, splits, home, settings.sequence_id)
        indices, clip, weights = attention_maps(
            checkpoints, frames[sequence_id], log_mels[sequence_id], training.num_frames
        )
        shown = sorted(set(np.linspace(0, len(indices) - 1, settings.query_frames).round().astype(int)))
        plots[f"{home}.png"] = figures.attention_figure(
            weights, clip, shown, title=f"{sequence_id}: cross-modal attention (2.5-FPS frames)",
            frame_numbers=indices.tolist())
    return plots


def write_summary(
    table1_methods_csv: pd.DataFrame, claims_csv: pd.DataFrame, model_replicates: Replicates,
    training_summary: pd.DataFrame, dataset_statistics_csv: pd.DataFrame, mask_quality_table: str,
    simulation_overlap: dict, model_metrics: pd.DataFrame, model_inventory: pd.DataFrame,
    model: ModelConfig, training: TrainingSettings, ingestion: IngestionParameters, baseline: str,
    reporting: ReportingSettings,
) -> tuple[str, dict[str, Any]]:
    """summary.md and its record (``report_record.json``: date, commit, machine, settings).

    summary.md: a one-line headline (the claims' verdict counts; per home the best student against
    the teacher, Δ with its interval), where and from which code it comes, the settings, what is
    missing, Table 1 at sequence level, the claims per statement, the teacher check, training
    time, data and mask quality in a few lines, and links; per-model figures stay in the CSVs.
    """
    digits = reporting.digits
    record = {"generated": datetime.now(UTC).isoformat(timespec="seconds"),
              "commit": summary.code_version(), "machine": summary.machine_info()}
    settings = {
        "backbone": model.backbone, "T": training.num_frames,
        "image size": "×".join(str(side) for side in ingestion.image_size),
        "epochs": _epochs_by_role(training_summary), "batch size": training.batch_size,
        "learning rate": training.learning_rate,
        "seeds": ", ".join(str(s) for s in sorted(model_metrics["seed"].unique())),
        "homes": ", ".join(ingestion.homes), "data": f"`{ingestion.dataset_root}`",
        "evaluated split": reporting.split,
        "intervals": f"{reporting.intervals.confidence:.0%} over test sequences and seeds "
                     f"({reporting.intervals.replicates} bootstrap replicates)",
    }
    teacher = _baseline_teacher(model_metrics, baseline)
    best = summary.best_students(model_metrics, model_replicates, teacher, digits)
    headline = (f"**{claims.counts_sentence(claims_csv)}** ([claims](claims.md)). "
                + ("Best student against the teacher — " + "; ".join(best) + "." if best else ""))
    seconds = float(training_summary["seconds"].sum())
    width, n = tables.median_half_width(table1_methods_csv)
    overlap = {home: values.get("share_seen_by_2_or_more_views") for home, values in simulation_overlap.items()}
    sections = {
        "Missing": summary.missing_models(model_inventory),
        "Table 1, sequence level": _body(tables.to_markdown(
            summary.headline_columns(table1_methods_csv), "",
            f"Median half-width of the Δ intervals: {width:.{digits}f} points (over {n}).", digits)),
        "Claims per statement ([claims.md](claims.md) lists each)": _body(tables.to_markdown(
            summary.claims_by_statement(claims_csv), "")),
        "Training": (f"{seconds / 60:.1f} min of training over {len(training_summary)} models (per "
                     "model: [training_summary.csv](training_summary.csv)). "
                     + summary.teacher_check_line(summary.teacher_check(training_summary, baseline), digits)),
        "Data": f"Sequences train/val/test: {summary.split_sizes(dataset_statistics_csv)}. Share of "
                "person frames seen by two or more views: "
                + ", ".join(f"{home} {share:.0%}" for home, share in overlap.items() if share is not None) + ".",
        "Mask quality": _body(mask_quality_table),
    }
    record["settings"] = settings
    return summary.render_summary(headline, record, settings, sections, reporting.links), record


def _baseline_teacher(model_metrics: pd.DataFrame, baseline: str) -> Model | None:
    """The teacher model the baseline is compared against (its run at its first supervision)."""
    teachers = model_metrics.loc[model_metrics["run"] == baseline, "teacher"].dropna()
    if teachers.empty:
        return None
    rows = model_metrics[model_metrics["run"] == teachers.iloc[0]]
    return None if rows.empty else Model(*rows.iloc[0][["backbone", "run", "supervision"]])


def publish_reports(**reports: Any) -> dict[str, Any]:
    """Every report, computed in memory by the other nodes (``pending_<report>``), returned to its
    file dataset (``<report>``) at once: nothing is written before everything is computed."""
    return {name.removeprefix(PENDING): value for name, value in reports.items()}


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


def _figure4_models(models: Mapping[str, Partitions],
                    model_metrics: pd.DataFrame) -> dict[str, dict[str, Mapping[str, Any]]]:
    """Per home, the checkpoints of Figure 4's models at their first shared ``<home>/seed<k>`` among
    the models ``model_metrics`` reports, ``"<label> <supervision>" -> checkpoint`` (in ``models``'
    order), each checked to be the version whose predictions ``model_metrics`` reports."""
    versions = published_versions(model_metrics)
    reported = {f"{home}/seed{seed}" for _, _, home, seed in versions}
    shown = {}
    for home, key in _first_shared_partitions(models, reported).items():
        checkpoints = [load_published(partitions[key], versions) for partitions in models.values()]
        shown[home] = {f"{c['metadata']['label']} {c['metadata']['supervision']}": c
                       for c in checkpoints}
    return shown


def _test_sequences(splits: pd.DataFrame, home: str) -> list[str]:
    return sorted(splits.loc[(splits["home"] == home) & (splits["split"] == "test"), "sequence_id"])


def compute_saliency_maps(
    splits: pd.DataFrame, frames: Mapping[str, np.ndarray], log_mels: Mapping[str, np.ndarray],
    frame_labels: Mapping[str, np.ndarray], training: TrainingSettings,
    model_metrics: pd.DataFrame, **models: Partitions,
) -> StampedArrays:
    """The Grad-CAM maps of Figure 4's models (first shared seed) on every test sequence of every
    home, ``sequence_id -> (M, V, T, h, w)`` float32 (``models``' order), of the clip's most
    frequent class. Computed only when the store holds no maps of the same checkpoints
    (``model_version``), frames, log-mels, frame labels (their store's fingerprint, else their
    ingestion id), T and sequences."""
    shown = _figure4_models(models, model_metrics)
    home_of = {sid: home for home in shown for sid in _test_sequences(splits, home)}
    # each store by its fingerprint, or by its ingestion when it has none (the frame labels)
    stores = [getattr(store, "fingerprint", None) or getattr(store, "ingestion_id", None)
              for store in (frames, log_mels, frame_labels)]
    fingerprint = None if None in stores else Fingerprint({
        "models": {home: [c["metadata"]["model_version"] for c in checkpoints.values()]
                   for home, checkpoints in shown.items()},
        "stores": stores, "num_frames": training.num_frames, "sequences": sorted(home_of)})

    def maps(sequence_id: str) -> np.ndarray:
        indices, clip, audio = human_centric.clip_inputs(frames[sequence_id], log_mels[sequence_id],
                                                         training.num_frames)
        class_index = human_centric.explained_class(np.asarray(frame_labels[sequence_id])[indices])
        return np.stack(list(human_centric.saliency_maps(shown[home_of[sequence_id]], clip, audio,
                                                         class_index).values()))

    return StampedArrays(lazy_loaders(home_of, maps, "Figure 4 saliency"),
                         getattr(frames, "ingestion_id", None), fingerprint)


def plot_saliency_maps(
    sequences: pd.DataFrame, splits: pd.DataFrame, frames: Mapping[str, np.ndarray],
    log_mels: Mapping[str, np.ndarray], frame_labels: Mapping[str, np.ndarray],
    person_truth: pd.DataFrame, saliency: Mapping[str, np.ndarray], training: TrainingSettings,
    reporting: ReportingSettings, model_metrics: pd.DataFrame, dataset: DatasetDescription,
    **models: Partitions,
) -> tuple[dict[str, Figure], str, pd.DataFrame]:
    """Figure 4 as the paper draws it, ``{home}.png``: each view's frames of one test sequence with
    the spatial saliency (Grad-CAM on the ViT's patch tokens, ``saliency``:
    :func:`compute_saliency_maps`) of each model of ``reporting.attention.models`` (first seed)
    and the true person box, at the frames where the explained class (the clip's most frequent) is
    active that the models score highest, one colour scale per model; and, beyond the paper, the
    share of each model's saliency inside the true person box over every visible (view, frame) of
    every test sequence, per home (markdown, csv; empty without ground truth). Each checkpoint must
    be the version whose predictions ``model_metrics`` reports."""
    settings = reporting.attention
    plots, shares = {}, []
    for home, checkpoints in _figure4_models(models, model_metrics).items():
        shown_sequence = _attention_sequence(sequences, splits, home, settings.sequence_id)
        for sequence_id in _test_sequences(splits, home):
            indices, clip, audio = human_centric.clip_inputs(frames[sequence_id],
                                                             log_mels[sequence_id], training.num_frames)
            maps = dict(zip(checkpoints, np.asarray(saliency[sequence_id]), strict=True))
            truth = _truth_on_clip(person_truth, sequence_id, frames[sequence_id].shape[1], indices,
                                   dataset.sample_fps)
            if truth is not None:
                shares.append(human_centric.human_centric_shares(maps, *truth).assign(
                    home=home, sequence_id=sequence_id))
            if sequence_id == shown_sequence:
                labels = np.asarray(frame_labels[sequence_id])[indices]  # (T, C): the frames seen
                plots[f"{home}.png"] = _saliency_plot(checkpoints, clip, audio, maps, labels,
                                                      human_centric.explained_class(labels),
                                                      indices, truth, sequence_id,
                                                      settings.shown_frames, dataset.classes)
    table = _share_table(shares)
    note = ("Share (%) of each model's Grad-CAM saliency inside the true person box, mean over every "
            "(view, frame) of the test sequences where the simulator says the person is visible; "
            "`uniform` is the box's mean area, what a map spread evenly would score.")
    return plots, tables.to_markdown(table, "Human-centric saliency (Figure 4, measured)", note,
                                     reporting.digits), table


#: What Figure 4 asks the reader to look at.
SALIENCY_CAPTION = (
    "Frames where the explained class is happening, those the models score highest (p: each "
    "model's probability of the class at that frame). Each model has one colour scale over all its "
    "views: a view it draws no evidence from stays blue. Look for whether the red falls on the "
    "person (white box), and whether a model draws on views where no one is visible.")


def _saliency_plot(checkpoints: Mapping[str, Mapping[str, Any]], clip: Any, audio: Any,
                   maps: Mapping[str, np.ndarray], labels: np.ndarray, class_index: int,
                   indices: np.ndarray, truth: tuple[np.ndarray, np.ndarray] | None,
                   sequence_id: str, count: int, classes: Sequence[str]) -> Figure:
    """Figure 4 of one clip: ``count`` frames where ``classes[class_index]`` is active (``labels``
    ``(T, C)``) that the models score highest, each model's maps on one colour scale."""
    scores = human_centric.class_scores(checkpoints, clip, audio, class_index)
    shown = human_centric.shown_frames(labels[:, class_index] > 0,
                                       np.mean(list(scores.values()), axis=0), count)
    return figures.saliency_figure(
        clip.permute(0, 1, 3, 4, 2).numpy(), maps, shown, truth[1] if truth is not None else None,
        title=f"{sequence_id}: Grad-CAM of {classes[class_index]} (white: true person box)",
        frame_numbers=indices.tolist(), scores=scores, caption=SALIENCY_CAPTION)


def _truth_on_clip(person_truth: pd.DataFrame, sequence_id: str, n_frames: int,
                   indices: np.ndarray, sample_fps: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The simulator's visibility ``(V, T)`` and boxes ``(V, T, 4)`` at the clip's frames, or None
    without ground truth (real data)."""
    rows = person_truth[person_truth["sequence_id"] == sequence_id] if not person_truth.empty else person_truth
    if rows.empty:
        return None
    visible, boxes = truth_on_frames(rows, n_frames, sample_fps)
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
