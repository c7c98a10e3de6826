"""A copy of the project (its conf/ and pyproject.toml; the package is the installed one) in a
temporary folder, filled with a tiny two-home dataset in the catalog's formats, and run through
Kedro sessions exactly as `kedro run --env test` runs it from that folder."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Any
from unittest import mock

import mlflow
import numpy as np
import pandas as pd
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from vicokd.data.annotations import CLASSES
from vicokd.datasets.array_store import StampedArrays
from vicokd.datasets.ingestion_stamp import new_ingestion_id, stamp_table

ROOT = Path(__file__).resolve().parents[2]
V, H, W, L = 5, 32, 32, 40
HOMES = ("Home1", "Home2")  # evaluated
PRETRAINING_HOMES = ("Home3",)  # the encoders' pretraining data (conf: pretraining.homes)
SPLIT_SIZES = {"train": 3, "val": 2, "test": 2}
#: ``data_root`` of the test environment (conf/test/globals.yml), relative to the project.
TEST_DATA_ROOT = "data/test"
TRACKING_URI = "MLFLOW_TRACKING_URI"  # read by conf/base/mlflow.yml


def synthetic_inputs(seed: int = 0) -> dict[str, Any]:
    """``sequences, splits, frames, log_mels, frame_labels, visibility_masks,
    person_confidence`` for the evaluation and pretraining homes, 7 sequences each, whose frame
    colour encodes the action."""
    rng = np.random.default_rng(seed)
    rows, split_rows = [], []
    stores: dict[str, dict[str, np.ndarray]] = {k: {} for k in (
        "frames", "log_mels", "frame_labels", "visibility_masks", "person_confidence")}
    for home in (*HOMES, *PRETRAINING_HOMES):
        index = 0
        for split, count in SPLIT_SIZES.items():
            for _ in range(count):
                sequence_id = f"{home}/01/{index:02d}-Part1"
                n_frames = int(rng.integers(6, 10))
                labels = np.zeros((n_frames, len(CLASSES)), np.uint8)
                first, second = index % len(CLASSES), (index + 5) % len(CLASSES)
                labels[: n_frames // 2, first] = 1
                labels[n_frames // 2:, second] = 1
                frames = rng.integers(0, 60, (V, n_frames, H, W, 3), dtype=np.uint8)
                frames[:, : n_frames // 2, :, :, first % 3] += 150
                stores["frames"][sequence_id] = frames
                stores["log_mels"][sequence_id] = rng.standard_normal(
                    (V, n_frames, L, 128)).astype(np.float16)
                stores["frame_labels"][sequence_id] = labels
                stores["visibility_masks"][sequence_id] = (rng.random((V, n_frames)) < 0.7).astype(np.uint8)
                stores["person_confidence"][sequence_id] = rng.random((V, n_frames)).astype(np.float32)
                rows.append({"sequence_id": sequence_id, "home": home, "n_frames": n_frames,
                             "duration": n_frames / 2.5, "labels": [CLASSES[first], CLASSES[second]],
                             "tricks": json.dumps([  # the annotation the frame labels come from
                                 {"start": 0.0, "end": n_frames // 2 / 2.5, "labels": [CLASSES[first]]},
                                 {"start": n_frames // 2 / 2.5, "end": n_frames / 2.5,
                                  "labels": [CLASSES[second]]}])})
                split_rows.append({"sequence_id": sequence_id, "home": home, "split": split})
                index += 1
    return {"sequences": pd.DataFrame(rows), "splits": pd.DataFrame(split_rows), **stores,
            "person_truth": _person_truth(stores["visibility_masks"])}


def _person_truth(masks: dict[str, np.ndarray]) -> pd.DataFrame:
    """The simulator's truth table for the synthetic sequences: one row per view and 2.5-FPS frame,
    visible where the mask is, a box over the centre of the frame."""
    rows = [{"home": sequence_id.split("/")[0], "sequence_id": sequence_id, "view": view + 1,
             "frame": frame, "time": frame / 2.5, "visible": bool(mask[view, frame]),
             "x1": 0.25, "y1": 0.25, "x2": 0.75, "y2": 0.75, "actions": []}
            for sequence_id, mask in masks.items()
            for view in range(mask.shape[0]) for frame in range(mask.shape[1])]
    return pd.DataFrame(rows)


def as_ingested(inputs: dict[str, Any]) -> dict[str, Any]:
    """``inputs`` as ingestion saves them, in its order: the stores it writes, then the sequences
    table that commits them, all stamped with one ingestion id (the other inputs unchanged)."""
    ingestion_id = new_ingestion_id()
    stores = {name: StampedArrays(inputs[name], ingestion_id)
              for name in ("frames", "log_mels", "frame_labels")}
    others = {k: v for k, v in inputs.items() if k not in stores and k != "sequences"}
    return {**stores, "sequences": stamp_table(inputs["sequences"], ingestion_id), **others}


class Project:
    """A project folder; every session runs with it as the working directory (as `kedro run` does),
    so its conf/ defines the pipelines and its relative paths stay inside it."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def copy_of_repository(cls, target: Path) -> Project:
        """The repository's conf/ (without local/) and pyproject.toml copied to ``target``."""
        shutil.copytree(ROOT / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
        (target / "conf" / "local").mkdir()
        shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
        (target / "src").mkdir()  # kedro wants the source folder; vicokd is the installed package
        return cls(target)

    @property
    def data(self) -> Path:
        """The test environment's data root inside the project."""
        return self.path / TEST_DATA_ROOT

    @contextlib.contextmanager
    def inside(self):
        """The project folder as the working directory, as `kedro run` has it, with its own MLflow
        store.

        kedro-mlflow 2.0.3 with MLflow 3.17 leaves the Kedro run's MLflow run on the active-run
        stack after the run (each node re-enters it); a process that runs one session, as `kedro
        run` does, ends it at exit. Several sessions in one process must end it themselves. MLflow
        also keeps one store per tracking URI string, so the default relative URI
        (``sqlite:///data/test/mlflow.db``) would keep writing to the first folder's file: each
        project gets its own folder's absolute URI (conf/base/mlflow.yml reads the variable).
        """
        with mock.patch.dict(os.environ, {TRACKING_URI: f"sqlite:///{self.data / 'mlflow.db'}"}):
            try:
                with contextlib.chdir(self.path):
                    yield
            finally:
                while mlflow.active_run() is not None:
                    mlflow.end_run()

    @contextlib.contextmanager
    def session(self, **runtime_params: Any):
        """A Kedro session of the ``test`` environment inside the project folder."""
        with self.inside():
            bootstrap_project(self.path)  # also drops pipelines registered for another folder
            with KedroSession.create(self.path, env="test", runtime_params=runtime_params or None) as session:
                yield session

    def run(self, pipelines: list[str], runtime_params: dict[str, Any] | None = None, **filters: Any) -> None:
        """``kedro run --env test --pipelines ...`` with ``filters`` (``tags``, ``namespaces``, ...)."""
        with self.session(**(runtime_params or {})) as session:
            session.run(pipeline_names=pipelines, **filters)

    def save(self, datasets: dict[str, Any]) -> None:
        """Write ``datasets`` through the project's catalog."""
        with self.session() as session:
            catalog = session.load_context().catalog
            for name, data in datasets.items():
                catalog.save(name, data)

    @contextlib.contextmanager
    def catalog(self, **runtime_params: Any):
        """The project's catalog in one session, for many loads (a session costs about a second)."""
        with self.session(**runtime_params) as session:
            yield session.load_context().catalog

    def load(self, name: str, **runtime_params: Any) -> Any:
        """Load one catalog dataset (or ``params:`` entry, validated as Kedro validates it)."""
        with self.catalog(**runtime_params) as catalog:
            return catalog.load(name)
