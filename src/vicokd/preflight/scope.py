"""Which stages a run holds (what the pre-flight check looks at)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """Which stages a run holds, so it is checked for what it needs and nothing else: the
    simulation writing the dataset, ingestion reading it, masking, a stage that builds the
    encoders (pretraining, features, training) and one that trains (pretraining, training)."""

    simulation: bool
    ingestion: bool
    masking: bool
    encoders: bool
    training: bool

    @property
    def empty(self) -> bool:
        return not any(vars(self).values())
