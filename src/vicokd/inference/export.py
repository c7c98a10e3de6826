"""Exporting a trained student with ``torch.export`` (encoders included) into one ``.pt2`` file
that :func:`vicokd.inference.exported.load_exported` runs without the project's code."""
from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import torch
from kedro.io import AbstractDataset
from torch import nn

from vicokd.datasets.staging import staged
from vicokd.inference.exported import METADATA_ENTRY, ExportedStudent, load_exported

#: Most clips of one call of an exported program (its batch axis is dynamic up to this).
MAX_CLIPS = 1024


class FrameScorer(nn.Module):
    """A trained model as a function of clips: ``frames (B, V, T, 3, H, W)`` (and ``audio
    (B, V, T, L, M)`` for a model that hears), moved to the model's device -> sigmoid of the
    view-fused frame logits ``(B, T, C)``, the frame scores of frame-level mAP."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor, audio: torch.Tensor | None = None) -> torch.Tensor:
        device = next(self.model.parameters()).device
        audio = None if audio is None else audio.to(device)
        return self.model(frames.to(device), audio).frame_logits.float().sigmoid()


def example_clip(views: int, num_frames: int, image_size: tuple[int, int], clips: int = 2,
                 seed: int = 0) -> torch.Tensor:
    """A fixed random uint8 batch ``(clips, V, T, 3, H, W)``: the input exports trace and parity
    checks compare on."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (clips, views, num_frames, 3, *image_size), dtype=torch.uint8,
                         generator=generator)


def export_student(model: nn.Module, metadata: Mapping[str, Any],
                   tolerance: float) -> ExportedStudent:
    """``model`` (a visual-only student, eval mode) exported on clips of the metadata's ``views``,
    ``num_frames`` and ``image_size`` with a dynamic number of clips, checked against the PyTorch
    model on :func:`example_clip` (largest absolute score difference recorded as
    ``parity_max_abs_diff``; ``ValueError`` above ``tolerance``)."""
    if getattr(model, "with_audio", False):
        raise ValueError("Only visual-only students are exported (this model hears audio)")
    scorer = FrameScorer(model).eval()
    clip = example_clip(metadata["views"], metadata["num_frames"], tuple(metadata["image_size"]))
    clip = clip.to(next(model.parameters()).device)  # a program runs on the device it was traced on
    clips = torch.export.Dim("clips", min=1, max=MAX_CLIPS)
    with torch.no_grad():  # traced without gradients: no grad-mode switch left in the graph
        program = torch.export.export(scorer, (clip,), dynamic_shapes={"frames": {0: clips}})
        difference = float((program.module()(clip) - scorer(clip)).abs().max())
    if not difference <= tolerance:
        raise ValueError(f"The exported student differs from the PyTorch model by {difference:.3g} "
                         f"(more than inference.parity_tolerance = {tolerance:g})")
    return ExportedStudent(program, {**metadata, "parity_max_abs_diff": difference,
                                     "parity_tolerance": tolerance, "torch": torch.__version__})


def save_exported(student: ExportedStudent, path: str | Path) -> None:
    """Write ``student`` to ``path`` (``.pt2``) atomically (a stopped writer leaves no file)."""
    archive = io.BytesIO()
    torch.export.save(student.program, archive,
                      extra_files={METADATA_ENTRY: json.dumps(student.metadata)})
    with staged(Path(path)) as staging:
        staging.write_bytes(archive.getvalue())


class ExportedStudentDataset(AbstractDataset[ExportedStudent, ExportedStudent]):
    """One exported student's ``.pt2`` file (:func:`save_exported`, :func:`load_exported`)."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None):
        self._filepath = PurePosixPath(filepath)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}

    def load(self) -> ExportedStudent:
        return load_exported(self._filepath)

    def save(self, data: ExportedStudent) -> None:
        save_exported(data, self._filepath)

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()
