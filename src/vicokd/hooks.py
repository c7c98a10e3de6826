"""Kedro hooks of the project (``settings.HOOKS``)."""
from __future__ import annotations

from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Pipeline

from vicokd.pipelines.training.nodes import train_models
from vicokd.progress import close_stage, plan_stage
from vicokd.training.run_table import RunSpec
from vicokd.training.runs import TRAINING_STAGE, models_to_train
from vicokd.training.settings import TrainingSettings


def training_stage_size(pipeline: Pipeline, catalog: Any) -> int:
    """The number of models the training nodes of ``pipeline`` train (each node: its run's homes ×
    the seeds), read from the parameters in ``catalog``."""
    homes, seeds = catalog.load("params:ingestion.homes"), catalog.load("params:seeds")
    total = 0
    for node in pipeline.nodes:
        if node.func is train_models:
            run = next(name for name in node.inputs if name.startswith("params:runs."))
            total += models_to_train(RunSpec.model_validate(catalog.load(run)), homes, seeds)
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
