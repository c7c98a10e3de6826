"""The ``training:`` parameter block shared by every run (a run may override single keys)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import NonNegativeFloat, PositiveFloat, PositiveInt

from vicokd.parameters import Parameters


class TrainingSettings(Parameters):
    """How one model is trained: optimiser, schedule length, clip length, device, checkpoints."""

    epochs: PositiveInt
    batch_size: PositiveInt
    learning_rate: PositiveFloat
    weight_decay: NonNegativeFloat
    num_frames: PositiveInt  # T frames per clip (one random frame per bin in training, uniform in evaluation)
    device: str  # auto | cpu | cuda | cuda:<i>
    autocast: bool  # bf16 autocast on CUDA (ignored on the CPU)
    num_threads: PositiveInt  # torch CPU threads
    eval_batch_size: PositiveInt
    cache_arrays: bool  # keep the clips' arrays in RAM after the first epoch
    resume: bool  # continue from the run folder's last.pt when compatible
    progress: bool  # progress bar per epoch
    checkpoint_dir: str  # run folders (last.pt, best.pt) live under it

    def with_overrides(self, overrides: Mapping[str, Any]) -> TrainingSettings:
        """These settings with single keys replaced (a run's ``training:`` block), validated."""
        return TrainingSettings.model_validate({**self.model_dump(), **overrides})

    def fingerprint_fields(self) -> dict[str, Any]:
        """The settings that change the result (a run folder resumes only when these match)."""
        return self.model_dump(include={"epochs", "batch_size", "learning_rate", "weight_decay",
                                        "num_frames"})
