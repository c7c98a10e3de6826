"""Seconds per training epoch of the teacher and a ViCoKD student at the base (CPU demo) sizes.

Synthetic clips in the catalog formats (60 sequences per home as the simulator makes them: 36 train,
6 val, 18 test, 60 frames each). Prints seconds per epoch for each model kind; multiply by the
epochs and the number of models (4 teachers + 24 students) to size the default run.
Usage: .venv/bin/python benchmarks/training_speed.py [--epochs 2]
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from kedro.config import OmegaConfigLoader

from vicokd.data.annotations import CLASSES
from vicokd.settings import CONFIG_LOADER_ARGS
from vicokd.training.loop import TrainingSettings
from vicokd.training.recipes import merge_recipe
from vicokd.training.runs import ClipSources, frozen_teacher, train_for_home

ROOT = Path(__file__).resolve().parents[1]


def synthetic_home(n_frames=60, size=64, splits=(("train", 36), ("val", 6), ("test", 18))):
    rng = np.random.default_rng(0)
    rows, stores = [], {k: {} for k in ("frames", "audio", "labels", "masks", "presence")}
    index = 0
    for split, count in splits:
        for _ in range(count):
            sid = f"Home1/01/{index:02d}-Part1"
            labels = (rng.random((n_frames, len(CLASSES))) < 0.1).astype(np.uint8)
            labels[:, index % len(CLASSES)] = 1
            stores["frames"][sid] = rng.integers(0, 255, (5, n_frames, size, size, 3), dtype=np.uint8)
            stores["audio"][sid] = rng.standard_normal((5, n_frames, 40, 128)).astype(np.float16)
            stores["labels"][sid] = labels
            stores["masks"][sid] = (rng.random((5, n_frames)) < 0.7).astype(np.uint8)
            stores["presence"][sid] = rng.random((5, n_frames)).astype(np.float32)
            rows.append({"sequence_id": sid, "home": "Home1", "n_frames": n_frames, "split": split,
                         "labels": [CLASSES[index % len(CLASSES)]]})
            index += 1
    return ClipSources(pd.DataFrame(rows), stores["frames"], stores["audio"], stores["masks"],
                       stores["presence"], stores["labels"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    params = OmegaConfigLoader(str(ROOT / "conf"), env="base", **CONFIG_LOADER_ARGS)["parameters"]
    sources = synthetic_home(size=params["ingestion"]["image_size"][0])
    with tempfile.TemporaryDirectory() as folder:
        settings = TrainingSettings.from_params(
            {**params["training"], "epochs": args.epochs, "checkpoint_dir": folder, "progress": False})
        runs = {}
        for name, with_audio, supervision, method in (
            ("teacher", True, params["teacher"]["supervision"], {}),
            ("student", False, params["distill"]["supervisions"]["V_F"], {}),
            ("vicokd", False, params["distill"]["supervisions"]["V_F"],
             params["distill"]["methods"]["vicokd"]),
        ):
            recipe = merge_recipe(supervision, method)
            teacher = None
            if recipe.needs_teacher:
                teacher = {"Home1": (frozen_teacher(runs["teacher"].checkpoint, params["model"], "Home1"), "t")}
            began = time.perf_counter()
            runs[name] = train_for_home(
                sources, "Home1", {"model": name, "method": name, "supervision": "x", "backbone": "b"},
                recipe, params["model"], with_audio, settings, 0, teacher["Home1"] if teacher else None)
            total = time.perf_counter() - began
            per_epoch = runs[name].history["seconds"].mean()
            print(f"{name:8s} {per_epoch:6.1f} s/epoch (incl. val+test eval), {total:6.1f} s total "
                  f"for {args.epochs} epochs + final predictions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
