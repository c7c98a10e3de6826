"""Train a YOLOv10 person detector from its model yaml (no pretrained weights) with ultralytics."""
from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vicokd.detection.env import import_ultralytics
from vicokd.processes import beside_loaders, limit_threads
from vicokd.progress import Progress, stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DetectorTraining:
    """Where the trained weights are and what the run measured."""

    weights: Path
    seconds: float
    metrics: dict[str, float]


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
    progress: bool = True,
    **train_args,
) -> DetectorTraining:
    """Train ``model_cfg`` from scratch on ``data_yaml`` and copy the best weights to ``weights_out``.

    The run is seeded and deterministic, on CPU by default, without plots or AMP, with ``workers``
    DataLoader processes and torch threads on the other cores; its folder is
    ``runs_dir/person_detector`` (overwritten). Extra ``train_args`` go to ``YOLO.train`` unchanged
    (e.g. ``val=False`` to validate only after the last epoch, augmentation settings). One bar
    counts the epochs (``progress``: drawn on a terminal) and each epoch logs its losses.
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
    weights_out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(best, weights_out)
    metrics = {key: float(value) for key, value in (trainer.metrics or {}).items()}
    log.info("Person detector trained in %.0f s: %s", seconds,
             ", ".join(f"{key} {value:.3f}" for key, value in metrics.items()))
    return DetectorTraining(weights=weights_out, seconds=seconds, metrics=metrics)


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
