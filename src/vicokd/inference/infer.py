"""A trained student over every recording of a folder: frame scores, segments and timelines."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from vicokd.data.annotations import RecordingError
from vicokd.data.ingest import IngestionSettings
from vicokd.inference.export import FrameScorer
from vicokd.inference.recordings import FoundRecordings, decode_recordings
from vicokd.inference.segments import annotation_segments, frame_segments
from vicokd.inference.timeline import timeline_figure
from vicokd.inference.windows import score_recording
from vicokd.training.checkpoints import model_from_checkpoint

log = logging.getLogger(__name__)


@dataclass
class InferenceOutputs:
    """Per recording name: ``frame_scores`` (``recording, frame, time`` and one column per class),
    ``segments`` (``class, start, end, score``) and ``timelines`` (``<name>.png`` -> figure);
    ``report``: what was processed, left out (with the file and problem) and ignored."""

    frame_scores: dict[str, pd.DataFrame] = field(default_factory=dict)
    segments: dict[str, pd.DataFrame] = field(default_factory=dict)
    timelines: dict[str, Figure] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)


def frame_score_table(recording: str, scores: np.ndarray, classes: list[str],
                      fps: float) -> pd.DataFrame:
    """``recording, frame, time`` (seconds) and one column per class of ``scores`` ``(n, C)``."""
    table = pd.DataFrame(scores, columns=classes)
    table.insert(0, "time", np.arange(len(scores)) / fps)
    table.insert(0, "frame", np.arange(len(scores), dtype=np.int64))
    table.insert(0, "recording", recording)
    return table


def infer_recordings(checkpoint: Mapping[str, Any], calibration: Mapping[str, Any],
                     found: FoundRecordings, recordings: str | Path, settings: IngestionSettings,
                     batch_size: int, device: torch.device) -> InferenceOutputs:
    """Run the student of ``checkpoint`` over the recordings ``found`` under the folder
    ``recordings`` (:func:`~vicokd.inference.recordings.find_recordings`) with the window and
    thresholds of its ``calibration`` (:func:`~vicokd.inference.calibration.calibrate`), decoding
    as ingestion does with ``settings`` but without audio; ``batch_size`` windows per forward pass
    on ``device``. No audio and no masks are read: a view without an audio stream is accepted.

    A recording that cannot be decoded is logged and listed in the report with the file and the
    problem; the others are processed. Raises ValueError when none can be.
    """
    if checkpoint["with_audio"]:
        raise ValueError(f"{calibration['model']} hears audio: inference runs visual-only students "
                         "(choose a V_F or V_S model in inference.model)")
    scorer = FrameScorer(model_from_checkpoint(checkpoint).to(device))
    classes, fps = list(calibration["classes"]), float(calibration["sample_fps"])
    thresholds = [calibration["thresholds"][c] for c in classes]
    outputs = InferenceOutputs()
    left_out = [{"recording": str(problem.path), "file": problem.path, "problem": problem.problem}
                for problem in found.problems]
    for problem in found.problems:
        log.warning("Recording left out: %s", problem)
    processed = []
    visual_only = settings.model_copy(update={"with_audio": False})
    for recording, decoded in decode_recordings(found.recordings, recordings, visual_only):
        if isinstance(decoded, RecordingError):
            log.warning("Recording %s left out: %s", recording.name, decoded)
            left_out.append({"recording": recording.name, "file": decoded.path,
                             "problem": decoded.problem})
            continue
        scores = score_recording(scorer, decoded.frames, calibration["num_frames"],
                                 calibration["frame_step"], calibration["hop"], batch_size)
        segments = frame_segments(scores, thresholds, classes, fps)
        annotation = None if recording.tricks is None else annotation_segments(recording.tricks)
        outputs.frame_scores[recording.name] = frame_score_table(recording.name, scores, classes,
                                                                 fps)
        outputs.segments[recording.name] = segments
        outputs.timelines[f"{recording.name}.png"] = timeline_figure(
            scores, segments, classes, fps, f"{recording.name}: {calibration['model']}", annotation)
        processed.append({"recording": recording.name, "frames": int(scores.shape[0]),
                          "seconds": scores.shape[0] / fps, "segments": len(segments),
                          "annotated": annotation is not None})
    if not processed:
        raise ValueError(f"{recordings}: no recording could be processed: " + "; ".join(
            f"{item['file']}: {item['problem']}" for item in left_out))
    outputs.report = {"recordings": str(recordings), "model": calibration["model"],
                      "model_version": calibration["model_version"], "processed": processed,
                      "left_out": left_out, "ignored_files": found.ignored}
    return outputs

