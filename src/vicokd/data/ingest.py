"""Turning a MultiSensor-Home style dataset into per-sequence arrays, decoding every view once.

For each annotated sequence: decode its five views (frames at 2.5 FPS and 16 kHz mono audio in one
pass), keep ``n_frames`` = the fewest 2.5-FPS frames over views, and compute audio features and frame
labels on that frame axis. A sequence with a bad input (missing/corrupt/truncated view, bad record,
times beyond the video) is left out with a warning naming the file and the problem, or raises in
strict mode; a file without records or a home left without sequences is a warning.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from vicokd.data.annotations import (
    SAMPLE_FPS,
    RecordingError,
    SequenceSpec,
    check_trick_times,
    frame_labels,
    read_home,
)
from vicokd.data.audio_features import ChunkedLogMel
from vicokd.data.decoding import decode_view
from vicokd.parameters import Parameters
from vicokd.processes import spawned_pool

logger = logging.getLogger(__name__)


class IngestionSettings(Parameters):
    """How to decode: frames of ``image_size`` ``(H, W)``, mono audio at ``sample_rate`` Hz turned
    into ``num_mel_bins`` log-mel bins, ``time_tolerance`` seconds a trick may end after its video,
    ``strict``: a bad sequence raises instead of being left out, ``num_workers`` decoding
    processes (0: in this process)."""

    image_size: tuple[PositiveInt, PositiveInt]
    sample_rate: PositiveInt
    num_mel_bins: PositiveInt
    time_tolerance: NonNegativeFloat
    strict: bool
    num_workers: NonNegativeInt


class AudioParameters(Parameters):
    """The ``ingestion.audio:`` block: how the audio track becomes log-mel chunks."""

    sample_rate: PositiveInt  # Hz, mono
    num_mel_bins: PositiveInt


class IngestionParameters(Parameters):
    """The ``ingestion:`` parameter block: which dataset and homes to read and how to decode them."""

    dataset_root: str  # one folder per home in the MultiSensor-Home layout
    homes: Annotated[list[str], Field(min_length=1)]  # the evaluated homes
    image_size: Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]  # [H, W] of the frames
    strict: bool  # a bad sequence stops ingestion instead of being left out
    time_tolerance_s: NonNegativeFloat  # a trick may end this long after its video
    num_workers: NonNegativeInt  # decoding processes (0: decode in the Kedro process)
    audio: AudioParameters

    @property
    def settings(self) -> IngestionSettings:
        """How to decode, as :func:`ingest_dataset` reads it."""
        return IngestionSettings(
            image_size=tuple(self.image_size),
            sample_rate=self.audio.sample_rate,
            num_mel_bins=self.audio.num_mel_bins,
            time_tolerance=self.time_tolerance_s,
            strict=self.strict,
            num_workers=self.num_workers,
        )


@dataclass
class IngestedSequence:
    """One sequence ready for training.

    row: its ``sequences`` table row; frames ``(V, n, H, W, 3)`` uint8; audio_features
    ``(V, n, L, 128)`` float16; frame_labels ``(n, C)`` uint8; native_frames and bytes_read: decoding
    work done, for throughput figures.
    """

    row: dict[str, Any]
    frames: np.ndarray
    audio_features: np.ndarray
    frame_labels: np.ndarray
    native_frames: int
    bytes_read: int


@dataclass
class IngestionReport:
    """What ingestion kept and left out (``skipped``), what else looked wrong without leaving
    anything out (``warnings``: a file without records, a home without sequences), and how fast it
    decoded."""

    kept: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    native_frames: int = 0
    bytes_read: int = 0

    def as_dict(self) -> dict[str, Any]:
        seconds = max(self.seconds, 1e-9)
        return {
            "kept": len(self.kept),
            "skipped": self.skipped,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "native_frames_decoded": self.native_frames,
            "megabytes_read": round(self.bytes_read / 1e6, 3),
            "decode_frames_per_second": round(self.native_frames / seconds, 1),
            "decode_megabytes_per_second": round(self.bytes_read / 1e6 / seconds, 3),
        }


def with_extra_homes(homes: Iterable[str], extra_homes: Iterable[str]) -> list[str]:
    """``homes`` followed by the ``extra_homes`` not among them, in order."""
    homes = list(homes)
    return [*homes, *(h for h in dict.fromkeys(extra_homes) if h not in homes)]


def ingest_sequence(
    spec: SequenceSpec, dataset_root: str | Path, settings: IngestionSettings
) -> IngestedSequence:
    """Decode and featurise one sequence; raises RecordingError on bad input."""
    with threadpool_limits(1, user_api="blas"):  # small matrix products: BLAS threads only contend
        return _ingest_sequence(spec, Path(dataset_root), settings)


def _ingest_sequence(
    spec: SequenceSpec, root: Path, settings: IngestionSettings
) -> IngestedSequence:
    views = [
        decode_view(root / path, settings.image_size, settings.sample_rate)
        for path in spec.view_paths
    ]
    n_frames = min(view.frames.shape[0] for view in views)
    duration = min(view.duration for view in views)
    check_trick_times(spec, duration, settings.time_tolerance)
    features = ChunkedLogMel(settings.sample_rate, settings.num_mel_bins)
    row = {
        "sequence_id": spec.sequence_id,
        "home": spec.home,
        "session": spec.session,
        "video_id": spec.video_id,
        "part": spec.part,
        "view_paths": list(spec.view_paths),
        "duration": duration,
        "native_fps": views[0].native_fps,
        "n_frames": n_frames,
        "labels": list(spec.labels),
        "tricks": json.dumps(list(spec.tricks)),
        "has_audio": [view.audio is not None for view in views],
        "dataset_split": spec.dataset_split,
    }
    return IngestedSequence(
        row=row,
        frames=np.stack([view.frames[:n_frames] for view in views]),
        audio_features=np.stack([features(view.audio, n_frames) for view in views]),
        frame_labels=frame_labels(spec.tricks, n_frames, SAMPLE_FPS),
        native_frames=sum(view.native_frames for view in views),
        bytes_read=sum((root / path).stat().st_size for path in spec.view_paths),
    )


def _try_ingest(
    spec: SequenceSpec, dataset_root: str, settings: IngestionSettings
) -> IngestedSequence | RecordingError:
    try:
        return ingest_sequence(spec, dataset_root, settings)
    except RecordingError as problem:
        return problem


def _ingest_all(
    specs: list[SequenceSpec], dataset_root: str, settings: IngestionSettings
) -> Iterator[IngestedSequence | RecordingError]:
    work = partial(_try_ingest, dataset_root=str(dataset_root), settings=settings)
    if settings.num_workers <= 0:
        yield from map(work, specs)
        return
    with spawned_pool(settings.num_workers) as pool:
        yield from pool.map(work, specs)


def _skip(report: IngestionReport, problem: RecordingError, strict: bool) -> None:
    if strict:
        raise problem
    logger.warning("Leaving out: %s", problem)
    report.skipped.append({"file": problem.path, "problem": problem.problem})


def _warn(report: IngestionReport, note: RecordingError) -> None:
    logger.warning("%s", note)
    report.warnings.append({"file": note.path, "problem": note.problem})


def ingest_dataset(
    dataset_root: str | Path,
    homes: Iterable[str],
    settings: IngestionSettings,
    keep: Callable[[IngestedSequence], None],
) -> IngestionReport:
    """Ingest every sequence of ``homes`` under ``dataset_root``, handing each to ``keep`` in order.

    Bad records, files and sequences are logged and listed in the report's ``skipped``; files
    without records and homes left without sequences in its ``warnings``. In strict mode a bad
    record, file or sequence, or a home whose annotations list no sequence, raises RecordingError.
    """
    start = time.perf_counter()
    report = IngestionReport()
    specs: list[SequenceSpec] = []
    for home in homes:
        annotations = read_home(dataset_root, home)
        for problem in annotations.problems:
            _skip(report, problem, settings.strict)
        for note in annotations.notes:
            _warn(report, note)
        if not annotations.sequences:
            empty = RecordingError(Path(dataset_root) / home, "its annotations list no sequence")
            if settings.strict:
                raise empty
            _warn(report, empty)
        specs.extend(annotations.sequences)
    results = _ingest_all(specs, str(dataset_root), settings)
    kept_per_home: Counter[str] = Counter()
    for result in tqdm(results, total=len(specs), desc="ingestion", unit="sequence",
                       disable=None):  # a bar on a terminal only
        if isinstance(result, RecordingError):
            _skip(report, result, settings.strict)
            continue
        keep(result)
        report.kept.append(result.row["sequence_id"])
        kept_per_home[result.row["home"]] += 1
        report.native_frames += result.native_frames
        report.bytes_read += result.bytes_read
    listed_per_home = Counter(spec.home for spec in specs)
    for home, listed in listed_per_home.items():
        if not kept_per_home[home]:
            problem = f"all {listed} of its sequences were left out: it has no sequence"
            _warn(report, RecordingError(Path(dataset_root) / home, problem))
    report.seconds = time.perf_counter() - start
    return report
