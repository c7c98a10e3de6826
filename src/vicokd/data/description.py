"""The ``dataset:`` parameter block: what the recordings are made of (their classes, views and
sampling rate), read alike by ingestion, the models, training and reporting.

Its values live in ``conf/<env>/globals.yml`` (``classes``, ``views``, ``sample_fps``;
MultiSensor-Home's in ``conf/base``), so the model's ``num_classes`` follows the class list in every
environment. Your own recordings: docs/data.md.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import numpy as np
from pydantic import Field, PositiveFloat, PositiveInt, field_validator

from vicokd.parameters import Parameters


class DatasetMismatchError(ValueError):
    """The data or a setting does not match what the run is set to read: ``problem`` names the
    folder, file or key, ``fix`` says what to change."""

    def __init__(self, problem: str, fix: str):
        self.problem, self.fix = problem, fix
        super().__init__(f"{problem}. {fix}")


class DatasetDescription(Parameters):
    """The recordings' vocabulary: ``classes`` (the order of every class axis: frame labels,
    model outputs, prediction and report columns), ``views`` (cameras, each with a microphone, per
    sequence: ``video_url_1..views``) and ``sample_fps`` (frames per second of the sampled frame
    axis shared by frames, audio chunks, labels and masks)."""

    classes: Annotated[list[str], Field(min_length=1)]
    views: PositiveInt
    sample_fps: PositiveFloat

    @field_validator("classes")
    @classmethod
    def _distinct_names(cls, classes: list[str]) -> list[str]:
        repeated = sorted({name for name in classes if classes.count(name) > 1})
        if repeated or not all(name.strip() for name in classes):
            raise ValueError(f"class names must be distinct and not empty; repeated: {repeated}")
        return classes

    def check_num_classes(self, num_classes: int) -> None:
        """Raise DatasetMismatchError unless a model with ``num_classes`` outputs fits the class
        list."""
        if num_classes != len(self.classes):
            raise DatasetMismatchError(
                f"model.num_classes is {num_classes}, but dataset.classes lists "
                f"{len(self.classes)} classes",
                "Set the class list once, as `classes` in conf/<env>/globals.yml, which "
                "dataset.classes and model.num_classes follow (docs/data.md).")

    def check_frame_labels(self, frame_labels: Mapping[str, np.ndarray]) -> None:
        """Raise DatasetMismatchError when the ingested frame labels ``(n, C)`` have another
        class axis than the class list (ingested with other classes)."""
        first = next(iter(frame_labels), None)
        width = None if first is None else np.shape(frame_labels[first])[-1]
        if width is not None and width != len(self.classes):
            raise DatasetMismatchError(
                f"The frame labels of {first} have {width} classes, but dataset.classes lists "
                f"{len(self.classes)}: they were ingested with other classes",
                "Run the ingestion pipeline again (`kedro run --pipelines ingestion`).")
