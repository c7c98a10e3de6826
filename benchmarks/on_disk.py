"""What a finished `kedro run` left under the data root, loaded for the benchmarks that train more
models on it (cached features, masks, splits, encoders, teacher checkpoints)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog

from vicokd.data.clips import ClipSources, join_splits
from vicokd.data.description import DatasetDescription

PROJECT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class OnDisk:
    """The environment's parameters, the clip sources every model reads, the encoders' record and
    the catalog (for checkpoints, loaded lazily)."""

    params: dict[str, Any]
    sources: ClipSources
    encoders: dict[str, Any]
    catalog: DataCatalog


def load_on_disk(env: str | None) -> OnDisk:
    """Open the project in ``env`` and read the stores the training pipelines read."""
    bootstrap_project(PROJECT)
    with KedroSession.create(PROJECT, env=env) as session:
        context = session.load_context()
        catalog = context.catalog
        sequences = catalog.load("sequences")
        dataset = DatasetDescription.model_validate(context.params["dataset"])
        sources = ClipSources(join_splits(sequences, catalog.load("splits")),
                              catalog.load("visual_features"), catalog.load("audio_features"),
                              catalog.load("visibility_masks"), catalog.load("person_confidence"),
                              catalog.load("frame_labels"), tuple(dataset.classes))
        return OnDisk(context.params, sources, catalog.load("encoders"), catalog)
