"""What a departure from the authors' code changes, on the validation split, on the data of a finished
run (docs/models.md, "Departures from the authors' code").

    python benchmarks/departures.py [--env base] [--departures presence ld_temperature]
        [--supervisions V_F V_S] [--seeds 0 1 2] [--projection auto|linear] [--teachers folder]

Each departure of :data:`DEPARTURES` is one run of the run table trained as configured here and with
the change(s) it lists, at each supervision level, for every home and seed, on the stores a
`kedro run` left under the data root (nothing is written to the catalog). Printed per variant,
supervision and home: the selected epoch's validation sequence-level mAP, mean ± std over seeds,
and the test mAP for information; then each variant's validation mAP minus the configured one's,
averaged over homes and supervisions per seed (mean ± std over seeds).
"""
from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from on_disk import load_on_disk
from view_consistency_sweep import (
    paired_gain,
    summarise,
    teachers_for,
    train_models,
    with_projection,
)

from vicokd.training.recipes import Supervision
from vicokd.training.run_table import RunSpec


@dataclass(frozen=True)
class Departure:
    """A run and, by name, the changes compared with it as configured (the first, ``{}``)."""

    run: str
    variants: dict[str, dict[str, Any]]
    apply: Callable[[RunSpec, Supervision, dict[str, Any]], tuple[RunSpec, Supervision]]


def _level(run: RunSpec, level: Supervision, change: dict[str, Any]) -> tuple[RunSpec, Supervision]:
    return run, Supervision.model_validate({**level.model_dump(), **change})


def _logit(run: RunSpec, level: Supervision, change: dict[str, Any]) -> tuple[RunSpec, Supervision]:
    recipe = run.recipe.model_dump()
    recipe["logit"] = {**recipe["logit"], **change}
    return RunSpec.model_validate({**run.model_dump(), "recipe": recipe}), level


DEPARTURES = {
    # presence head: ours BCE per view and frame at 0.1; the authors' CE over time at weight 1
    "presence": Departure("student", {"configured": {},
                                      "authors": {"presence": 1.0,
                                                  "presence_loss": "softmax_over_time"}}, _level),
    # LD temperature: not stated by the paper; τ = 4 configured
    "ld_temperature": Departure("cokd", {"configured": {}, "tau1": {"temperature": 1.0}},
                                _logit),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default=None)
    parser.add_argument("--departures", nargs="+", default=list(DEPARTURES),
                        choices=list(DEPARTURES))
    parser.add_argument("--supervisions", nargs="+", default=["V_F", "V_S"])
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    parser.add_argument("--projection", choices=["auto", "linear"], default=None,
                        help="model.visual_encoder.projection (default: the environment's)")
    parser.add_argument("--teachers", default="data/06_models/benchmark_teachers",
                        help="folder for teachers trained here")
    args = parser.parse_args()
    on_disk = load_on_disk(args.env)
    params = on_disk.params
    seeds = args.seeds or params["seeds"]
    model = with_projection(params["model"],
                            args.projection or params["model"].visual_encoder.projection)
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        for name in args.departures:
            departure = DEPARTURES[name]
            tables = []
            for variant, change in departure.variants.items():
                for supervision in args.supervisions:
                    run, level = departure.apply(params["runs"][departure.run],
                                                 params["supervision_levels"][supervision], change)
                    loaders = None
                    if run.distils:
                        teachers = teachers_for(on_disk, model, run, seeds, args.teachers)
                        loaders = {key: (lambda c=c: c) for key, c in teachers.items()}
                    rows = train_models(on_disk, run, level, seeds,
                                        f"{checkpoint_dir}/{name}/{variant}", model, loaders).rows
                    tables.append(rows.assign(config=variant))
                    for (_, sup, home), row in summarise(tables[-1]).iterrows():
                        print(f"{name:<15} {variant:<11} {sup:<4} {home:<6} val {row['val']:5.1f} "
                              f"± {row['val_std']:4.1f}   test {row['test']:5.1f}", flush=True)
            gains = paired_gain(pd.concat(tables), "configured")
            for variant, row in gains.drop(index="configured").iterrows():
                print(f"{name:<15} {variant:<11} − configured: {row['gain']:+6.2f} ± "
                      f"{row['gain_std']:.2f} (validation, mean over homes and supervisions)",
                      flush=True)


if __name__ == "__main__":
    main()
