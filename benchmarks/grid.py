"""The method benchmark: seeds × backbones × (teachers, methods, ablations) × homes, resumable.

    python benchmarks/grid.py --env paper                       # the full grid (GPU): 3 seeds × 3 backbones
    python benchmarks/grid.py --env base --seeds 0 --backbones multitsf   # one cell of the CPU demo
    python benchmarks/grid.py --env paper --homes Home1         # one home only
    python benchmarks/grid.py --report-only                     # the table from the cells finished so far

A cell is one (backbone, seed). It runs the ``teacher``, ``distill`` and ``distill_ablations``
pipelines (both homes inside each node) with the ``conf/benchmark`` catalog overlay stacked on the
chosen environment, so every model output lands under ``data/benchmark/<backbone>/seed<seed>/``. Runs
use ``only_missing_outputs``: a model whose checkpoint, history and predictions exist is skipped, and
an interrupted model resumes from its last epoch checkpoint (kept under the cell's ``runs/``). The
data stages (simulation … masking) run once, before the first cell, with the environment's own seed:
every cell trains on the same splits and masks.

The report, ``data/08_reporting/benchmark/benchmark.md`` (and ``.csv``), puts our frame-level test
mAP (mean ± std over the seeds that finished) next to the paper's (benchmarks/paper_results.csv),
with the date, machine and settings.
"""
from __future__ import annotations

import argparse
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from tqdm.auto import tqdm

from vicokd.reporting import summary, tables

PROJECT = Path(__file__).resolve().parents[1]
GRID_ROOT = PROJECT / "data" / "benchmark"
REPORT = PROJECT / "data" / "08_reporting" / "benchmark"
PAPER = Path(__file__).with_name("paper_results.csv")
BACKBONES = ("multitsf", "multiasl", "multitrans")
SEEDS = (0, 1, 2)
DATA_PIPELINES = ["simulation", "ingestion", "stratification", "masking"]
MODEL_PIPELINES = ["teacher", "distill", "distill_ablations"]


def assemble_conf(env: str) -> Path:
    """A conf source with ``base`` and a ``benchmark`` env = ``conf/<env>`` + the ``conf/benchmark``
    overlay (Kedro stacks only one env on base; the overlay holds only catalog entries)."""
    target = GRID_ROOT / "conf"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(PROJECT / "conf" / "base", target / "base")
    (target / "benchmark").mkdir(parents=True)
    if env != "base":
        if not (PROJECT / "conf" / env).is_dir():
            raise SystemExit(f"No environment conf/{env}")
        shutil.copytree(PROJECT / "conf" / env, target / "benchmark", dirs_exist_ok=True)
    for overlay in (PROJECT / "conf" / "benchmark").glob("*.yml"):
        shutil.copy(overlay, target / "benchmark" / overlay.name)
    return target


def cell_params(backbone: str, seed: int, homes: list[str] | None) -> dict:
    """Runtime parameters of one cell (they also key the overlay's paths); ``homes`` narrows the
    homes the models train on (default: ``ingestion.homes``)."""
    runs = GRID_ROOT / backbone / f"seed{seed}" / "runs"
    params = {"seed": seed, "model": {"backbone": backbone}, "training": {"checkpoint_dir": str(runs)}}
    if homes:
        params["ingestion"] = {"homes": homes}
    return params


def run(conf: Path, pipelines: list[str], runtime_params: dict | None) -> None:
    """One Kedro run of ``pipelines`` that skips every node whose outputs all exist."""
    with KedroSession.create(PROJECT, env="benchmark", conf_source=str(conf),
                             runtime_params=runtime_params) as session:
        session.run(pipeline_names=pipelines, only_missing_outputs=True)


def settings_of(conf: Path) -> dict:
    """The settings shown beside the table (from the assembled configuration)."""
    with KedroSession.create(PROJECT, env="benchmark", conf_source=str(conf)) as session:
        params = session.load_context().params
    training, model = params["training"], params["model"]
    return {
        "epochs": training["epochs"], "frames per clip (T)": training["num_frames"],
        "batch size": training["batch_size"], "learning rate": training["learning_rate"],
        "image size": params["ingestion"]["image_size"],
        "visual encoder": model["visual_encoder"].get("pretrained") or "random init",
        "audio encoder": model["audio_encoder"].get("pretrained") or "random init",
        "data": params["ingestion"]["dataset_root"],
    }, ["teacher", "teacher_vc", *params["distill"]["methods"], *params["distill"]["ablations"]]


def report(env: str, conf: Path, elapsed: float | None) -> str:
    """Evaluate every finished model of the grid and write the comparison with the paper."""
    files = sorted(GRID_ROOT.glob("*/seed*/07_model_output/predictions/*.parquet"))
    if not files:
        raise SystemExit(f"No predictions under {GRID_ROOT}: run the grid first.")
    metrics = tables.evaluate_predictions({str(f.relative_to(PROJECT)): pd.read_parquet(f) for f in files})
    settings, methods = settings_of(conf)
    comparison = tables.paper_comparison(metrics, pd.read_csv(PAPER, comment="#"), methods)
    REPORT.mkdir(parents=True, exist_ok=True)
    comparison.to_csv(REPORT / "benchmark.csv", index=False)
    metrics.to_csv(REPORT / "benchmark_metrics.csv", index=False)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = summary.machine_info()
    lines = [f"# Benchmark ({stamp})", "",
             f"Environment `{env}` + conf/benchmark; {len(files)} prediction tables, "
             f"{metrics['model'].nunique()} models, seeds {sorted(int(s) for s in metrics['seed'].unique())}, backbones "
             f"{sorted(metrics['backbone'].unique())}." + (f" This invocation ran {elapsed / 60:.1f} min." if elapsed else ""),
             "", *(f"- **{k}**: {v}" for k, v in {**settings, **machine}.items()), ""]
    differences = [c for c in comparison.columns if c.endswith("ours − paper")]
    gaps = comparison.melt(id_vars=["backbone", "method", "supervision"], value_vars=differences).dropna()
    if not gaps.empty:
        lines += [f"Against the {len(gaps)} figures the paper reports: mean difference "
                  f"{gaps['value'].mean():+.2f} mAP, largest {gaps['value'].abs().max():.2f} mAP.", ""]
    lines.append(tables.to_markdown(tables.relabel(comparison, LABELS), "Frame-level test mAP: ours vs the paper",
                                    "ours = mean over seeds (std, n seeds); paper = PAPER.md Table 1 / ablations."))
    text = "\n".join(lines)
    (REPORT / "benchmark.md").write_text(text)
    return text


LABELS = {"teacher": "Teacher", "teacher_vc": "Teacher + VC", "student": "Student", "logitkd": "LogitKD",
          "modalkd": "ModalKD", "dualkd": "DualKD", "cokd": "CoKD", "vicokd": "ViCoKD",
          "no_confw": "w/o ConfW", "no_mask": "w/o Mask", "kl": "JS→KL", "no_fd": "w/o FD", "no_ld": "w/o LD"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="paper", help="environment the grid stacks on (paper, base, test)")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--backbones", nargs="+", default=list(BACKBONES), choices=BACKBONES)
    parser.add_argument("--homes", nargs="+", help="train on these homes only (default: ingestion.homes)")
    parser.add_argument("--report-only", action="store_true", help="only tabulate the finished cells")
    args = parser.parse_args()
    os.chdir(PROJECT)  # the catalog's paths are relative to the project root
    bootstrap_project(PROJECT)
    conf = assemble_conf(args.env)
    elapsed = None
    if not args.report_only:
        start = time.perf_counter()
        run(conf, DATA_PIPELINES, None)
        cells = [(b, s) for b in args.backbones for s in args.seeds]
        for backbone, seed in tqdm(cells, desc="benchmark cells", unit="cell"):
            run(conf, MODEL_PIPELINES, cell_params(backbone, seed, args.homes))
        elapsed = time.perf_counter() - start
    print(report(args.env, conf, elapsed))


if __name__ == "__main__":
    main()
