"""Kedro hooks of the project (``settings.HOOKS``): one progress stage for the models a run
trains, and the report files attached to the run's MLflow run."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Pipeline

from vicokd.progress import TRAINING_STAGE, close_stage, plan_stage
from vicokd.tracking import log_report
from vicokd.training.run_table import RunSpec
from vicokd.training.settings import TrainingSettings

#: The parameters of one row of the run table: the input that makes a node a run's training node.
RUN_PARAMETERS = "params:runs."


def training_stage_size(pipeline: Pipeline, catalog: Any) -> int:
    """The number of models the training nodes of ``pipeline`` train, read from the parameters in
    ``catalog``: a node that reads one row of the run table (``params:runs.<run>``) trains that
    run at one supervision level, in each of its homes for every seed."""
    homes, seeds = catalog.load("params:ingestion.homes"), catalog.load("params:seeds")
    total = 0
    for node in pipeline.nodes:
        for name in node.inputs:
            if name.startswith(RUN_PARAMETERS):
                run = RunSpec.model_validate(catalog.load(name))
                total += len(run.trained_homes(homes)) * len(seeds)
    return total


class TrainingProgressHooks:
    """One progress stage for all the models a Kedro run trains (``vicokd.progress``): announced
    before the pipeline runs, closed after it (or after its error)."""

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: Any) -> None:
        total = training_stage_size(pipeline, catalog)
        if total:
            settings = TrainingSettings.model_validate(catalog.load("params:training"))
            plan_stage(TRAINING_STAGE, total, "model", settings.progress, log_items=True)

    @hook_impl
    def after_pipeline_run(self) -> None:
        close_stage(TRAINING_STAGE)

    @hook_impl
    def on_pipeline_error(self) -> None:
        close_stage(TRAINING_STAGE)


#: The kedro-viz layer of the catalog's report files (``data/08_reporting``).
REPORTING_LAYER = "reporting"


def report_paths(catalog_config: Mapping[str, Any]) -> dict[str, Path]:
    """The file or folder of every catalog entry in the reporting layer, by dataset name
    (``catalog_config``: the catalog as the config loader reads it)."""
    paths = {}
    for name, entry in catalog_config.items():
        if name.startswith("_") or not isinstance(entry, Mapping):
            continue  # YAML anchors
        layer = ((entry.get("metadata") or {}).get("kedro-viz") or {}).get("layer")
        location = entry.get("filepath") or entry.get("path")
        if layer == REPORTING_LAYER and location:
            paths[name] = Path(location)
    return paths


class ReportArtifactHooks:
    """Each report file (tables, figures, summary) a Kedro run writes is attached, as it is
    saved, to the run's MLflow run under ``reports/`` (nothing when tracking is off)."""

    def __init__(self) -> None:
        self._reports: dict[str, Path] = {}

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._reports = report_paths(context.config_loader["catalog"])

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        if dataset_name in self._reports:
            log_report(self._reports[dataset_name])
