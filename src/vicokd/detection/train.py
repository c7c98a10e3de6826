"""Train a YOLOv10 person detector from its model yaml (no pretrained weights) with ultralytics."""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from vicokd.detection.env import import_ultralytics
from vicokd.processes import beside_loaders, limit_threads


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
    **train_args,
) -> DetectorTraining:
    """Train ``model_cfg`` from scratch on ``data_yaml`` and copy the best weights to ``weights_out``.

    The run is seeded and deterministic, on CPU by default, without plots or AMP, with ``workers``
    DataLoader processes and torch threads on the other cores; its folder is
    ``runs_dir/person_detector`` (overwritten). Extra ``train_args`` go to ``YOLO.train`` unchanged
    (e.g. ``val=False`` to validate only after the last epoch, augmentation settings).
    """
    ultralytics = import_ultralytics()
    parallel = beside_loaders("masking.detector.workers", workers)
    model = ultralytics.YOLO(model_cfg, task="detect")
    # ultralytics sets torch's CPU threads to one fewer than the machine's CPUs when it picks the
    # device; the run takes back the cores beside its DataLoader processes
    model.add_callback("on_pretrain_routine_start", lambda _: limit_threads(parallel.threads))
    started = time.perf_counter()
    model.train(
        data=str(data_yaml), epochs=epochs, imgsz=imgsz, batch=batch, seed=seed, deterministic=True,
        workers=parallel.workers, device=device, amp=False, plots=False, pretrained=False,
        project=str(Path(runs_dir).resolve()), name="person_detector", exist_ok=True, verbose=False,
        **train_args,
    )
    seconds = time.perf_counter() - started
    trainer = model.trainer
    best = Path(trainer.best if Path(trainer.best).is_file() else trainer.last)
    weights_out = Path(weights_out)
    weights_out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(best, weights_out)
    metrics = {key: float(value) for key, value in (trainer.metrics or {}).items()}
    return DetectorTraining(weights=weights_out, seconds=seconds, metrics=metrics)
