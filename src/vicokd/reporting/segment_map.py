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
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from vicokd.fingerprints import Fingerprint
from vicokd.inference.detection import segment_detection_map
from vicokd.inference.segments import (
    SEGMENT_COLUMNS,
    annotation_records,
    choose_thresholds,
    segment_records,
)
from vicokd.reporting import memo
from vicokd.reporting.tables import (
    KEY_COLUMNS,
    RUN_COLUMNS,
    SCORE_PREFIX,
    TARGET_PREFIX,
    _sorted_rows,
    prediction_classes,
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


def annotated_segments(sequences: pd.DataFrame) -> pd.DataFrame:
    """Every annotated segment of ``sequences`` (``tricks`` as JSON): ``class, start, end``
    (seconds) and ``recording`` (the sequence id)."""
    records = [{"recording": sequence_id, **segment}
               for sequence_id, tricks in zip(sequences["sequence_id"], sequences["tricks"])
               for segment in annotation_records(json.loads(tricks))]
    return pd.DataFrame(records, columns=["recording", "class", "start", "end"])


def model_segment_map(predictions: pd.DataFrame, lengths: pd.Series, truth: pd.DataFrame,
                      split: str, candidates: Sequence[float], tious: Sequence[float],
                      sample_fps: float) -> pd.DataFrame:
    """Segment-level detection mAP of one model's ``predictions`` on ``split``, thresholds chosen
    on its ``val`` frames; ``lengths``: sequence id -> ``n_frames``; ``truth``:
    :func:`annotated_segments`; frames are ``sample_fps`` apart (``dataset.sample_fps``).

    Returns :func:`segment_detection_map`'s rows (``tiou``, ``map``, ``ap.<class>``)."""
    classes = prediction_classes(predictions)
    score_columns = [f"{SCORE_PREFIX}{c}" for c in classes]
    target_columns = [f"{TARGET_PREFIX}{c}" for c in classes]
    validation = _frame_rows(predictions, "val")
    if validation.empty:
        raise ValueError("segment mAP: the prediction table has no validation frame to choose "
                         "thresholds on")
    thresholds, _, _ = choose_thresholds(validation[score_columns].to_numpy(np.float64),
                                         validation[target_columns].to_numpy(np.float64),
                                         candidates)
    rows = _frame_rows(predictions, split).sort_values("sequence_id", kind="stable")
    sequence_ids = rows["sequence_id"].to_numpy()
    frame_indices, scores = rows["frame_index"].to_numpy(), rows[score_columns].to_numpy()
    recordings, starts = np.unique(sequence_ids, return_index=True)
    found = [{"recording": sequence_id, **segment}
             for sequence_id, indices, held in zip(recordings, np.split(frame_indices, starts[1:]),
                                                   np.split(scores, starts[1:]))
             for segment in segment_records(held_scores(indices, held, int(lengths[sequence_id])),
                                            thresholds, classes, sample_fps)]
    return segment_detection_map(pd.DataFrame(found, columns=["recording", *SEGMENT_COLUMNS]),
                                 truth[truth["recording"].isin(recordings)], tious)


def segment_map_metrics(predictions: Mapping[str, pd.DataFrame], sequences: pd.DataFrame,
                        split: str, candidates: Sequence[float], tious: Sequence[float],
                        sample_fps: float,
                        published: Mapping[str, Callable[[], pd.DataFrame]] | None = None,
                        ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """:func:`model_segment_map` of every model (name -> prediction table): its identity columns,
    then ``tiou`` (text: ``"0.5"``, ``"mean"``) and ``map`` (percent), one row per tIoU and one
    ``mean``. A model's rows are read back from ``published`` (name -> loader) when the model, its
    home's sequences (frames, annotations) and the settings are unchanged
    (:mod:`vicokd.reporting.memo`).

    Returns:
        The metrics of every model and the per-model tables computed here (with their memo key).
    """
    truth = annotated_segments(sequences)
    lengths = sequences.set_index("sequence_id")["n_frames"]
    homes = {home: Fingerprint({"sequences": rows[["sequence_id", "n_frames", "tricks"]]
                                .sort_values("sequence_id").to_numpy().tolist()})
             for home, rows in sequences.groupby("home")}

    def key_of(table: pd.DataFrame) -> str | None:
        return memo.memo_key(table, split=split, candidates=list(candidates), tious=list(tious),
                             sample_fps=sample_fps, homes=[homes.get(h) for h in sorted(set(table["home"]))])

    def compute(name: str, table: pd.DataFrame) -> pd.DataFrame:
        identity = table.iloc[0][[*KEY_COLUMNS, *RUN_COLUMNS]].to_dict()
        try:
            result = model_segment_map(table, lengths, truth, split, candidates, tious, sample_fps)
        except (KeyError, ValueError) as error:
            raise ValueError(f"Prediction table {name}: {error}") from error
        tiou = [threshold if threshold == "mean" else f"{threshold:g}" for threshold in result["tiou"]]
        return (result[["map"]].assign(tiou=tiou, **identity)
                [[*KEY_COLUMNS, *RUN_COLUMNS, "tiou", "map"]])

    results, computed = memo.reuse_or_compute(predictions, published or {}, key_of, compute,
                                              "segment mAP")
    return pd.concat(results.values(), ignore_index=True), computed


def _column(tiou: str) -> str:
    return "mAP mean" if tiou == "mean" else f"mAP@{tiou}"


def segment_map_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Rows run × supervision × home (mean over seeds), one ``mAP@<tIoU>`` column per threshold
    and ``mAP mean``."""
    keys = ["backbone", "run", "supervision", "home"]
    columns = metrics["tiou"].map(_column)
    wide = (metrics.assign(column=columns)
            .pivot_table(index=[*keys, "seed"], columns="column", values="map", sort=False)
            .groupby(level=keys, sort=False).mean().reset_index())
    return _sorted_rows(wide[[*keys, *dict.fromkeys(columns)]].rename_axis(columns=None))
