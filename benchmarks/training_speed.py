"""Seconds per training epoch of the teacher, the plain student and a ViCoKD student.

    python benchmarks/training_speed.py [--env base] [--home Home1] [--epochs 2]

Trains, for one home and the environment's first training seed, the teacher that the run table's
``vicokd`` row distils from, at its supervision level (AV_F), then the plain student (the
``baseline`` run) and ViCoKD at their first level (V_F), ViCoKD distilling from that teacher, with
the environment's settings except ``--epochs``. The data are the stores a ``kedro run`` left under
the environment's data root (``kedro run --env <env> --pipelines
simulation,ingestion,stratification,masking,pretraining,features`` makes them), read through the
catalog and passed to the training pipeline's node as a run passes them. Prints seconds per epoch
(training plus the validation and test evaluation of every epoch) for each model; multiply by the
epochs and the number of models of the run table to size a run. Nothing is written to the catalog
(run folders go to a temporary directory).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from vicokd.pipelines.training.nodes import train_models
from vicokd.pipelines.training.pipeline import DATA_INPUTS
from vicokd.training.run_names import partition_key

PROJECT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="base", help="the environment (base, test, paper)")
    parser.add_argument("--home", help="the home trained in (default: the first of ingestion.homes)")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    os.chdir(PROJECT)  # the catalog's paths are relative to the project root
    bootstrap_project(PROJECT)
    with KedroSession.create(PROJECT, env=args.env) as session:
        context = session.load_context()
        params = context.params
        data = {name: context.catalog.load(name) for name in DATA_INPUTS}
    runs, levels = params["runs"], params["supervision_levels"]
    vicokd = runs["vicokd"]
    home = args.home or params["ingestion"].homes[0]
    seed = params["seeds"][0]
    key = partition_key(home, seed)
    print(f"env {args.env}, {key}, backbone {params['model'].backbone}, {args.epochs} epochs")
    checkpoints = {}
    with tempfile.TemporaryDirectory() as folder:
        training = params["training"].with_overrides({"checkpoint_dir": folder, "progress": False})
        for run in (runs[vicokd.teacher], runs[params["baseline"]], vicokd):
            supervision = run.supervisions[0]
            teacher = {key: lambda c=checkpoints[run.teacher]: c} if run.distils else None
            run = run.model_copy(update={"training": {**run.training, "epochs": args.epochs}})
            began = time.perf_counter()
            models, histories, _ = train_models(
                **data, run=run, supervision=levels[supervision], training=training,
                model=params["model"], homes=[home], seeds=[seed], dataset=params["dataset"],
                teacher_models=teacher)
            total = time.perf_counter() - began
            checkpoints[run.name] = models[key]
            print(f"{run.name:8s} {supervision}  {histories[key]['seconds'].mean():7.2f} s/epoch "
                  f"(incl. val+test eval), {total:7.2f} s total for {args.epochs} epochs + final "
                  f"predictions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
