"""Training steps with the loop's data path against the same steps without it.

    python benchmarks/training_steps.py [--env base] [--run vicokd] [--home Home1] [--epochs 3]

For one model of the run table (the run's first supervision level, the environment's first training
seed, its teacher's checkpoint from the catalog when it distils), on the stores a ``kedro run`` left
on disk (read through the catalog, as the training node reads them), the loop's optimiser steps
(the objective's forward passes, the weighted loss, backward, Adam) over ``--epochs`` epochs, twice
from the same initial weights:

- ``with the data path``: each epoch's DataLoader (``vicokd.training.batches.epoch_loader``, the
  clips sampled and collated as ``fit`` reads them);
- ``without``: the same batches, collated beforehand and held in memory: the limit the loop could
  reach with a free data path.

Evaluation, checkpoints and tracking are left out (``benchmarks/training_speed.py`` times whole
epochs). Prints clips per second of each, and the ratio of the first to the second, measured in
this one process (alternating, so that a busy machine slows both alike).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from vicokd.data.clips import ClipSources, join_splits
from vicokd.models import build_model
from vicokd.pipelines.training.pipeline import DATA_INPUTS
from vicokd.training.batches import epoch_loader
from vicokd.training.checkpoints import frozen_teacher
from vicokd.training.objectives import Objective, weighted_total
from vicokd.training.run_names import dataset_name, partition_key

PROJECT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="base")
    parser.add_argument("--run", default="vicokd")
    parser.add_argument("--home")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    os.chdir(PROJECT)
    bootstrap_project(PROJECT)
    with KedroSession.create(PROJECT, env=args.env) as session:
        context = session.load_context()
        params = context.params
        data = {name: context.catalog.load(name) for name in DATA_INPUTS}
        run = params["runs"][args.run]
        supervision = params["supervision_levels"][run.supervisions[0]]
        home, seed = args.home or params["ingestion"].homes[0], params["seeds"][0]
        teacher = None
        if run.distils:
            name = dataset_name(run.teacher, "model", params["runs"][run.teacher].supervisions[0])
            teacher = frozen_teacher(context.catalog.load(name)[partition_key(home, seed)](),
                                     params["model"], name)
    settings = params["training"].with_overrides(run.training)
    torch.set_num_threads(settings.num_threads)
    sources = ClipSources(join_splits(data["sequences"], data["splits"]), data["visual_features"],
                          data["audio_features"], data["visibility_masks"],
                          data["person_confidence"], data["frame_labels"])
    if not supervision.reads_frame_labels:
        sources = sources.withhold_frame_labels()
    clips = sources.clips(home, "train", settings.num_frames, seed,
                          supervision.audio or run.distils, supervision.reads_frame_labels,
                          settings.cache_arrays)
    objective = Objective(supervision, run.recipe, teacher)

    def loaders():
        for epoch in range(1, args.epochs + 1):
            clips.set_epoch(epoch)
            yield epoch_loader(clips, settings, seed * 100_003 + epoch, 0, 1, False)

    def steps(epochs) -> tuple[int, float]:
        """Clips trained on and seconds, from freshly seeded weights, over ``epochs`` (each an
        iterable of batches)."""
        torch.manual_seed(seed)
        model = build_model(params["model"], supervision.audio).train()
        optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate,
                                     weight_decay=settings.weight_decay)
        count, began = 0, time.perf_counter()
        for batches in epochs:
            for batch in batches:
                loss = weighted_total(objective.weights, objective(model, batch).terms)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                count += len(batch["sequence_id"])
        return count, time.perf_counter() - began

    held = [list(loader) for loader in loaders()]
    seconds = {"with the data path": 0.0, "without": 0.0}
    for _ in range(args.repeats):
        count, took = steps(loaders())
        seconds["with the data path"] += took
        seconds["without"] += steps(held)[1]
    print(f"{args.run} {run.supervisions[0]}, {home} seed {seed}: {args.epochs} epochs of "
          f"{count} clips (batch {settings.batch_size}, T = {settings.num_frames}), "
          f"{settings.num_threads} torch threads, {args.repeats} repeats, load average "
          f"{os.getloadavg()[0]:.1f}")
    for name, total in seconds.items():
        print(f"{name:<20} {args.repeats * count / total:8.1f} clips/s")
    print(f"with the data path / without: "
          f"{seconds['without'] / seconds['with the data path']:.2f} of the limit")


if __name__ == "__main__":
    main()
