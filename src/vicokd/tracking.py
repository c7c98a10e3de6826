"""Experiment tracking: one MLflow run per trained model, nested under the active MLflow run.

``kedro run`` opens one MLflow run per Kedro run (kedro-mlflow, ``conf/base/mlflow.yml``); every
model trained in it becomes a child run with its parameters, per-epoch metrics, the metrics of its
selected epoch (``best_*``) and final artefacts, so the MLflow UI lists the models grouped by Kedro
run and plots any metric across them; the report files are attached to the Kedro run's own run
(:func:`log_report`). Library code without Kedro opens the parent itself
(``with mlflow.start_run(): ...``). With tracking off or no active run, :func:`track_model` returns
a tracker that does nothing, so the training loop never checks::

    with track_model("vicokd/V_S/Home1/seed0", params, tags={"home": "Home1"}) as tracker:
        for epoch in ...:
            tracker.log_epoch(epoch, {"loss": 0.7, "val_seq_map": 61.2})
        tracker.log_selected(2, {"val_seq_map": 78.0})  # best_epoch 2, best_val_seq_map 78.0
        tracker.log_artifact("curves.png")
        tracker.set_tags({"checkpoint": "vicokd_model_V_S/Home1/seed0"})

The child runs are written through an ``MlflowClient`` by run id, so they never become MLflow's
"active run" and anything else logged during training still goes to the parent.
"""
from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import mlflow
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.telemetry import set_telemetry_client
from mlflow.tracking import MlflowClient
from mlflow.tracking.context.registry import resolve_tags
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from mlflow.utils.validation import (
    MAX_ENTITY_KEY_LENGTH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAM_VAL_LENGTH,
    MAX_PARAMS_TAGS_PER_BATCH,
    MAX_TAG_VAL_LENGTH,
)

from vicokd.nested import flatten

log = logging.getLogger(__name__)

#: Seconds between two writes of a model's metrics to MLflow (and one when the model ends): a
#: database write per epoch took about a fifth of a demo model's training time.
METRICS_FLUSH_S = 30.0

#: Characters MLflow accepts in parameter, metric and tag names; any other becomes ``_``.
_INVALID_NAME_CHARACTERS = re.compile(r"[^/\w.\- :]")


def disable_mlflow_telemetry() -> None:
    """Keep MLflow off the network: switch its usage telemetry off unless
    ``MLFLOW_DISABLE_TELEMETRY`` is already set. MLflow reads the variable when first imported,
    which the ``kedro`` CLI does (kedro-mlflow's commands) before any project code, so its
    telemetry client is set up again here."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    set_telemetry_client()


disable_mlflow_telemetry()


def _name(key: str) -> str:
    """A valid MLflow parameter/metric/tag name: unsupported characters become ``_``."""
    name = _INVALID_NAME_CHARACTERS.sub("_", key)
    if len(name) > MAX_ENTITY_KEY_LENGTH:
        raise ValueError(f"Name {key!r} is longer than MLflow's {MAX_ENTITY_KEY_LENGTH} characters")
    return name


def _clip(text: str, limit: int, key: str) -> str:
    if len(text) <= limit:
        return text
    log.warning("MLflow value of %r truncated from %d to %d characters", key, len(text), limit)
    return text[: limit - 3] + "..."


def flatten_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Nested parameter blocks as flat MLflow parameters: ``{"model": {"dim": 64}}`` gives
    ``{"model.dim": "64"}``.

    Lists of mappings are flattened by position (``recipe.terms.0.weight``), other lists and
    scalars become their ``str``; values longer than MLflow's limit are truncated (with a
    warning); characters MLflow rejects in names become ``_``.

    Raises:
        ValueError: two keys give the same name, or a name is longer than MLflow allows.
    """
    flat: dict[str, str] = {}
    for key, value in flatten(params).items():
        name = _name(key)
        if name in flat:
            raise ValueError(f"Parameters {key!r} and another key both flatten to {name!r}")
        flat[name] = _clip(str(value), MAX_PARAM_VAL_LENGTH, name)
    return flat


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ModelTracker:
    """The tracker that records nothing (tracking off, or no active MLflow run).

    Use any tracker as a context manager around training one model; :class:`MlflowModelTracker`
    has the same methods and logs them.
    """

    #: The MLflow run id of this model (``None`` when nothing is recorded).
    run_id: str | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record parameters; nested mappings get dotted keys (:func:`flatten_params`)."""

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record metric values at ``step``; NaN and infinite values are left out."""

    def log_epoch(self, epoch: int, metrics: Mapping[str, float]) -> None:
        """Record one epoch's metrics (loss terms, mAPs, diagnostics) at step ``epoch``."""
        self.log_metrics(metrics, step=epoch)

    def log_selected(self, epoch: int, metrics: Mapping[str, float]) -> None:
        """Record the selected epoch (the one the checkpoint holds) as ``best_epoch`` and its
        ``metrics`` as ``best_<name>``, at step ``epoch``: MLflow's run list shows each metric's
        last value, which for ``val_seq_map`` is the last epoch's, not the selected one's."""
        self.log_metrics({"best_epoch": epoch, **{f"best_{k}": v for k, v in metrics.items()}},
                         step=epoch)

    def log_artifact(self, path: str | Path, folder: str | None = None) -> None:
        """Copy a file (or a folder's files) into the run's artefacts, under ``folder`` if given."""

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set tags (e.g. the checkpoint path); values become strings."""


class MlflowModelTracker(ModelTracker):
    """One MLflow run for one trained model, a child of ``parent_run_id``.

    The run is created on ``__enter__`` with ``params`` and ``tags`` and closed on ``__exit__``:
    ``FINISHED``, ``FAILED`` when training raised, ``KILLED`` on ``KeyboardInterrupt``. Metrics are
    sent every :data:`METRICS_FLUSH_S` seconds and on ``__exit__``.
    """

    def __init__(
        self,
        client: MlflowClient,
        experiment_id: str,
        parent_run_id: str,
        name: str,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ):
        self._client = client
        self._experiment_id = experiment_id
        self._parent_run_id = parent_run_id
        self._name = name
        self._params = dict(params or {})
        self._tags = dict(tags or {})
        self._pending: list[Metric] = []
        self._flushed_at = time.perf_counter()

    def __enter__(self) -> Self:
        run = self._client.create_run(
            self._experiment_id,
            run_name=self._name,
            # user, source and git commit, as mlflow.start_run() records them
            tags=resolve_tags({MLFLOW_PARENT_RUN_ID: self._parent_run_id}),
        )
        self.run_id = run.info.run_id
        self.set_tags(self._tags)
        self.log_params(self._params)
        log.info("MLflow run %r (%s) under %s", self._name, self.run_id, self._parent_run_id)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        self._flush()
        self._client.set_terminated(self._active_run_id(), RunStatus.to_string(status))

    def _active_run_id(self) -> str:
        if self.run_id is None:
            raise RuntimeError(f"Tracker {self._name!r} is used outside its `with` block")
        return self.run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        entries = [Param(key, value) for key, value in flatten_params(params).items()]
        for batch in _batches(entries, MAX_PARAMS_TAGS_PER_BATCH):
            self._client.log_batch(self._active_run_id(), params=batch)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self._active_run_id()
        timestamp = int(time.time() * 1000)
        for key, value in metrics.items():
            value = float(value)
            if math.isfinite(value):
                self._pending.append(Metric(_name(key), value, timestamp, step or 0))
            else:
                log.debug("Not logging %s = %s at step %s to MLflow", key, value, step)
        if time.perf_counter() - self._flushed_at >= METRICS_FLUSH_S:
            self._flush()

    def _flush(self) -> None:
        """Send the metrics logged since the last flush."""
        for batch in _batches(self._pending, MAX_METRICS_PER_BATCH):
            self._client.log_batch(self._active_run_id(), metrics=batch)
        self._pending.clear()
        self._flushed_at = time.perf_counter()

    def log_artifact(self, path: str | Path, folder: str | None = None) -> None:
        path = Path(path)
        if path.is_dir():
            self._client.log_artifacts(self._active_run_id(), str(path), folder)
        elif path.is_file():
            self._client.log_artifact(self._active_run_id(), str(path), folder)
        else:
            raise FileNotFoundError(f"No artefact to log at {path}")

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        entries = [
            RunTag(_name(key), _clip(str(value), MAX_TAG_VAL_LENGTH, key))
            for key, value in tags.items()
        ]
        for batch in _batches(entries, MAX_PARAMS_TAGS_PER_BATCH):
            self._client.log_batch(self._active_run_id(), tags=batch)


def log_report(path: str | Path, folder: str = "reports") -> bool:
    """Copy a report file, or a folder's files, into the active MLflow run's artefacts (the Kedro
    run's own run under kedro-mlflow): a file under ``folder``, a folder under ``folder/<its
    name>``. Without an active run (tracking off, library use) nothing is logged and no run is
    started.

    Returns:
        Whether it was logged.

    Raises:
        FileNotFoundError: nothing at ``path``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No report to log at {path}")
    if mlflow.active_run() is None:
        return False
    if path.is_dir():
        mlflow.log_artifacts(str(path), f"{folder}/{path.name}")
    else:
        mlflow.log_artifact(str(path), folder)
    return True


@dataclass(frozen=True)
class ParentRun:
    """The MLflow run that a trained model's run is nested under: where it is stored and its ids.
    Picklable, so a model trained in another process is tracked under the same parent."""

    tracking_uri: str
    experiment_id: str
    run_id: str


def active_parent() -> ParentRun | None:
    """The active MLflow run of this process (``kedro run`` with kedro-mlflow), or None."""
    run = mlflow.active_run()
    if run is None:
        return None
    return ParentRun(mlflow.get_tracking_uri(), run.info.experiment_id, run.info.run_id)


def track_model(
    name: str,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    enabled: bool = True,
    parent: ParentRun | None = None,
) -> ModelTracker:
    """The tracker for training one model: a child of ``parent`` (default: the active MLflow run),
    or a no-op.

    Args:
        name: run name shown in the MLflow UI, e.g. ``"vicokd/V_S/Home1/seed0"``.
        params: recorded once when the run starts; nested blocks (model, training, recipe) are
            flattened with dotted keys.
        tags: e.g. ``{"run": ..., "home": ..., "seed": ...}`` for filtering in the UI.
        enabled: ``False`` gives the no-op tracker.
        parent: the run to nest under, when it is not this process's active run (a model trained
            in a worker process: :func:`active_parent` of the process that started it).

    Returns:
        An :class:`MlflowModelTracker` when ``enabled`` and there is a parent run; otherwise a
        :class:`ModelTracker` that records nothing and touches no MLflow store.
    """
    parent = (parent or active_parent()) if enabled else None
    if parent is None:
        if enabled:
            log.debug("No active MLflow run: %r is not tracked", name)
        return ModelTracker()
    return MlflowModelTracker(
        MlflowClient(parent.tracking_uri), parent.experiment_id, parent.run_id, name, params, tags
    )
