"""Metrics and the paper's tables, computed from prediction tables (never typed in).

A prediction table (one parquet per trained model, written by training) has the identity columns of
the model (:data:`KEY_COLUMNS` and :data:`RUN_COLUMNS`), then ``split``, ``sequence_id``, ``level`` ∈
:data:`LEVELS`, ``frame_index``, then ``score.<Class>`` and ``target.<Class>`` (0/1) for the 16
classes (see ``vicokd.training.evaluation.predictions_table`` for what each level's scores are).
:func:`evaluate_predictions` turns such tables into a *metrics* table, one row per model and level,
with ``map`` and ``ap.<Class>`` in percent; every table builder below reads only that. Tables list
runs by name (column ``run``) and show their labels; they headline sequence-level mAP.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from vicokd.data.annotations import CLASSES
from vicokd.metrics import mean_average_precision
from vicokd.reporting import intervals
from vicokd.reporting.intervals import Model, Replicates

#: Columns that identify one trained model.
KEY_COLUMNS: tuple[str, ...] = ("run", "supervision", "backbone", "seed", "home")
#: Columns that describe the run a model belongs to (its row of the run table), and the version of
#: the trained model (the checkpoint's ``model_version``: a report traces back to it).
RUN_COLUMNS: tuple[str, ...] = ("label", "group", "base", "teacher", "model_version")
SCORE_PREFIX = "score."
TARGET_PREFIX = "target."
AP_PREFIX = "ap."
#: Levels of the prediction tables: the sequence prediction, every frame, and the frame predictions
#: max-pooled over time (scored against sequence labels).
LEVELS: tuple[str, ...] = ("sequence", "frame", "pooled_frames")
#: Levels the tables show, headline first: sequence-level mAP is the paper's metric.
TABLE_LEVELS: tuple[str, ...] = ("sequence", "frame")
#: Supervision order of every table's rows.
SUPERVISION_ORDER: tuple[str, ...] = ("AV_F", "V_F", "V_S")


def validate_predictions(predictions: pd.DataFrame, source: str) -> None:
    """Raise ``ValueError`` naming ``source`` when a prediction table lacks a required column."""
    required = [*KEY_COLUMNS, *RUN_COLUMNS, "split", "sequence_id", "level", "frame_index"]
    required += [f"{SCORE_PREFIX}{c}" for c in CLASSES] + [f"{TARGET_PREFIX}{c}" for c in CLASSES]
    missing = [column for column in required if column not in predictions.columns]
    if missing:
        raise ValueError(f"Prediction table {source} lacks the columns {missing}.")
    unknown = set(predictions["level"].unique()) - set(LEVELS)
    if unknown:
        raise ValueError(f"Prediction table {source} has unknown levels {sorted(unknown)}.")


def class_average_precisions(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-class AP in percent, ``(C,)``, NaN for a class without positives.

    ``scores``, ``targets``: ``(N, C)``. Each entry is :func:`vicokd.metrics.mean_average_precision`
    of that single class, so the per-class figures and the macro mAP come from the same metric.
    """
    return np.array(
        [
            mean_average_precision(scores[:, [c]], targets[:, [c]]) if targets[:, c].any() else np.nan
            for c in range(targets.shape[1])
        ]
    )


def evaluate_predictions(
    predictions: Mapping[str, pd.DataFrame], split: str = "test"
) -> pd.DataFrame:
    """Macro mAP and per-class AP (percent) of every model on one split.

    Args:
        predictions: name → prediction table (one or several models each); the name is used in errors.
        split: the split to score (``test`` for the tables, ``val`` for model selection checks).

    Returns:
        One row per (model, level) in the order of the input: :data:`KEY_COLUMNS`,
        :data:`RUN_COLUMNS`, ``level``, ``n_rows``, ``map`` and ``ap.<Class>`` for the 16 classes.
    """
    score_columns = [f"{SCORE_PREFIX}{c}" for c in CLASSES]
    target_columns = [f"{TARGET_PREFIX}{c}" for c in CLASSES]
    rows = []
    for source, table in predictions.items():
        validate_predictions(table, source)
        scored = table[table["split"] == split]
        if scored.empty:
            raise ValueError(f"Prediction table {source} has no rows of the split {split!r}.")
        for key, group in scored.groupby([*KEY_COLUMNS, "level"], sort=False):
            scores = group[score_columns].to_numpy(dtype=np.float64)
            targets = group[target_columns].to_numpy(dtype=np.int64)
            if not targets.any():
                raise ValueError(f"Prediction table {source}: {key} has no positive label at all.")
            row = dict(zip([*KEY_COLUMNS, "level"], key))
            row.update(group.iloc[0][list(RUN_COLUMNS)].to_dict())
            row["n_rows"] = len(group)
            per_class = class_average_precisions(scores, targets)
            row["map"] = float(np.nanmean(per_class))  # mean_average_precision: the macro of these
            row.update(zip((f"{AP_PREFIX}{c}" for c in CLASSES), per_class))
            rows.append(row)
    columns = [*KEY_COLUMNS, "level", *RUN_COLUMNS, "n_rows", "map", *(f"{AP_PREFIX}{c}" for c in CLASSES)]
    return pd.DataFrame(rows, columns=columns)


def per_class_table(metrics: pd.DataFrame, level: str = "sequence") -> pd.DataFrame:
    """Per-class AP of every model at one level, averaged over seeds: rows run × supervision × home,
    columns classes."""
    chosen = metrics[metrics["level"] == level]
    keys = ["backbone", "run", "supervision", "home"]
    ap_columns = ["map", *(f"{AP_PREFIX}{c}" for c in CLASSES)]
    table = chosen.groupby(keys, sort=False)[ap_columns].mean().reset_index()
    return _sorted_rows(table).rename(columns={"map": "mAP", **{f"{AP_PREFIX}{c}": c for c in CLASSES}})


def _sorted_rows(table: pd.DataFrame, runs: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows ordered by backbone, then ``runs`` order (else first appearance), then supervision."""
    run_order = list(runs) if runs is not None else list(dict.fromkeys(table["run"]))
    ordered = table.assign(
        _run=table["run"].map({m: i for i, m in enumerate(run_order)}),
        _supervision=table["supervision"].map(
            lambda s: SUPERVISION_ORDER.index(s) if s in SUPERVISION_ORDER else len(SUPERVISION_ORDER)
        ),
    )
    ordered = ordered.sort_values(["backbone", "_run", "_supervision"], kind="stable")
    return ordered.drop(columns=["_run", "_supervision"]).reset_index(drop=True)


def comparison_table(
    metrics: pd.DataFrame,
    replicates: Replicates,
    runs: Sequence[str],
    references: Mapping[str, str],
    levels: Iterable[str] = TABLE_LEVELS,
) -> pd.DataFrame:
    """mAP (mean over seeds) of ``runs`` per home and level, and Δ to each run's reference, each
    with its interval (:mod:`vicokd.reporting.intervals`).

    Rows: backbone × run (in ``runs`` order, absent ones skipped) × supervision. Columns:
    ``backbone, run, supervision``, then per home ``<home> seeds`` (seeds on disk), ``<home> mAP``
    and ``<home> Δ`` (sequence level, the headline), ``<home> frame mAP`` and ``<home> frame Δ``,
    each followed by its ``low`` and ``high`` columns. Δ is ``run − references[run]`` of the same
    backbone, supervision and home, paired by seed; NaN for a run without a reference, for the
    reference itself, and where either did not run in that home.
    """
    chosen = metrics[metrics["run"].isin(runs)]
    if chosen.empty:
        return pd.DataFrame(columns=["backbone", "run", "supervision"])
    rows = _sorted_rows(chosen[["backbone", "run", "supervision"]].drop_duplicates(), runs)
    for home in sorted(metrics["home"].unique()):
        rows[f"{home} seeds"] = [len(replicates.seeds(Model(b, r, s), home, "sequence"))
                                 for b, r, s in _row_keys(rows)]
        for level in levels:
            prefix = f"{home} " if level == "sequence" else f"{home} {level} "
            estimates = {"mAP": [replicates.mean(Model(b, r, s), home, level)
                                 for b, r, s in _row_keys(rows)]}
            if references:
                estimates["Δ"] = [
                    replicates.difference(Model(b, r, s), Model(b, references[r], s), home, level)
                    if references.get(r, r) != r else intervals.MISSING
                    for b, r, s in _row_keys(rows)]
            for name, values in estimates.items():
                for part in ("value", "low", "high"):
                    suffix = "" if part == "value" else f" {part}"
                    rows[f"{prefix}{name}{suffix}"] = [getattr(e, part) for e in values]
    return rows


def median_half_width(table: pd.DataFrame) -> tuple[float, int]:
    """Median half-width (points) of the sequence-level Δ intervals of a :func:`comparison_table`
    (as written to its CSV) over its rows and homes that have one, and how many there are."""
    widths = [(table[f"{column} high"] - table[f"{column} low"]) / 2 for column in table.columns
              if str(column).endswith(" Δ") and " frame " not in str(column)
              and f"{column} high" in table.columns]
    values = pd.concat(widths).dropna() if widths else pd.Series(dtype=float)
    return (float(values.median()) if len(values) else np.nan), len(values)


def _row_keys(rows: pd.DataFrame) -> list[tuple[str, str, str]]:
    return list(zip(rows["backbone"], rows["run"], rows["supervision"]))


def _runs_of(metrics: pd.DataFrame, group: str) -> list[str]:
    """Runs of one group of the run table, in order of appearance."""
    return list(dict.fromkeys(metrics.loc[metrics["group"] == group, "run"]))


def method_runs(metrics: pd.DataFrame) -> list[str]:
    """Table 1's rows: the teacher(s) the methods distil from, then every comparison method."""
    methods = _runs_of(metrics, "method")
    teachers = metrics.loc[metrics["run"].isin(methods), "teacher"].dropna()
    return [*dict.fromkeys(teachers), *methods]


def teacher_runs(metrics: pd.DataFrame) -> list[str]:
    """Table 3's rows: every teacher run."""
    return _runs_of(metrics, "teacher")


def ablation_runs(metrics: pd.DataFrame) -> list[str]:
    """Table 4's rows: the run(s) the ablations override, then every ablation."""
    ablations = _runs_of(metrics, "ablation")
    bases = metrics.loc[metrics["run"].isin(ablations), "base"].dropna()
    return [*dict.fromkeys(bases), *ablations]


def seeds_table(metrics: pd.DataFrame, runs: Sequence[str], level: str = "sequence") -> pd.DataFrame:
    """Table 2: mAP mean, standard deviation (ddof=1) and number of seeds per run and home (n = 0
    and NaN where a run has no model in a home)."""
    chosen = metrics[(metrics["level"] == level) & metrics["run"].isin(runs)]
    if chosen.empty:
        return pd.DataFrame(columns=["backbone", "run", "supervision"])
    stats = (
        chosen.groupby(["backbone", "run", "supervision", "home"])["map"]
        .agg(mean="mean", std="std", n="count")
        .reset_index()
    )
    wide = stats.pivot(index=["backbone", "run", "supervision"], columns="home")
    wide.columns = [f"{home} {stat}" for stat, home in wide.columns]
    counts = [c for c in wide.columns if c.endswith(" n")]
    wide[counts] = wide[counts].fillna(0).astype(int)  # a run missing in a home: n = 0, mean —
    ordered = [f"{h} {s}" for h in sorted(stats["home"].unique()) for s in ("mean", "std", "n")]
    return _sorted_rows(wide[ordered].reset_index(), runs)


def run_labels(metrics: pd.DataFrame) -> dict[str, str]:
    """Display label of every run in ``metrics``."""
    return dict(zip(metrics["run"], metrics["label"]))


def relabel(table: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """The table with its ``run`` column shown as ``method``, runs replaced by their display labels
    (runs without a label are kept)."""
    if "run" not in table.columns:
        return table
    return table.assign(run=table["run"].map(lambda r: labels.get(r, r))).rename(
        columns={"run": "method"})


#: Suffixes of the columns that hold the interval of the column named before them.
INTERVAL_SUFFIXES: tuple[str, str] = (" low", " high")


def format_number(value: object, digits: int, signed: bool = False) -> str:
    """A table cell: ``—`` for NaN, floats with ``digits`` decimals; ``signed``: always a sign,
    the minus as ``−``."""
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "—"
        return f"{value:+.{digits}f}".replace("-", "−") if signed else f"{value:.{digits}f}"
    return str(value)


def format_estimate(value: float, low: float, high: float, digits: int, signed: bool = False) -> str:
    """``value [low, high]``, e.g. ``+2.9 [−1.2, +6.8]``; ``—`` when ``value`` is NaN."""
    if np.isnan(value):
        return "—"
    if np.isnan(low) or np.isnan(high):
        return format_number(value, digits, signed)
    return (f"{format_number(value, digits, signed)} "
            f"[{format_number(low, digits, signed)}, {format_number(high, digits, signed)}]")


def to_markdown(table: pd.DataFrame, title: str, note: str = "", digits: int = 2) -> str:
    """A markdown section: ``## title``, an optional note, and ``table`` as a pipe table.

    A column ``X`` followed by ``X low`` and ``X high`` is shown as one cell ``X [low, high]``.
    Floats are printed with ``digits`` decimals and NaN as ``—``; Δ columns carry a sign.
    An empty table is rendered as a sentence saying that no run produced it.
    """
    lines = [f"## {title}", ""] if title else []
    if note:
        lines += [note, ""]
    if table.empty:
        return "\n".join(lines + ["_No run produced this table._", ""])
    with_interval = {c for c in table.columns
                     if all(f"{c}{suffix}" in table.columns for suffix in INTERVAL_SUFFIXES)}
    shown = [c for c in table.columns
             if not any(str(c).endswith(suffix) and str(c)[: -len(suffix)] in with_interval
                        for suffix in INTERVAL_SUFFIXES)]
    lines.append("| " + " | ".join(str(c) for c in shown) + " |")
    numeric = [pd.api.types.is_numeric_dtype(table[c]) for c in shown]
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    for _, row in table.iterrows():
        cells = []
        for column in shown:
            signed = str(column).endswith("Δ")
            if column in with_interval:
                cells.append(format_estimate(row[column], row[f"{column} low"], row[f"{column} high"],
                                             digits, signed))
            else:
                cells.append(format_number(row[column], digits, signed))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def seeds_markdown(table: pd.DataFrame, title: str, note: str = "", digits: int = 2) -> str:
    """Table 2 as markdown: one ``mean ± std (n)`` cell per home."""
    if table.empty:
        return to_markdown(table, title, note, digits)
    homes = [c[: -len(" mean")] for c in table.columns if c.endswith(" mean")]
    cells = table[["backbone", "method", "supervision"]].copy()
    for home in homes:
        cells[home] = [
            f"{m:.{digits}f} ± {format_number(s, digits)} (n={int(n)})" if n > 0 else "—"
            for m, s, n in zip(table[f"{home} mean"], table[f"{home} std"], table[f"{home} n"])
        ]
    return to_markdown(cells, title, note, digits)


def paper_comparison(metrics: pd.DataFrame, paper: pd.DataFrame, runs: Sequence[str]) -> pd.DataFrame:
    """Our sequence-level mAP (mean, std, seeds) next to the paper's figure for every run we have.

    Args:
        metrics: :func:`evaluate_predictions` output over the benchmark grid.
        paper: ``home, backbone, method, supervision, map`` (the paper's reported mAP; ``method`` is
            the run's name).
        runs: row order of the runs (teacher, comparison methods, ablations).

    Returns:
        Rows backbone × run × supervision; per home ``<home> ours``, ``<home> std``, ``<home> n``,
        ``<home> paper`` and ``<home> ours − paper`` (NaN where the paper reports no figure).
    """
    table = seeds_table(metrics, runs)
    if table.empty:
        return table
    reported = paper.set_index(["backbone", "method", "supervision", "home"])["map"]
    for home in sorted(metrics["home"].unique()):
        keys = zip(table["backbone"], table["run"], table["supervision"])
        table[f"{home} paper"] = [reported.get((b, r, s, home), np.nan) for b, r, s in keys]
        table[f"{home} ours − paper"] = table[f"{home} mean"] - table[f"{home} paper"]
        table = table.rename(columns={f"{home} mean": f"{home} ours"})
    ordered = ["backbone", "run", "supervision"] + [
        f"{h} {s}" for h in sorted(metrics["home"].unique()) for s in ("ours", "std", "n", "paper", "ours − paper")
    ]
    return table[ordered]
