"""Which view-consistency variant and weight λ_VC, chosen on the validation split, on the data of a
finished run.

    python benchmarks/view_consistency_sweep.py [--env base] [--configs eq10@1 sigmoid@10 ...]
        [--supervisions V_F V_S] [--seeds 0 1 2] [--base vicokd] [--reference cokd]
        [--projection auto|linear] [--teachers folder] [--out rows.csv]

Trains the run ``--base`` of the run table with its ``view_consistency`` block replaced by each
configuration ``<variant>@<λ_VC>`` (a variant of :data:`VARIANTS` at a weight; default: every
variant at 1), and the run ``--reference`` unchanged
(CoKD: the same recipe without view consistency), at each supervision level, for every home and
seed of the environment, on the stores a `kedro run` left under the data root (cached features,
masks, splits, encoders, the teacher checkpoints). Every model has the visual projection
``--projection``; when the teachers on disk were trained with another model configuration, the
teachers are trained here once and kept under ``--teachers``. Nothing is written to the catalog (run
folders go to a temporary directory).

For each model, the epoch with the best validation sequence-level mAP is selected. Printed per
configuration, supervision and home: that validation mAP, mean ± std over seeds (what a choice may
be made on); VC's gradient share (``grad.view_consistency.share``: the norm of λ_VC·∇L_VC over the
norm of the supervision terms' gradient, on the parameters they share) at the selected epoch and
over all epochs, mean over seeds; and, for information only, the test sequence-level mAP. Then per
configuration: the validation mAP minus the reference's, averaged over homes and supervisions per
seed, mean ± std over seeds (paired by seed).
"""
from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from on_disk import OnDisk, load_on_disk

from vicokd.datasets.torch_checkpoint import read_torch_file, write_torch_file
from vicokd.models import ModelConfig, model_signature
from vicokd.pipelines.training.pipeline import teacher_models
from vicokd.reporting.tables import evaluate_predictions
from vicokd.training.recipes import Supervision
from vicokd.training.run_table import RunSpec
from vicokd.training.runs import train_run

SHARE = "grad.view_consistency.share"
#: The view-consistency blocks compared (the weight comes from the configuration). ``eq10`` is PAPER Eq. 10;
#: each other variant changes it as its name says (docs/training.md).
EQ10 = {"logits": "fused", "probabilities": "softmax", "confidence_weighting": True,
        "use_mask": True, "divergence": "js", "normalisation": "pairs_frames", "target": "symmetric"}
VARIANTS: dict[str, dict[str, Any]] = {
    "eq10": EQ10,
    "active": {**EQ10, "normalisation": "active_entries"},
    "sigmoid": {**EQ10, "probabilities": "sigmoid", "normalisation": "active_entries"},
    "sigmoid_target": {**EQ10, "probabilities": "sigmoid", "normalisation": "active_entries",
                       "target": "confident_view"},
    "prefusion": {**EQ10, "logits": "before_fusion", "probabilities": "sigmoid",
                  "normalisation": "active_entries", "target": "confident_view"},
    "prefusion_softmax": {**EQ10, "logits": "before_fusion", "normalisation": "active_entries",
                          "target": "confident_view"},
}


class TrainedRows(NamedTuple):
    """What :func:`train_models` gives: a row per home and seed, and the checkpoints."""

    rows: pd.DataFrame
    checkpoints: dict[str, dict[str, Any]]


def with_view_consistency(run: RunSpec, block: dict[str, Any] | None) -> RunSpec:
    """``run`` with its ``view_consistency`` term replaced by ``block`` (None: left as it is)."""
    if block is None:
        return run
    recipe = {**run.recipe.model_dump(), "view_consistency": block}
    return RunSpec.model_validate({**run.model_dump(), "recipe": recipe})


def with_projection(model: ModelConfig, projection: str) -> ModelConfig:
    """``model`` with ``visual_encoder.projection`` set to ``projection``."""
    visual = model.visual_encoder.model_copy(update={"projection": projection})
    return model.model_copy(update={"visual_encoder": visual})


def teachers_for(on_disk: OnDisk, model: ModelConfig, student: RunSpec, seeds: list[int],
                 folder: str | Path) -> dict[str, dict[str, Any]]:
    """The checkpoints of ``student``'s teacher run for ``model``, by ``<home>/seed<k>``: those on
    disk when they were trained with ``model``, else those an earlier call saved under ``folder``,
    else trained now (every home, ``seeds``) and saved there."""
    runs = on_disk.params["runs"]
    teacher = runs[student.teacher]
    on_disk_teachers = on_disk.catalog.load(teacher_models(student, runs))
    signature = model_signature(model, True)["model"]
    loaded = {key: load() for key, load in on_disk_teachers.items()}
    if all(checkpoint["config"] == signature for checkpoint in loaded.values()):
        return loaded
    folder = Path(folder) / model.visual_encoder.projection
    keys = [f"{home}/seed{seed}" for home in teacher.trained_homes(on_disk.params["ingestion"].homes)
            for seed in seeds]
    if all((folder / f"{key}.pt").is_file() for key in keys):
        return {key: read_torch_file(folder / f"{key}.pt", "teacher") for key in keys}
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        trained = train_models(on_disk, teacher, teacher.supervisions[0], seeds, checkpoint_dir,
                               model).checkpoints
    for key, checkpoint in trained.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        write_torch_file(checkpoint, folder / f"{key}.pt")
    return trained


def train_models(on_disk: OnDisk, run: RunSpec, supervision: str | Supervision, seeds: list[int],
                 checkpoint_dir: str, model: ModelConfig | None = None,
                 teacher: Mapping[str, Callable[[], Any]] | None = None) -> TrainedRows:
    """``run`` trained at ``supervision`` (a level of the environment, by name, or one given) for
    every home and seed of ``seeds`` (with ``model``, default the environment's, and distilling
    ``teacher``'s checkpoints, default those on disk).

    Returns one row per home and seed (the selected epoch's validation and test sequence-level mAP,
    the VC gradient share at that epoch and over all epochs, NaN without the term) and the
    checkpoints by ``<home>/seed<k>``."""
    params = on_disk.params
    settings = params["training"].with_overrides({"checkpoint_dir": checkpoint_dir, "progress": False,
                                                  "resume": False})
    if run.distils and teacher is None:
        teacher = on_disk.catalog.load(teacher_models(run, params["runs"]))
    if isinstance(supervision, str):
        supervision = params["supervision_levels"][supervision]
    checkpoints, histories, predictions = train_run(
        on_disk.sources, run, supervision, settings,
        model or params["model"], params["ingestion"].homes, seeds, on_disk.encoders, teacher)
    rows = []
    for key, history in histories.items():
        best = history.loc[history["val_seq_map"].idxmax()]
        test = evaluate_predictions({key: predictions[key]}, split="test").set_index("level")["map"]
        share = history[SHARE] if SHARE in history else pd.Series([float("nan")])
        rows.append({"supervision": supervision.name, "home": best["home"], "seed": best["seed"],
                     "val": best["val_seq_map"], "test": test["sequence"],
                     "share": best.get(SHARE, float("nan")), "share_all_epochs": share.mean()})
    return TrainedRows(pd.DataFrame(rows), checkpoints)


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per configuration, supervision and home: validation mean and std over seeds (ddof=1), the VC
    shares and the test mAP, means over seeds."""
    grouped = rows.groupby(["config", "supervision", "home"], sort=False)
    summary = grouped[["val", "share", "share_all_epochs", "test"]].mean()
    summary.insert(1, "val_std", grouped["val"].std())
    return summary


def paired_gain(rows: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per configuration: the validation mAP minus the reference's, averaged over homes and
    supervisions within each seed; mean and std over seeds."""
    per_seed = rows.groupby(["config", "seed"], sort=False)["val"].mean().unstack("config")
    gain = per_seed.sub(per_seed[reference], axis=0)
    return pd.DataFrame({"gain": gain.mean(), "gain_std": gain.std()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default=None)
    parser.add_argument("--configs", nargs="+", default=[f"{variant}@1" for variant in VARIANTS],
                        help="<variant>@<weight>, variants: " + ", ".join(VARIANTS))
    parser.add_argument("--supervisions", nargs="+", default=None,
                        help="supervision levels (default: those of the base run)")
    parser.add_argument("--base", default="vicokd", help="run whose view consistency is varied")
    parser.add_argument("--reference", default="cokd", help="run trained unchanged beside them")
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="training seeds (default: the environment's)")
    parser.add_argument("--projection", choices=["auto", "linear"], default=None,
                        help="model.visual_encoder.projection of every model (default: the "
                             "environment's); teachers trained for another one are kept in --teachers")
    parser.add_argument("--teachers", default="data/06_models/benchmark_teachers",
                        help="folder for teachers trained here")
    parser.add_argument("--out", default=None, help="CSV of every model's row")
    args = parser.parse_args()
    on_disk = load_on_disk(args.env)
    runs = on_disk.params["runs"]
    unknown = sorted({args.base, args.reference} - set(runs))
    if unknown:
        parser.error(f"unknown run(s) {unknown}: the run table has {sorted(runs)}")
    configs = {args.reference: runs[args.reference]}
    for config in args.configs:
        variant, _, weight = config.partition("@")
        if variant not in VARIANTS or not weight:
            parser.error(f"--configs {config!r}: expected <variant>@<weight>, variants {list(VARIANTS)}")
        block = {"weight": float(weight), **VARIANTS[variant]}
        configs[config] = with_view_consistency(runs[args.base], block)
    supervisions = args.supervisions or runs[args.base].supervisions
    seeds = args.seeds or on_disk.params["seeds"]
    model = with_projection(on_disk.params["model"],
                            args.projection or on_disk.params["model"].visual_encoder.projection)
    teachers = teachers_for(on_disk, model, runs[args.base], seeds, args.teachers)
    loaders = {key: (lambda c=checkpoint: c) for key, checkpoint in teachers.items()}
    header = (f"{'config':<24} {'sup':<4} {'home':<6} {'val seq mAP':>11} {'± std':>6} "
              f"{'VC share':>9} {'(all ep.)':>9} {'test seq':>8}")
    print(header, flush=True)
    tables = []
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        for name, run in configs.items():
            for supervision in supervisions:
                rows = train_models(on_disk, run, supervision, seeds, f"{checkpoint_dir}/{name}",
                                    model, loaders if run.distils else None).rows
                tables.append(rows.assign(config=name))
                for (_, sup, home), row in summarise(tables[-1]).iterrows():
                    print(f"{name:<24} {sup:<4} {home:<6} {row['val']:11.1f} {row['val_std']:6.1f} "
                          f"{row['share']:9.2e} {row['share_all_epochs']:9.2e} {row['test']:8.1f}",
                          flush=True)
            if args.out:
                pd.concat(tables).to_csv(args.out, index=False)
    rows = pd.concat(tables)
    print(f"\nValidation mAP minus {args.reference}'s, mean over homes and supervisions per seed "
          "(mean ± std over seeds):")
    for name, row in paired_gain(rows, args.reference).iterrows():
        print(f"{name:<24} {row['gain']:+6.2f} ± {row['gain_std']:.2f}")


if __name__ == "__main__":
    main()
