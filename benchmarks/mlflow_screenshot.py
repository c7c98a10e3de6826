"""Screenshots of the MLflow UI on the project's tracking store: the runs of one Kedro run with its
trained models nested under it, and one model's metric per epoch.

    python benchmarks/mlflow_screenshot.py                          # data/mlflow.db -> docs/mlflow_*.png
    python benchmarks/mlflow_screenshot.py --data-root data/test    # the test environment's store

Reads ``<data-root>/mlflow.db`` (conf/base/mlflow.yml), starts the virtual environment's
``mlflow ui`` on it (a free port, telemetry off) and opens it in headless Chromium
(headless_chromium.py):
- ``mlflow_runs.png``: experiment ``vicokd``, the "Model training" runs list with the Kedro run
  expanded (``--kedro-run``, default: the latest one that trained models) and the columns
  ``--columns`` (the selected epoch's ``best_*`` metrics beside the last epoch's);
- ``mlflow_metrics.png``: the chart of ``--metrics`` per epoch for one trained model (``--model``,
  default: the one of that Kedro run with the most epochs logged, ViCoKD first).
Needs the Debian ``chromium`` package.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from headless_chromium import Page, chromium, free_port, serve
from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

PROJECT = Path(__file__).resolve().parents[1]
EXPERIMENT = "vicokd"  # conf/base/mlflow.yml
COLUMNS = ("metrics.best_epoch", "metrics.best_val_seq_map", "metrics.best_test_seq_map",
           "metrics.val_seq_map", "metrics.test_seq_map", "metrics.loss")
PREFERRED_MODEL = "vicokd/"  # the chart shows a ViCoKD student when the Kedro run trained one
WIDTH = 1800
ROW_HEIGHT = 34  # pixels per row of the runs table
TABLE_TOP = 330  # pixels above the table's first row (header, filters, column titles)


@dataclass(frozen=True)
class Selection:
    """What the screenshots show: the experiment, one Kedro run and its trained models."""

    experiment_id: str
    kedro_run: Run
    models: list[Run]
    model: Run


def select(client: MlflowClient, kedro_run: str | None, model: str | None, metric: str) -> Selection:
    """The Kedro run named (or with the id) ``kedro_run`` that has child runs, else the latest
    one; its child runs; the child ``model`` (a run name), else the one with the most values of
    ``metric`` (a ViCoKD student first)."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        sys.exit(f"No experiment {EXPERIMENT!r} in {client.tracking_uri}: run `kedro run` first")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"],
                              max_results=5000)
    children: dict[str, list[Run]] = {}
    for run in runs:
        parent = run.data.tags.get(MLFLOW_PARENT_RUN_ID)
        if parent:
            children.setdefault(parent, []).append(run)
    parents = [r for r in runs if r.info.run_id in children
               and kedro_run in (None, r.info.run_id, r.info.run_name)]
    if not parents:
        sys.exit(f"No Kedro run {kedro_run or ''} with trained models in {client.tracking_uri}")
    parent = parents[0]
    models = sorted(children[parent.info.run_id], key=lambda r: r.info.run_name)
    if model is not None:
        chosen = [r for r in models if r.info.run_name == model]
        if not chosen:
            sys.exit(f"Kedro run {parent.info.run_name} has no model {model!r}; it has "
                     f"{[r.info.run_name for r in models]}")
    else:
        epochs = {r.info.run_id: len(client.get_metric_history(r.info.run_id, metric)) for r in models}
        chosen = sorted(models, key=lambda r: (-epochs[r.info.run_id],
                                               not r.info.run_name.startswith(PREFERRED_MODEL)))
    return Selection(experiment.experiment_id, parent, models, chosen[0])


def column_key(column: str) -> str:
    """The MLflow UI's key of a runs-table column: ``metrics.val_map`` -> ``metrics.`val_map```."""
    kind, name = column.split(".", 1)
    return f"{kind}.`{name}`"


def ui_state(selection: Selection, columns: list[str]) -> dict[str, str]:
    """localStorage of the MLflow UI: light theme, assistant closed, the runs table's columns and
    the Kedro run expanded."""
    table = {
        "searchFilter": "", "orderByKey": "attributes.start_time", "orderByAsc": False,
        "startTime": "ALL", "lifecycleFilter": "Active", "datasetsFilter": [],
        "modelVersionFilter": "All Runs", "selectedColumns": [column_key(c) for c in columns],
        "runsExpanded": {selection.kedro_run.info.run_id: True},
    }
    return {
        f'MLflowLocalStorage-1.1-ExperimentPage-["{selection.experiment_id}"]-ReactComponentState':
            json.dumps(table),
        "_mlflow_dark_mode_toggle_enabled": "false", "databricks-dark-mode-pref": "light",
        "mlflow.assistant.panelOpen_v1": "false",
        "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": "true",
    }


def seed(state: dict[str, str]) -> str:
    """JavaScript that writes ``state`` to localStorage."""
    return "".join(f"localStorage.setItem({json.dumps(k)}, {json.dumps(v)});" for k, v in state.items())


def metric_url(base: str, selection: Selection, metrics: list[str]) -> str:
    """The UI's page of ``metrics`` per epoch for the chosen model."""
    query = {"runs": json.dumps([selection.model.info.run_id]), "metric": json.dumps(metrics[0]),
             "experiments": json.dumps([selection.experiment_id]),
             "plot_metric_keys": json.dumps(metrics), "x_axis": "step", "show_point": "true"}
    return f"{base}/#/metric?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)


async def capture(devtools: str, base: str, selection: Selection, columns: list[str],
                  metrics: list[str], out_dir: Path, settle: float) -> None:
    before = seed(ui_state(selection, columns))
    names = [r.info.run_name for r in selection.models]
    async with Page(devtools) as page:
        height = TABLE_TOP + ROW_HEIGHT * (len(names) + 2)
        await page.set_viewport(WIDTH, height)
        await page.navigate(f"{base}/#/experiments/{selection.experiment_id}/runs"
                            f"?workflowType=machine_learning", before=before)
        await page.wait_for(f"{json.dumps(names)}.every(n => document.body.innerText.includes(n))",
                            settle)
        await asyncio.sleep(3)  # metric cells fill in after the names
        await page.screenshot(out_dir / "mlflow_runs.png")
        print(f"{out_dir / 'mlflow_runs.png'}: Kedro run {selection.kedro_run.info.run_name} "
              f"({selection.kedro_run.info.run_id}), {len(names)} models, {WIDTH}x{height} px")

        await page.set_viewport(WIDTH, 900)
        await page.navigate(metric_url(base, selection, metrics), before=before)
        await page.wait_for("document.querySelectorAll('.js-plotly-plot .scatterlayer .trace').length"
                            f" >= {len(metrics)}", settle)
        await asyncio.sleep(2)
        await page.screenshot(out_dir / "mlflow_metrics.png")
        print(f"{out_dir / 'mlflow_metrics.png'}: {', '.join(metrics)} of "
              f"{selection.model.info.run_name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=PROJECT / "data",
                        help="folder holding mlflow.db (data; data/test for --env test)")
    parser.add_argument("--out-dir", type=Path, default=PROJECT / "docs")
    parser.add_argument("--kedro-run", help="MLflow run name or id of the Kedro run to expand "
                                            "(default: the latest one that trained models)")
    parser.add_argument("--model", help="run name of the model to chart, e.g. vicokd/V_F/Home1/seed0")
    parser.add_argument("--columns", nargs="+", default=list(COLUMNS),
                        help="runs-table columns, as metrics.<name>, params.<name> or tags.<name>")
    parser.add_argument("--metrics", nargs="+", default=["val_seq_map"], help="metrics to chart")
    parser.add_argument("--settle", type=float, default=120.0, help="seconds a page may take to load")
    args = parser.parse_args(argv)
    store = (args.data_root / "mlflow.db").resolve()
    if not store.is_file():
        sys.exit(f"No tracking store {store}: run `kedro run` (or point --data-root at one)")
    uri = f"sqlite:///{store}"
    selection = select(MlflowClient(uri), args.kedro_run, args.model, args.metrics[0])
    port = free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    mlflow = Path(sys.executable).with_name("mlflow")
    with (tempfile.TemporaryDirectory(prefix="mlflow-ui-") as scratch,
          serve([str(mlflow), "ui", "--backend-store-uri", uri, "--host", "127.0.0.1",
                 "--port", str(port)], f"http://127.0.0.1:{port}/health", 300,
                Path(scratch) / "mlflow-ui.log", cwd=scratch, env=env),
          chromium() as devtools):
        asyncio.run(capture(devtools, f"http://127.0.0.1:{port}", selection, args.columns,
                            args.metrics, args.out_dir, args.settle))


if __name__ == "__main__":
    main()
