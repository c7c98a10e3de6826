"""Kedro hooks of the project (``settings.HOOKS``): one progress stage for the models a run
trains, the report files attached to the run's MLflow run, the run's time per stage
(``run_timing``), and the threads of the Kedro process sized to its cores before every node."""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node, Pipeline

from vicokd.processes import limit_threads, usable_cores
from vicokd.progress import TRAINING_STAGE, close_stage, plan_stage
from vicokd.timing import count_items, stage_of, timing_sentence, timing_table
from vicokd.tracking import log_report
from vicokd.training.run_table import RunSpec
from vicokd.training.settings import TrainingSettings

log = logging.getLogger(__name__)

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


#: Where the timing of the run goes, and the run summary that shows it (catalog names).
TIMING, SUMMARY = "run_timing", "run_summary"
#: The summary's section that holds the timing (replaced when present).
SECTION = "## Where the time went"


class RunTiming:
    """Times every node (first input load to last output save) and counts its items; at the end
    of the run saves ``run_timing`` (``vicokd.timing.timing_table``) and, when the run wrote
    ``run_summary``, adds the table to it as its last section.

    Args:
        pipelines: the pipelines by name that give each node its stage; None: the project's
            registered pipelines.
    """

    def __init__(self, pipelines: Mapping[str, Pipeline] | None = None):
        self._given = pipelines

    @hook_impl
    def before_pipeline_run(self) -> None:
        from kedro.framework.project import pipelines

        self._pipelines = dict(pipelines if self._given is None else self._given)
        self._began = time.perf_counter()
        self._node_began: dict[str, float] = {}
        self._node_ended: dict[str, float] = {}
        self._items: dict[str, int] = defaultdict(int)
        self._stages: dict[str, str] = {}
        self._saved: set[str] = set()

    def _start(self, node: Node) -> None:
        if node.name not in self._node_began:
            self._node_began[node.name] = time.perf_counter()
            self._stages[node.name] = stage_of(node.name, self._pipelines)

    def _mark(self, node: Node) -> None:
        self._node_ended[node.name] = time.perf_counter()

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Node) -> None:
        self._start(node)

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._start(node)

    @hook_impl
    def after_node_run(self, node: Node, outputs: dict[str, Any]) -> None:
        stage = self._stages[node.name]
        self._items[stage] += count_items(stage, outputs)
        self._mark(node)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, node: Node) -> None:
        self._saved.add(dataset_name)
        self._mark(node)

    @hook_impl
    def after_pipeline_run(self, catalog: Any) -> None:
        self._write(catalog)

    @hook_impl
    def on_pipeline_error(self, catalog: Any) -> None:
        self._write(catalog)

    def _write(self, catalog: Any) -> None:
        seconds: dict[str, float] = defaultdict(float)
        for name, began in self._node_began.items():
            seconds[self._stages[name]] += self._node_ended.get(name, began) - began
        table = timing_table(seconds, self._items, time.perf_counter() - self._began)
        if TIMING not in catalog:
            log.warning("No catalog entry %r: the run's timing is not saved", TIMING)
            return
        catalog.save(TIMING, table)
        log.info("Seconds per stage (%s): %s", TIMING,
                 ", ".join(f"{row.stage} {row.seconds:.0f}" for row in table.itertuples()))
        if SUMMARY in self._saved:
            catalog.save(SUMMARY, with_timing_section(catalog.load(SUMMARY), timing_sentence(table)))


def with_timing_section(summary: str, timing: str) -> str:
    """``summary`` with its :data:`SECTION` (to the next ``## `` heading or the end) holding
    ``timing`` (one line); the section is appended when absent."""
    section = f"{SECTION}\n\nPer stage ([{TIMING}.csv]({TIMING}.csv); shares of the whole run, " \
              f"Kedro's start-up excluded): {timing}"
    head, found, rest = summary.partition(SECTION)
    if not found:
        return summary.rstrip("\n") + "\n\n" + section
    following = rest.find("\n## ")
    return head + section + (rest[following:] if following >= 0 else "")


class ThreadsPerCore:
    """Before every node, the Kedro process's torch, OpenMP and BLAS threads are the cores it may
    use (``vicokd.processes.usable_cores``): a stage that sizes its own parallelism (the training
    loop, worker pools) starts from there, and none runs more threads than cores."""

    @hook_impl
    def before_node_run(self) -> None:
        limit_threads(usable_cores())
