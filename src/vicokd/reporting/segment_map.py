"""Segment-level detection mAP of every trained model, from the prediction tables training wrote.

Training scores each sequence with one uniform clip of ``T`` frames (the prediction table's
``frame`` rows, 2.5-FPS frame ``frame_index``). Here each of those frames holds its score for the
2.5-FPS frames nearest to it, per-class thresholds are chosen on the model's validation frames
(:func:`vicokd.inference.segments.choose_thresholds`), the runs above threshold of the split's
sequences become segments (:func:`vicokd.inference.segments.frame_segments`) and they are scored
against the annotated segments at each temporal IoU
(:func:`vicokd.inference.detection.segment_detection_map`). The evaluation pipeline computes the
same measure from a sliding window over every frame (docs/inference.md); this one needs no model.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from vicokd.data.annotations import CLASSES, SAMPLE_FPS
from vicokd.inference.detection import segment_detection_map
from vicokd.inference.segments import annotation_segments, choose_thresholds, frame_segments
from vicokd.reporting.tables import (
    KEY_COLUMNS,
    RUN_COLUMNS,
    SCORE_PREFIX,
    TARGET_PREFIX,
    _sorted_rows,
)


def held_scores(frame_indices: np.ndarray, scores: np.ndarray, n_frames: int) -> np.ndarray:
    """``(n_frames, C)``: every 2.5-FPS frame takes the scores ``(T, C)`` of the nearest scored
    frame of ``frame_indices`` ``(T,)`` (the earlier one when two are as near)."""
    order = np.argsort(frame_indices, kind="stable")
    indices, scores = np.asarray(frame_indices)[order], np.asarray(scores)[order]
    midpoints = (indices[1:] + indices[:-1]) / 2.0
    nearest = np.searchsorted(midpoints, np.arange(n_frames), side="left")
    return scores[nearest]


def _frame_rows(table: pd.DataFrame, split: str) -> pd.DataFrame:
    return table[(table["level"] == "frame") & (table["split"] == split)]


def model_segment_map(predictions: pd.DataFrame, sequences: pd.DataFrame, split: str,
                      candidates: Sequence[float], tious: Sequence[float]) -> pd.DataFrame:
    """Segment-level detection mAP of one model's ``predictions`` on ``split``, thresholds chosen
    on its ``val`` frames; ``sequences``: the ``sequences`` table (``n_frames``, ``tricks`` as
    JSON).

    Returns :func:`segment_detection_map`'s rows (``tiou``, ``map``, ``ap.<class>``)."""
    score_columns = [f"{SCORE_PREFIX}{c}" for c in CLASSES]
    target_columns = [f"{TARGET_PREFIX}{c}" for c in CLASSES]
    validation = _frame_rows(predictions, "val")
    if validation.empty:
        raise ValueError("segment mAP: the prediction table has no validation frame to choose "
                         "thresholds on")
    thresholds, _, _ = choose_thresholds(validation[score_columns].to_numpy(np.float64),
                                         validation[target_columns].to_numpy(np.float64),
                                         candidates)
    lengths = sequences.set_index("sequence_id")["n_frames"]
    tricks = sequences.set_index("sequence_id")["tricks"]
    found, truth = [], []
    for sequence_id, rows in _frame_rows(predictions, split).groupby("sequence_id", sort=True):
        scores = held_scores(rows["frame_index"].to_numpy(), rows[score_columns].to_numpy(),
                             int(lengths[sequence_id]))
        found.append(frame_segments(scores, thresholds, CLASSES, SAMPLE_FPS)
                     .assign(recording=sequence_id))
        truth.append(annotation_segments(json.loads(tricks[sequence_id]))
                     .assign(recording=sequence_id))
    return segment_detection_map(pd.concat(found, ignore_index=True),
                                 pd.concat(truth, ignore_index=True), tious)


def segment_map_metrics(predictions: Mapping[str, pd.DataFrame], sequences: pd.DataFrame,
                        split: str, candidates: Sequence[float],
                        tious: Sequence[float]) -> pd.DataFrame:
    """:func:`model_segment_map` of every model (name -> prediction table): its identity columns,
    then ``tiou`` and ``map`` (percent), one row per tIoU and one ``mean``."""
    rows = []
    for name, table in predictions.items():
        identity = table.iloc[0][[*KEY_COLUMNS, *RUN_COLUMNS]].to_dict()
        try:
            result = model_segment_map(table, sequences, split, candidates, tious)
        except (KeyError, ValueError) as error:
            raise ValueError(f"Prediction table {name}: {error}") from error
        rows.append(result[["tiou", "map"]].assign(**identity))
    metrics = pd.concat(rows, ignore_index=True)
    return metrics[[*KEY_COLUMNS, *RUN_COLUMNS, "tiou", "map"]]


def _column(tiou: float | str) -> str:
    return "mAP mean" if tiou == "mean" else f"mAP@{tiou:g}"


def segment_map_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Rows run × supervision × home (mean over seeds), one ``mAP@<tIoU>`` column per threshold
    and ``mAP mean``."""
    keys = ["backbone", "run", "supervision", "home"]
    columns = metrics["tiou"].map(_column)
    wide = (metrics.assign(column=columns)
            .pivot_table(index=[*keys, "seed"], columns="column", values="map", sort=False)
            .groupby(level=keys, sort=False).mean().reset_index())
    return _sorted_rows(wide[[*keys, *dict.fromkeys(columns)]].rename_axis(columns=None))
