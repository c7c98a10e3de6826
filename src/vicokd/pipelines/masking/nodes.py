"""Nodes of the masking pipeline: train (or load) a person detector, score frames, threshold, evaluate.

Each stage is reused while its inputs are unchanged: the detector's weights by the record beside
them (:mod:`vicokd.detection.train`), the person confidence and masks by the fingerprint their
store generation carries (the nodes hand the stores lazy loaders, called only when the fingerprint
differs: :class:`vicokd.datasets.StampedArrays`).
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from vicokd.data.description import DatasetDescription
from vicokd.data.digests import file_digest
from vicokd.datasets.array_store import StampedArrays, lazy_loaders
from vicokd.detection.infer import DetectorError, load_person_detector, person_confidence
from vicokd.detection.quality import best_threshold, mask_quality, quality_table
from vicokd.detection.train import detector_fingerprint, reusable_training, train_yolo_detector
from vicokd.detection.yolo_export import export_yolo_dataset, truth_by_sequence
from vicokd.fingerprints import Fingerprint

#: Training settings that say where files go, not what is trained.
PLACES = ("dataset_dir", "runs_dir", "weights_path")
#: The ``masking`` keys that change a person confidence score.
SCORING = ("person_class", "imgsz", "batch_size", "min_confidence", "device")


def _n_frames(store: Mapping[str, np.ndarray]) -> dict[str, int]:
    """``sequence_id -> n_frames`` read from a store's arrays (frame axis 1 for (V, n, ...) arrays)."""
    return {sequence_id: int(store[sequence_id].shape[1]) for sequence_id in store}


def prepare_person_detector(
    frames: Mapping[str, np.ndarray],
    splits: pd.DataFrame,
    person_truth: pd.DataFrame,
    masking: dict[str, Any],
    seed: int,
    dataset: DatasetDescription,
) -> dict[str, Any]:
    """Choose the person detector: none (truth source), ``masking.weights``, or a YOLOv10n trained here.

    Training exports the train split (images) and the val split (validation) with the simulator's boxes
    as a YOLO dataset, trains ``masking.detector.model`` from scratch and saves the best weights at
    ``masking.detector.weights_path``, unless the training recorded beside them had the same
    inputs (settings, seed, frames, splits, person truth): those weights are then reused.

    Returns:
        ``{source, weights (path or None), trained, reused, fingerprint, seconds, metrics, ...}``,
        saved as JSON.
    """
    if masking["source"] == "truth":
        return {"source": "truth", "weights": None, "trained": False}
    if masking["source"] != "detector":
        raise ValueError(f"masking.source must be 'detector' or 'truth', not {masking['source']!r}.")
    if masking.get("weights"):
        load_person_detector(masking["weights"], masking["person_class"])  # fail early on bad weights
        return {"source": "detector", "weights": str(masking["weights"]), "trained": False}
    if person_truth.empty:
        raise DetectorError("masking.weights is not set and person_truth is empty (real data has no "
                            "person boxes to train a detector): set masking.weights to a YOLO "
                            "checkpoint with a person class, e.g. COCO-pretrained yolov10n.pt.")
    settings = {key: value for key, value in masking["detector"].items() if key not in PLACES}
    yolo_splits = {split: splits.loc[splits["split"] == split, "sequence_id"].tolist()
                   for split in ("train", "val")}
    used = [sid for ids in yolo_splits.values() for sid in ids]
    truth = truth_by_sequence(person_truth[person_truth["sequence_id"].isin(used)],
                              {sid: int(frames[sid].shape[1]) for sid in used}, dataset.sample_fps)
    weights_path = masking["detector"]["weights_path"]
    fingerprint = detector_fingerprint(
        {**settings, "imgsz": masking["imgsz"], "seed": seed, "device": masking.get("device", "cpu")},
        getattr(frames, "fingerprint", None), yolo_splits, truth)
    run = reusable_training(weights_path, fingerprint)
    if run is None:
        data_yaml = export_yolo_dataset(frames, truth, yolo_splits, masking["detector"]["dataset_dir"],
                                        frame_step=settings.pop("frame_step", None))
        run = train_yolo_detector(
            data_yaml, weights_out=weights_path, runs_dir=masking["detector"]["runs_dir"],
            model_cfg=settings.pop("model"), imgsz=masking["imgsz"], seed=seed,
            device=masking.get("device", "cpu"), fingerprint=fingerprint, **settings,
        )
    return {"source": "detector", "weights": str(run.weights), "trained": True,
            "reused": run.reused, "fingerprint": run.fingerprint, "seconds": round(run.seconds, 1),
            "metrics": run.metrics, "train_sequences": len(yolo_splits["train"]),
            "val_sequences": len(yolo_splits["val"])}


def score_person_confidence(
    frames: Mapping[str, np.ndarray],
    person_truth: pd.DataFrame,
    person_detector: dict[str, Any],
    masking: dict[str, Any],
    dataset: DatasetDescription,
) -> Mapping[str, Any]:
    """Person confidence ``(V, n_frames)`` float32 of every sequence in ``frames``.

    Detector source: the maximum confidence over the detector's person boxes (0 when none),
    computed only when the store holds no scores of the same weights (their digest), frames (their
    store's fingerprint) and scoring settings. Truth source: the simulator's visibility as 0.0 / 1.0.
    """
    if person_detector["source"] == "truth":
        truth = truth_by_sequence(person_truth, _n_frames(frames), dataset.sample_fps)
        return {sid: visible.astype(np.float32) for sid, (visible, _) in truth.items()}
    weights, frames_fingerprint = person_detector["weights"], getattr(frames, "fingerprint", None)
    fingerprint = frames_fingerprint and Fingerprint({
        "weights": file_digest(weights), "frames": frames_fingerprint,
        "scoring": {key: masking.get(key) for key in SCORING}})

    @cache
    def detector() -> tuple[Any, int]:
        return load_person_detector(weights, masking["person_class"])

    def score(sid: str) -> np.ndarray:
        model, person_class = detector()
        return person_confidence(model, frames[sid], person_class, imgsz=masking["imgsz"],
                                 batch_size=masking["batch_size"],
                                 min_confidence=masking["min_confidence"],
                                 device=masking.get("device", "cpu"))

    return StampedArrays(lazy_loaders(frames, score, "Person detection"),
                         getattr(frames, "ingestion_id", None), fingerprint)


def choose_mask_threshold(
    person_confidence: Mapping[str, np.ndarray],
    person_truth: pd.DataFrame,
    splits: pd.DataFrame,
    masking: dict[str, Any],
    dataset: DatasetDescription,
) -> float:
    """``masking.threshold`` when it is a number; when ``"val"``, the value of
    ``masking.threshold_candidates`` with the best mask F1 on the val split (needs person_truth)."""
    if masking["threshold"] != "val":
        return float(masking["threshold"])
    if person_truth.empty:
        raise ValueError("masking.threshold is 'val' but person_truth is empty (real data): set a "
                         "number, e.g. 0.5.")
    val = splits.loc[splits["split"] == "val", "sequence_id"].tolist()
    truth = truth_by_sequence(person_truth[person_truth["sequence_id"].isin(val)],
                              {sid: int(person_confidence[sid].shape[1]) for sid in val},
                              dataset.sample_fps)
    return best_threshold(person_confidence, {sid: vis for sid, (vis, _) in truth.items()},
                          masking["threshold_candidates"])


def threshold_masks(
    person_confidence: Mapping[str, np.ndarray], mask_threshold: float
) -> StampedArrays:
    """Visibility masks ``(V, n_frames)`` uint8: 1 where the person confidence ≥ ``mask_threshold``
    (computed only when the store holds no masks of the same scores and threshold)."""
    scores = getattr(person_confidence, "fingerprint", None)
    fingerprint = scores and Fingerprint({"person_confidence": scores, "threshold": mask_threshold})

    def mask(sid: str) -> np.ndarray:
        return (np.asarray(person_confidence[sid]) >= mask_threshold).astype(np.uint8)

    return StampedArrays(lazy_loaders(person_confidence, mask, "Visibility masks"),
                         getattr(person_confidence, "ingestion_id", None), fingerprint)


def evaluate_masks(
    visibility_masks: Mapping[str, np.ndarray],
    person_truth: pd.DataFrame,
    splits: pd.DataFrame,
    person_detector: dict[str, Any],
    mask_threshold: float,
    dataset: DatasetDescription,
) -> tuple[dict[str, Any], str]:
    """Mask quality on the test split against the simulator's visibility: JSON report and markdown.

    The report holds ``homes: {home: {precision, recall, f1, tp, fp, fn, tn, frames}}``, empty with a
    ``note`` when there is no ground truth (real data).
    """
    report: dict[str, Any] = {
        "source": person_detector["source"], "split": "test", "threshold": mask_threshold,
        "detector": {k: v for k, v in person_detector.items() if k not in ("source", "reused")},
        "homes": {},
    }
    if person_truth.empty:
        report["note"] = "no ground truth (person_truth is empty)"
        return report, quality_table(report)
    test = splits[splits["split"] == "test"]
    homes = dict(zip(test["sequence_id"], test["home"]))
    truth = truth_by_sequence(person_truth[person_truth["sequence_id"].isin(homes)],
                              {sid: int(visibility_masks[sid].shape[1]) for sid in homes},
                              dataset.sample_fps)
    visible = {sid: truth_visible for sid, (truth_visible, _) in truth.items()}
    report["homes"] = mask_quality(visibility_masks, visible, homes)
    return report, quality_table(report)
