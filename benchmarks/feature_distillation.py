"""Feature distillation on features that differ: the visual projection chosen on the validation
split, on the data of a finished run.

    python benchmarks/feature_distillation.py [--env base] [--projections auto linear]
        [--runs student modalkd cokd] [--supervisions V_F V_S] [--seeds 0 1 2]
        [--teachers folder]

With frozen encoders shared by teacher and student and ``model.visual_encoder.projection: auto``
(the identity when the encoder's width is ``dim``), teacher and student have the same ``F^V``, so
Eq. 7's ``‖F^AV_T − F^AV_S‖²`` equals its ``‖F^attn_T − F^attn_S‖²`` and ModalKD's visual term is 0.
``projection: linear`` gives each model a trainable Linear of its own. For each projection this
trains each of ``--runs`` at each supervision level, every home and seed, on the stores a
`kedro run` left under the data root, distilling the teachers on disk when they have that
projection, else teachers trained here once (and kept under ``--teachers``); nothing is written to
the catalog.

Printed: the teacher's validation sequence-level mAP; per projection, run, supervision and home the
selected epoch's validation sequence-level mAP (mean ± std over seeds; what a choice may be made
on) and, for information only, the test mAP; per projection and distilling run the squared
distances ``‖F_T − F_S‖²`` of the features it compares and of the others (mean over the first
validation batch and the seeds, selected checkpoints); and per configuration the validation mAP
minus the plain student's of the same projection, and minus the ``auto`` one of the same run
(averaged over homes and supervisions per seed, mean ± std over seeds).
"""
from __future__ import annotations

import argparse
import tempfile
from typing import Any

import pandas as pd
import torch
from on_disk import OnDisk, load_on_disk
from torch.utils.data import default_collate
from view_consistency_sweep import (
    paired_gain,
    summarise,
    teachers_for,
    train_models,
    with_projection,
)

from vicokd.losses import squared_feature_distance
from vicokd.training.checkpoints import model_from_checkpoint

FEATURES = ("f_visual", "f_audio", "f_attn", "f_av")


@torch.no_grad()
def feature_gaps(on_disk: OnDisk, student: dict[str, Any], teacher: dict[str, Any], home: str,
                 seed: int) -> dict[str, float]:
    """``‖F_T − F_S‖²`` (mean over positions) of each of :data:`FEATURES` on the first
    validation batch of ``home``."""
    settings = on_disk.params["training"]
    clips = on_disk.sources.clips(home, "val", settings.num_frames, seed, True, False, False)
    batch = default_collate([clips[i] for i in range(min(settings.eval_batch_size, len(clips)))])
    ours = model_from_checkpoint(student)(batch["frames"])
    theirs = model_from_checkpoint(teacher)(batch["frames"], batch["audio"])
    return {name: float(squared_feature_distance(getattr(ours, name), getattr(theirs, name)))
            for name in FEATURES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default=None)
    parser.add_argument("--projections", nargs="+", default=["auto", "linear"],
                        choices=["auto", "linear"])
    parser.add_argument("--runs", nargs="+", default=["student", "modalkd", "cokd"])
    parser.add_argument("--supervisions", nargs="+", default=["V_F", "V_S"])
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    parser.add_argument("--teachers", default="data/06_models/benchmark_teachers",
                        help="folder for teachers trained here")
    args = parser.parse_args()
    on_disk = load_on_disk(args.env)
    params = on_disk.params
    runs, seeds = params["runs"], args.seeds or params["seeds"]
    unknown = sorted(set(args.runs) - set(runs))
    if unknown:
        parser.error(f"unknown run(s) {unknown}: the run table has {sorted(runs)}")
    tables, gaps = [], []
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        for projection in args.projections:
            model = with_projection(params["model"], projection)
            teachers = teachers_for(on_disk, model, runs[args.runs[0]], seeds, args.teachers)
            teacher_val = pd.Series({key: c["metadata"]["val_seq_map"] for key, c in teachers.items()})
            print(f"{projection}: teacher val seq mAP {teacher_val.mean():.1f} "
                  f"± {teacher_val.std():.1f} over {len(teacher_val)} models", flush=True)
            loaders = {key: (lambda c=checkpoint: c) for key, checkpoint in teachers.items()}
            for name in args.runs:
                for supervision in args.supervisions:
                    trained = train_models(on_disk, runs[name], supervision, seeds,
                                           f"{checkpoint_dir}/{projection}/{name}", model, loaders)
                    tables.append(trained.rows.assign(config=f"{projection}/{name}"))
                    for (_, sup, home), row in summarise(tables[-1]).iterrows():
                        print(f"{projection:<7} {name:<9} {sup:<4} {home:<6} val {row['val']:5.1f} "
                              f"± {row['val_std']:4.1f}   test {row['test']:5.1f}", flush=True)
                    if runs[name].distils:
                        for key, checkpoint in trained.checkpoints.items():
                            home, seed = key.split("/")
                            gap = feature_gaps(on_disk, checkpoint, teachers[key], home,
                                               int(seed.removeprefix("seed")))
                            gaps.append({"config": f"{projection}/{name}", **gap})
    rows = pd.concat(tables)
    print("\n‖F_T − F_S‖² on the first validation batch, mean over homes, seeds, supervisions:")
    print(pd.DataFrame(gaps).groupby("config", sort=False).mean().to_string(float_format="%.4f"))
    print("\nValidation mAP minus the reference's, mean over homes and supervisions per seed "
          "(mean ± std over seeds):")
    for projection in args.projections:
        for name in args.runs:
            config = f"{projection}/{name}"
            against = [f"{projection}/student"] if "student" in args.runs else []
            against += ["auto/" + name] if projection != "auto" and "auto" in args.projections else []
            for reference in against:
                if reference != config:
                    pair = rows[rows["config"].isin([config, reference])]
                    gain = paired_gain(pair, reference).loc[config]
                    print(f"{config:<16} − {reference:<16} {gain['gain']:+6.2f} ± "
                          f"{gain['gain_std']:.2f}")


if __name__ == "__main__":
    main()
