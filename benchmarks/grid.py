"""The method benchmark: backbones × seeds × every run of the run table × homes, resumable.

    python benchmarks/grid.py --env paper                     # the full grid (GPU): 3 backbones
    python benchmarks/grid.py --env base --seeds 0 --backbones multitsf   # a cell of the CPU demo
    python benchmarks/grid.py --env paper --homes Home1       # one home only
    python benchmarks/grid.py --env paper --report-only       # the table from the cells on disk

The data stages (simulation, ingestion, stratification, masking, pretraining, features) run once,
in the environment's data root, skipping the nodes whose outputs exist (``only_missing_outputs``):
every cell trains on the same splits, masks, encoders and cached features. A cell is one backbone
with the training seeds (``--seeds``; default: the environment's ``seeds``). It runs the
``teacher`` and ``distill`` pipelines, then ``reporting``, from its own conf source,
``<data_root>/benchmark/<backbone>/conf``: ``conf/base`` and ``conf/<env>`` as they are, except
that the catalog files declaring what training and reporting write (:data:`CELL_CATALOGS`) point
at the cell folder instead of the data root. So the cell's models, histories, predictions, run
folders and reports (Tables 1-4, ``summary.md``) land in ``<data_root>/benchmark/<backbone>/``,
and cells overwrite neither each other nor the default run. Running a cell again resumes it
(``training.resume``): an interrupted model continues from its last epoch, a finished one is
reused, and only what is missing (another seed, say) is trained before the cell's reports are
rewritten.

The report, ``<data_root>/benchmark/benchmark.md`` (and ``.csv``), puts our sequence-level mAP on
``reporting.split`` (mean ± std over the seeds on disk, from each cell's ``model_metrics.csv``)
next to the paper's (``vicokd/reporting/paper_results.csv``), with the date, machine and settings.
"""
from __future__ import annotations

import argparse
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from tqdm.auto import tqdm

from vicokd.configuration import ProjectConfigLoader
from vicokd.models import BACKBONES
from vicokd.reporting import summary, tables
from vicokd.reporting.paper import paper_results
from vicokd.settings import CONFIG_LOADER_ARGS

PROJECT = Path(__file__).resolve().parents[1]
CONF = PROJECT / "conf"
DATA_PIPELINES = ["simulation", "ingestion", "stratification", "masking", "pretraining", "features"]
#: A cell's two runs: training, then reporting (on its own: validated with the training nodes,
#: the run table's rows would reach the reporting nodes as models rather than mappings).
CELL_RUNS = (["teacher", "distill"], ["reporting"])
#: The catalog files of ``conf/base`` that declare what a cell writes: every run's models,
#: histories and predictions, and the reports.
CELL_CATALOGS = ("catalog_training.yml", "catalog_reporting.yml")
DATA_ROOT = "${globals:data_root}"
#: The columns that identify one trained model in ``model_metrics.csv``.
MODEL = ["run", "supervision", "backbone", "home", "seed"]


def environment_config(env: str) -> ProjectConfigLoader:
    """The project's configuration of ``env`` (``conf/<env>`` over ``conf/base``; ``base``
    alone)."""
    return ProjectConfigLoader(str(CONF), env=env, **CONFIG_LOADER_ARGS)


def cell_folder(data_root: str, backbone: str) -> str:
    """Where one backbone's cell writes (relative to the project, like the catalog's paths)."""
    return f"{data_root}/benchmark/{backbone}"


def assemble_conf(env: str, cell: str, target: Path) -> Path:
    """A conf source at ``target``: ``conf/base`` and ``conf/<env>``, with the data root of the
    :data:`CELL_CATALOGS` replaced by ``cell``."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(CONF / "base", target / "base")
    if env != "base":
        shutil.copytree(CONF / env, target / env)
    for name in CELL_CATALOGS:
        catalog = target / "base" / name
        text = catalog.read_text()
        if DATA_ROOT not in text:
            raise SystemExit(f"{CONF / 'base' / name} has no path under {DATA_ROOT}: "
                             "benchmarks/grid.py cannot move its datasets into a cell")
        catalog.write_text(text.replace(DATA_ROOT, cell))
    return target


def cell_params(cell: str, backbone: str, seeds: list[int] | None,
                homes: list[str] | None) -> dict[str, Any]:
    """Runtime parameters of one cell: its backbone, its run folders (resumed), and the training
    ``seeds`` and evaluation ``homes`` when given (default: the environment's)."""
    params: dict[str, Any] = {
        "model": {"backbone": backbone},
        "training": {"checkpoint_dir": f"{cell}/06_models/runs", "resume": True},
    }
    if seeds:
        params["seeds"] = seeds
    if homes:
        params["ingestion"] = {"homes": homes}
    return params


def run(env: str, pipelines: list[str], conf_source: Path | None = None,
        runtime_params: dict | None = None, only_missing_outputs: bool = False) -> None:
    """One Kedro run of ``pipelines``."""
    with KedroSession.create(PROJECT, env=env, conf_source=conf_source and str(conf_source),
                             runtime_params=runtime_params) as session:
        session.run(pipeline_names=pipelines, only_missing_outputs=only_missing_outputs)


def settings_of(params: dict[str, Any]) -> dict[str, Any]:
    """The settings shown beside the table."""
    training, model, ingestion = params["training"], params["model"], params["ingestion"]
    longer = ", ".join(f"{name} {run.training['epochs']}" for name, run in params["runs"].items()
                       if "epochs" in run.training)
    encoders = {f"{modality} encoder": f"{encoder['pretrained'] or 'random init'}, "
                                       f"{'fine-tuned' if encoder['trainable'] else 'frozen'}"
                for modality, encoder in (("visual", model["visual_encoder"]),
                                          ("audio", model["audio_encoder"]))}
    return {
        "epochs": f"{training['epochs']}" + (f" ({longer})" if longer else ""),
        "frames per clip (T)": training["num_frames"], "batch size": training["batch_size"],
        "learning rate": training["learning_rate"], "image size": ingestion["image_size"],
        **encoders, "data": ingestion["dataset_root"],
    }


def report(env: str, grid: Path, elapsed: float | None) -> str:
    """The cells' metrics next to the paper's figures, written to ``grid/benchmark.{md,csv}``."""
    files = sorted(grid.glob("*/08_reporting/model_metrics.csv"))
    if not files:
        raise SystemExit(f"No {grid}/<backbone>/08_reporting/model_metrics.csv: run a cell first.")
    metrics = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    if metrics.empty:
        raise SystemExit(f"No trained model in {', '.join(map(str, files))}.")
    params = environment_config(env)["parameters"]
    paper = paper_results()
    comparison = tables.paper_comparison(metrics, paper, list(params["runs"]))
    comparison.to_csv(grid / "benchmark.csv", index=False)
    metrics.to_csv(grid / "benchmark_metrics.csv", index=False)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    seeds = sorted(int(s) for s in metrics["seed"].unique())
    ran = f" This invocation ran {elapsed / 60:.1f} min." if elapsed else ""
    settings = {**settings_of(params), **summary.machine_info()}
    scope = (f"Environment `{env}`, cells under `{grid}`: {len(files)} backbones, "
             f"{len(metrics[MODEL].drop_duplicates())} models, seeds {seeds}, split "
             f"`{params['reporting']['split']}`.{ran}")
    lines = [f"# Benchmark ({stamp})", "", scope, "",
             *(f"- **{k}**: {v}" for k, v in settings.items()), ""]
    differences = [c for c in comparison.columns if c.endswith("ours − paper")]
    gaps = comparison.melt(id_vars=["backbone", "run", "supervision"],
                           value_vars=differences).dropna()
    if not gaps.empty:
        lines += [(f"Against the {len(gaps)} figures the paper reports: mean difference "
                   f"{gaps['value'].mean():+.2f} mAP, largest {gaps['value'].abs().max():.2f} "
                   "mAP."), ""]
    lines.append(tables.to_markdown(
        tables.relabel(comparison, tables.run_labels(metrics)), "Sequence-level mAP: ours vs the paper",
        "ours = mean over seeds (std, n seeds); paper = PAPER.md Table 1 / ablations."))
    text = "\n".join(lines)
    (grid / "benchmark.md").write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="paper", help="the environment (paper, base, test)")
    parser.add_argument("--seeds", type=int, nargs="+",
                        help="training seeds (default: the environment's `seeds`)")
    parser.add_argument("--backbones", nargs="+", default=list(BACKBONES), choices=BACKBONES)
    parser.add_argument("--homes", nargs="+",
                        help="train on these homes only (default: ingestion.homes)")
    parser.add_argument("--report-only", action="store_true",
                        help="only tabulate the cells on disk")
    args = parser.parse_args()
    if not (CONF / args.env).is_dir():
        raise SystemExit(f"No environment {CONF / args.env}")
    os.chdir(PROJECT)  # the catalog's paths are relative to the project root
    bootstrap_project(PROJECT)
    data_root = environment_config(args.env)["globals"]["data_root"]
    elapsed = None
    if not args.report_only:
        start = time.perf_counter()
        run(args.env, DATA_PIPELINES, only_missing_outputs=True)
        for backbone in tqdm(args.backbones, desc="benchmark cells", unit="cell"):
            cell = cell_folder(data_root, backbone)
            conf = assemble_conf(args.env, cell, PROJECT / cell / "conf")
            for pipelines in CELL_RUNS:
                run(args.env, pipelines, conf, cell_params(cell, backbone, args.seeds, args.homes))
        elapsed = time.perf_counter() - start
    print(report(args.env, PROJECT / data_root / "benchmark", elapsed))


if __name__ == "__main__":
    main()
