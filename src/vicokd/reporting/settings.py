"""The ``reporting:`` parameter block."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, NonNegativeInt, PositiveInt

from vicokd.parameters import Parameters


class AttentionSettings(Parameters):
    """Figure 4: which models, on which test sequence, at how many query frames."""

    sequence_id: str | None  # null: the test sequence of each home with the most labelled actions
    query_frames: PositiveInt  # query frames of the cross-modal attention figure
    shown_frames: PositiveInt  # saliency figure: frames where its class is active, scored highest
    models: dict[str, str]  # run -> supervision level drawn, in this order


class IntervalSettings(Parameters):
    """The bootstrap behind every interval (vicokd.reporting.intervals); its generator is seeded
    from the ``seed`` parameter."""

    replicates: PositiveInt  # bootstrap replicates
    confidence: Annotated[float, Field(gt=0.0, lt=1.0)]  # e.g. 0.95: the central 95 % interval


class ReportingSettings(Parameters):
    """What the tables score and how they are written."""

    split: Literal["val", "test"]  # the split the tables score
    seeds: list[int] | None  # None: every seed on disk; else only these seeds' models are scored
    digits: NonNegativeInt  # decimals in the markdown tables
    intervals: IntervalSettings
    attention: AttentionSettings
    links: dict[str, str]  # report title -> file of data/08_reporting that summary.md links
