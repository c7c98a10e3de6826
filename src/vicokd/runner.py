"""The runner of ``kedro run`` (``vicokd.cli`` makes it the default): Kedro's sequential runner,
which keeps the published reports when nothing the reporting stage reads has changed.

Every other stage decides for itself whether to reuse its outputs (ingestion, the detector, the
encoders, each model); reporting has nothing to reuse piecewise, so the runner runs the nodes before
reporting, then compares the fingerprint of what reporting reads with the one kept when the reports
were written (:mod:`vicokd.reporting.currency`) and skips the whole stage when they agree and every
report is on disk. ``kedro run --runner SequentialRunner`` always writes the reports again.
"""
from __future__ import annotations

import logging
from typing import Any

from kedro.framework.project import pipelines
from kedro.io import MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from vicokd.reporting import currency

log = logging.getLogger(__name__)

#: The registered pipeline whose nodes are skipped together.
REPORTING = "reporting"


class ReportReusingRunner(SequentialRunner):
    """Kedro's ``SequentialRunner`` that skips the reporting nodes when their reports are current.

    Args:
        is_async: load and save node inputs and outputs in threads (Kedro's option).
        stage: the reporting nodes; None: the registered ``reporting`` pipeline.
    """

    def __init__(self, is_async: bool = False, stage: Pipeline | None = None):
        super().__init__(is_async=is_async)
        self._stage = stage

    def __repr__(self) -> str:
        """Named as the ``SequentialRunner`` it is: kedro-viz records a run's workflow events
        (``.viz/kedro_pipeline_events.json``) only for a runner whose text names Kedro's."""
        return f"<{SequentialRunner.__module__}.SequentialRunner object ({type(self).__qualname__}) at {id(self):#x}>"

    @property
    def _logger(self) -> logging.Logger:
        """Kedro's own runner messages under Kedro's name (``conf/logging.yml``)."""
        return logging.getLogger(SequentialRunner.__module__)

    def _run(self, pipeline: Pipeline, catalog: Any, hook_manager: Any = None,
             run_id: str | None = None) -> None:
        stage_names = {node.name for node in (self._stage or pipelines[REPORTING]).nodes}
        reporting = Pipeline([node for node in pipeline.nodes if node.name in stage_names])
        if not reporting.nodes:
            return super()._run(pipeline, catalog, hook_manager, run_id)
        before = pipeline - reporting
        if not self._separable(before, reporting, stage_names, catalog):
            currency.forget(catalog)  # some reports may change without the others
            return super()._run(pipeline, catalog, hook_manager, run_id)
        if before.nodes:
            super()._run(before, catalog, hook_manager, run_id)
        reasons = currency.why_not_current(catalog, reporting,
                                           currency.reporting_inputs(catalog, reporting))
        if not reasons:
            log.info("Reporting: nothing it reads has changed since the reports were written "
                     "(parameters, predictions, histories, data, code): the %d nodes are skipped and "
                     "the reports kept (--runner SequentialRunner writes them again)",
                     len(reporting.nodes))
            return None
        log.info("Reporting: writing the reports (%s)", "; ".join(reasons))
        currency.forget(catalog)
        super()._run(reporting, catalog, hook_manager, run_id)
        # taken again: reporting's memo folders (bootstrap draws, segment mAP) are its inputs too
        currency.keep(catalog, currency.reporting_inputs(catalog, reporting))
        return None

    @staticmethod
    def _separable(before: Pipeline, reporting: Pipeline, stage_names: set[str], catalog: Any) -> bool:
        """Whether the run holds the whole reporting stage, which feeds nothing before it and reads
        nothing that only lives in memory from the nodes before it."""
        whole = {node.name for node in reporting.nodes} == stage_names
        feeds_back = bool(before.all_inputs() & reporting.all_outputs())
        in_memory = any(isinstance(catalog.get(name, fallback_to_runtime_pattern=True), MemoryDataset)
                        for name in reporting.inputs() & before.all_outputs())
        return whole and not feeds_back and not in_memory
