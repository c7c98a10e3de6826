"""The ``inference:`` and ``evaluation:`` parameter blocks."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from vicokd.parameters import Parameters

#: A score threshold.
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class ModelChoice(Parameters):
    """One trained model: a run of the run table at one supervision level, home and seed."""

    run: str
    supervision: str
    home: str | None  # null: the first of ingestion.homes
    seed: NonNegativeInt


class WindowSettings(Parameters):
    """How a recording is covered by windows of ``T`` frames (:mod:`vicokd.inference.windows`)."""

    frame_step: PositiveInt | None  # frames between a window's neighbours; null: as in training
    overlap: Annotated[float, Field(ge=0.0, lt=1.0)]  # share of a window the next one also covers
    batch_size: PositiveInt  # windows per forward pass


class InferenceParameters(Parameters):
    """The ``inference:`` block: which recordings, which model, how to window and threshold them."""

    recordings: str | None  # the folder of recordings (required by the inference pipeline)
    model: ModelChoice
    window: WindowSettings
    threshold_candidates: Annotated[list[Probability], Field(min_length=1)]
    export: bool  # write the exported student (data/06_models/exported) on each run
    parity_tolerance: PositiveFloat  # largest |exported - PyTorch| frame score accepted
    num_threads: PositiveInt  # torch CPU threads of the scoring process
    accelerator: Literal["auto", "cpu", "cuda"]  # where models score (auto: CUDA when present)


class EvaluationParameters(Parameters):
    """The ``evaluation:`` block: a trained model scored on a labelled dataset."""

    dataset_root: str  # one folder per home in the MultiSensor-Home layout, with annotations
    homes: list[str] | None  # null: the model's own home
    split: Literal["all", "train", "val", "test"]  # all: every annotated sequence, else one split
    model: ModelChoice
    tiou_thresholds: Annotated[list[Annotated[float, Field(gt=0.0, le=1.0)]], Field(min_length=1)]
