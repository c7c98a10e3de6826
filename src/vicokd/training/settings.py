"""The ``training:`` parameter block shared by every run (a run may override single keys)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from vicokd.parameters import Parameters


class SpecAugmentSettings(Parameters):
    """SpecAugment of the audio a model hears while it trains (``vicokd.data.augment``): masks of
    whole mel bands and spectrogram frames, widths drawn below the given maxima."""

    enabled: bool
    freq_mask_width: NonNegativeInt  # mel bins
    time_mask_width: NonNegativeInt  # spectrogram frames of a chunk
    num_freq_masks: NonNegativeInt
    num_time_masks: NonNegativeInt


class TrainingSettings(Parameters):
    """How one model is trained: optimiser, schedule length, clip length, hardware, data path,
    checkpoints."""

    epochs: PositiveInt
    batch_size: PositiveInt  # clips per optimiser step, over all processes and accumulated micro-batches
    learning_rate: PositiveFloat
    weight_decay: NonNegativeFloat
    num_frames: PositiveInt  # T frames per clip (one random frame per bin in training, uniform in evaluation)
    accelerator: Literal["auto", "cpu", "cuda"]  # auto: CUDA when present, else the CPU
    devices: PositiveInt  # processes (one device each) per node
    num_nodes: PositiveInt
    strategy: Literal["auto", "ddp", "ddp_find_unused_parameters_true"]  # Fabric's; auto: DDP when several
    precision: Literal["bf16-mixed", "32-true"]  # on CUDA; the CPU always trains in fp32 (32-true)
    accumulate_grad_batches: PositiveInt  # micro-batches per optimiser step in each process
    gradient_checkpointing: bool  # recompute the trainable ViT / AST activations in backward
    num_workers: NonNegativeInt  # DataLoader worker processes per training process (0: load in-process)
    pin_memory: bool  # page-locked batches for faster copies to the GPU (ignored on the CPU)
    prefetch_factor: PositiveInt  # batches each worker loads ahead (ignored without workers)
    num_threads: PositiveInt  # torch CPU threads per process
    parallel_jobs: PositiveInt  # models of one run (homes × seeds) trained at once in worker processes
    eval_batch_size: PositiveInt
    test_every_epoch: bool  # score the test split after every epoch (history, Figure 3), else at the selected one
    cache_arrays: bool  # keep the clips' arrays in RAM after the first epoch (without workers)
    resume: bool  # continue from the run folder's last.pt when compatible
    checkpoint_every_s: NonNegativeFloat  # seconds between writes of last.pt (0: every epoch; the last always)
    progress: bool  # bars of the training stage (models, ETA) and of pretraining (epochs)
    checkpoint_dir: str  # run folders (last.pt, best.pt) live under it
    spec_augment: SpecAugmentSettings  # the teachers' audio (log-mels then run through the encoder)

    @model_validator(mode="after")
    def _whole_micro_batches(self) -> TrainingSettings:
        if self.batch_size % self.micro_batches_per_step:
            raise ValueError(
                f"training.batch_size={self.batch_size} is not divisible by training.devices × "
                f"training.num_nodes × training.accumulate_grad_batches = {self.devices} × "
                f"{self.num_nodes} × {self.accumulate_grad_batches}: every process must get "
                f"micro-batches of the same size"
            )
        if self.parallel_jobs > 1 and self.world_size > 1:
            raise ValueError(
                f"training.parallel_jobs={self.parallel_jobs} trains several models at once on one "
                f"machine; with training.devices × training.num_nodes = {self.world_size} processes "
                f"per model set it to 1")
        return self

    @property
    def world_size(self) -> int:
        """Training processes over all nodes."""
        return self.devices * self.num_nodes

    @property
    def micro_batches_per_step(self) -> int:
        """Micro-batches that make up one optimiser step (over all processes)."""
        return self.world_size * self.accumulate_grad_batches

    @property
    def micro_batch_size(self) -> int:
        """Clips per forward pass in one process: ``batch_size / micro_batches_per_step``."""
        return self.batch_size // self.micro_batches_per_step

    @property
    def autocast(self) -> bool:
        """Whether evaluation on CUDA runs under bf16 autocast, as training does."""
        return self.precision == "bf16-mixed"

    def with_overrides(self, overrides: Mapping[str, Any]) -> TrainingSettings:
        """These settings with single keys replaced (a run's ``training:`` block), validated."""
        return TrainingSettings.model_validate({**self.model_dump(), **overrides})

    def fingerprint_fields(self) -> dict[str, Any]:
        """The settings that change the result, weights or history (a run folder resumes only when
        these match)."""
        return self.model_dump(include={"epochs", "batch_size", "learning_rate", "weight_decay",
                                        "num_frames", "spec_augment", "test_every_epoch"})
