"""The pre-flight check as a Kedro hook: it runs before any node of any pipeline, and checks what
the nodes of that run need (``kedro run --pipelines distill`` is not asked for the raw dataset)."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Pipeline

from vicokd.preflight.problems import PreflightError
from vicokd.preflight.scope import Scope

log = logging.getLogger(__name__)

#: The nodes that write and read the raw dataset, and the catalog entries ingestion writes.
SIMULATION_NODE, INGESTION_NODE = "simulate_recordings", "ingest_recordings"
FRAMES, SEQUENCES = "frames", "sequences"


def run_scope(pipeline: Pipeline) -> Scope:
    """The stages a run holds, from its nodes' names and the parameter blocks they read."""
    names = {node.name for node in pipeline.nodes}
    inputs = {name for node in pipeline.nodes for name in node.inputs}
    return Scope(simulation=SIMULATION_NODE in names, ingestion=INGESTION_NODE in names,
                 masking="params:masking" in inputs, encoders="params:model" in inputs,
                 training="params:training" in inputs)


class PreflightCheck:
    """Before a run: the checks of :func:`vicokd.preflight.checks.check_run` for its stages, with
    the run's parameters (validated by the same typed blocks as the nodes); one
    :class:`PreflightError` lists every problem with its fix, and nothing runs."""

    @hook_impl(tryfirst=True)  # before kedro-mlflow opens a run for a run that will not start
    def before_pipeline_run(self, pipeline: Pipeline, catalog: Any) -> None:
        scope = run_scope(pipeline)
        if scope.empty:
            return
        # imported here: settings.py imports this module for every kedro command, and the checks
        # need torch, PyAV and the models
        from vicokd.preflight.checks import check_parameters

        began = time.perf_counter()
        stores = getattr(catalog.get(FRAMES), "_describe", dict)().get("path") or "."
        findings = check_parameters(scope, catalog.load("parameters"), Path(stores),
                                    committed=catalog.exists(SEQUENCES))
        for note in findings.notes:
            log.warning("Pre-flight: %s", note)
        if findings.problems:
            raise PreflightError(findings.problems)
        log.info("Pre-flight check passed in %.1f s (%s)", time.perf_counter() - began,
                 ", ".join(findings.checked))
