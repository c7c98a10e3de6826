"""Train a YOLOv10 person detector from its model yaml (no pretrained weights) with ultralytics.

A training records itself beside its weights (``<weights>.json``: fingerprint, weights digest,
seconds, metrics), so a later run with the same inputs reuses the weights instead of training again.
"""
from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vicokd.data.digests import content_digest, file_digest
from vicokd.datasets.staging import staged
from vicokd.detection.env import import_ultralytics
from vicokd.fingerprints import Fingerprint, changed_parts
from vicokd.processes import beside_loaders, limit_threads
from vicokd.progress import Progress, stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DetectorTraining:
    """Where the trained weights are, what the run measured, the fingerprint of its inputs (None:
    not recorded) and whether these weights were ``reused`` from an earlier run."""

    weights: Path
    seconds: float
    metrics: dict[str, float]
    fingerprint: str | None = None
    reused: bool = False


def training_record(weights: str | Path) -> Path:
    """The record of the training that wrote ``weights``: ``<weights without suffix>.json``."""
    return Path(weights).with_suffix(".json")


def detector_fingerprint(
    settings: Mapping[str, Any],
    frames: str | None,
    splits: Mapping[str, list[str]],
    truth: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> Fingerprint | None:
    """What a trained detector depends on: the training ``settings`` (model, epochs, image size,
    seed, device, ...), the ``frames`` store's fingerprint, the ``splits`` it trains and validates
    on and the person ``truth`` (``sequence_id -> (visible, boxes)``) of those sequences. None when
    the frames carry no fingerprint (arrays made by hand): such a detector is never reused."""
    if frames is None:
        return None
    arrays = {f"{sid}/{name}": array for sid, pair in truth.items()
              for name, array in zip(("visible", "boxes"), pair)}
    return Fingerprint({"settings": dict(settings), "frames": frames, "splits": dict(splits),
                        "person_truth": content_digest(arrays, arrays)})


def reusable_training(weights: str | Path, fingerprint: Fingerprint | None) -> DetectorTraining | None:
    """The training recorded beside ``weights`` when its fingerprint is ``fingerprint`` and the
    weights are still those it wrote; else None, with a log line saying why."""
    weights, record_path = Path(weights), training_record(weights)
    if fingerprint is None or not record_path.is_file() or not weights.is_file():
        return None
    record = json.loads(record_path.read_text())
    if record.get("fingerprint") != fingerprint:
        log.info("Training the person detector afresh: %s was trained from other inputs "
                 "(changed: %s)", weights, ", ".join(changed_parts(record.get("parts"),
                                                                   fingerprint.parts)))
        return None
    if record.get("weights_digest") != file_digest(weights):
        log.warning("Training the person detector afresh: %s is not the file its training "
                    "wrote (replaced or damaged)", weights)
        return None
    log.info("Person detector %s: its inputs are unchanged, reused", weights)
    return DetectorTraining(weights, record["seconds"], record["metrics"], fingerprint, reused=True)


def train_yolo_detector(
    data_yaml: str | Path,
    weights_out: str | Path,
    runs_dir: str | Path,
    model_cfg: str = "yolov10n.yaml",
    epochs: int = 10,
    imgsz: int = 64,
    batch: int = 64,
    seed: int = 0,
    workers: int = 0,
    device: str = "cpu",
    fingerprint: Fingerprint | None = None,
    progress: bool = True,
    **train_args,
) -> DetectorTraining:
    """Train ``model_cfg`` from scratch on ``data_yaml`` and copy the best weights to ``weights_out``.

    The run is seeded and deterministic, on CPU by default, without plots or AMP, with ``workers``
    DataLoader processes and torch threads on the other cores; its folder is
    ``runs_dir/person_detector`` (overwritten). Extra ``train_args`` go to ``YOLO.train`` unchanged
    (e.g. ``val=False`` to validate only after the last epoch, augmentation settings). One bar
    counts the epochs (``progress``: drawn on a terminal) and each epoch logs its losses. With a
    ``fingerprint`` (:func:`detector_fingerprint`) the training is recorded beside the weights
    (:func:`training_record`), for :func:`reusable_training`.
    """
    ultralytics = import_ultralytics()
    parallel = beside_loaders("masking.detector.workers", workers)
    model = ultralytics.YOLO(model_cfg, task="detect")
    # ultralytics sets torch's CPU threads to one fewer than the machine's CPUs when it picks the
    # device; the run takes back the cores beside its DataLoader processes
    model.add_callback("on_pretrain_routine_start", lambda _: limit_threads(parallel.threads))
    started = time.perf_counter()
    with stage("person detector", epochs, "epoch", progress) as bar:
        model.add_callback("on_fit_epoch_end", lambda trainer: _epoch_done(trainer, bar))
        model.train(
            data=str(data_yaml), epochs=epochs, imgsz=imgsz, batch=batch, seed=seed,
            deterministic=True, workers=parallel.workers, device=device, amp=False, plots=False,
            pretrained=False, project=str(Path(runs_dir).resolve()), name="person_detector",
            exist_ok=True, verbose=False, **train_args,
        )
    seconds = time.perf_counter() - started
    trainer = model.trainer
    best = Path(trainer.best if Path(trainer.best).is_file() else trainer.last)
    weights_out = Path(weights_out)
    record_path = training_record(weights_out)
    record_path.unlink(missing_ok=True)  # the old record no longer describes the weights
    with staged(weights_out) as staging:
        shutil.copyfile(best, staging)
    metrics = {key: float(value) for key, value in (trainer.metrics or {}).items()}
    if fingerprint is not None:
        record = {"fingerprint": str(fingerprint), "parts": fingerprint.parts,
                  "weights_digest": file_digest(weights_out), "seconds": seconds, "metrics": metrics}
        with staged(record_path) as staging:
            staging.write_text(json.dumps(record, indent=1) + "\n")
    log.info("Person detector trained in %.0f s: %s", seconds,
             ", ".join(f"{key} {value:.3f}" for key, value in metrics.items()))
    return DetectorTraining(weights_out, seconds, metrics, fingerprint)


def _epoch_done(trainer: Any, bar: Progress) -> None:
    """An ultralytics epoch's end: its losses in the log, the bar one epoch further (nothing for
    the best weights' validation after the last epoch, which ultralytics reports as one more)."""
    if trainer.epoch >= trainer.epochs:
        return
    losses = trainer.label_loss_items(trainer.tloss, prefix="train")
    log.info("Person detector epoch %d/%d: %s (%.1f s)", trainer.epoch + 1, trainer.epochs,
             ", ".join(f"{key.removeprefix('train/')} {value:.4f}" for key, value in losses.items()),
             trainer.epoch_time or 0.0)
    bar.advance()
