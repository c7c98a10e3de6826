"""Loading and running an exported student without the project's training code.

An exported student is one ``.pt2`` file (``torch.export``): the program maps clips
``(B, V, T, 3, H, W)`` uint8 to frame scores ``(B, T, C)`` in [0, 1], visual encoder included, and
the file's ``vicokd.json`` entry holds what running it needs: the classes, the frame rate, ``T``,
the window and the per-class thresholds chosen on validation. Only torch, numpy and pandas are
needed::

    from vicokd.inference.exported import load_exported
    student = load_exported("data/06_models/exported/vicokd/V_S/Home1/seed0.pt2")
    scores = student.frame_scores(frames)     # frames (V, n, H, W, 3) uint8 at 2.5 FPS -> (n, C)
    segments = student.segments(scores)       # class, start, end, score (seconds)
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vicokd.inference.segments import frame_segments
from vicokd.inference.windows import score_recording

#: The entry of the ``.pt2`` archive that holds the metadata.
METADATA_ENTRY = "vicokd.json"


@dataclass(frozen=True)
class ExportedStudent:
    """An exported program and its metadata (``classes``, ``sample_fps``, ``num_frames``,
    ``frame_step``, ``hop``, ``batch_size``, ``image_size``, ``views``, ``thresholds``, the
    model's identity)."""

    program: torch.export.ExportedProgram
    metadata: dict[str, Any]

    @cached_property
    def _module(self) -> torch.nn.Module:
        return self.program.module()

    def clip_scores(self, frames: torch.Tensor) -> torch.Tensor:
        """``(B, V, T, 3, H, W)`` uint8 clips -> ``(B, T, C)`` frame scores."""
        return self._module(frames)

    def frame_scores(self, frames: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """``(n, C)`` frame scores of a whole recording, ``frames (V, n, H, W, 3)`` uint8 at the
        exported frame rate and image size (the sliding window of the metadata), ``batch_size``
        windows per call (None: the metadata's)."""
        expected = (self.metadata["views"], *self.metadata["image_size"])
        if (frames.shape[0], *frames.shape[2:4]) != expected or frames.dtype != np.uint8:
            raise ValueError(f"frames must be (V, n, H, W, 3) uint8 with (V, H, W) = {expected}, "
                             f"got {frames.shape} {frames.dtype}")
        return score_recording(self.clip_scores, frames, self.metadata["num_frames"],
                               self.metadata["frame_step"], self.metadata["hop"],
                               batch_size or self.metadata["batch_size"])

    def segments(self, scores: np.ndarray) -> pd.DataFrame:
        """The action segments of ``scores`` ``(n, C)`` with the stored per-class thresholds."""
        classes = self.metadata["classes"]
        thresholds = [self.metadata["thresholds"][name] for name in classes]
        return frame_segments(scores, thresholds, classes, self.metadata["sample_fps"])


def load_exported(path: str | Path) -> ExportedStudent:
    """The exported student at ``path``; ``ValueError`` naming the file when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Exported student {path} does not exist")
    extra = {METADATA_ENTRY: ""}
    try:
        program = torch.export.load(path, extra_files=extra)
    except (zipfile.BadZipFile, RuntimeError, KeyError, ValueError) as error:
        raise ValueError(f"{path} is not an exported program "
                         f"({type(error).__name__}: {error})") from None
    if not extra[METADATA_ENTRY]:
        raise ValueError(f"{path} has no {METADATA_ENTRY} entry: it was not exported by vicokd")
    return ExportedStudent(program, json.loads(extra[METADATA_ENTRY]))
