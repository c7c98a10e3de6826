"""Turning a MultiSensor-Home style dataset into per-sequence arrays, decoding every view once.

For each annotated sequence: decode its five views (frames at 2.5 FPS and 16 kHz mono audio in one
pass), check that they are about as long as each other, keep ``n_frames`` = the fewest 2.5-FPS
frames over views, and compute audio features and frame labels on that frame axis.
Decoding for a model that hears nothing (``IngestionSettings.with_audio`` false: inference and
evaluation of a visual-only student) reads no audio and computes no audio features, so a view
without an audio stream is accepted.

A sequence with a bad input is left out with a warning naming the file and the problem, of a kind
listed in ``PROBLEM_KINDS`` (a malformed or second record; a missing, unreadable, truncated or
audio-less view; a view cut short; a trick beyond its video; a worker process that died decoding
it), or raises in strict mode. A file without records is a warning. A home left without a usable
sequence raises in either mode, naming the home and counting the reasons by kind: a home without
data cannot be trained.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
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
    count_kinds,
    frame_labels,
    read_home,
)
from vicokd.data.audio_features import ChunkedLogMel
from vicokd.data.decoding import DecodedView, decode_view
from vicokd.data.worker_pool import Announce, map_in_workers
from vicokd.parameters import Parameters

logger = logging.getLogger(__name__)


class IngestionSettings(Parameters):
    """How to decode: frames of ``image_size`` ``(H, W)``, mono audio at ``sample_rate`` Hz turned
    into ``num_mel_bins`` log-mel bins when ``with_audio`` (a view without audio is then a problem;
    decoding for a model that hears none skips the audio), ``time_tolerance`` seconds a trick may
    end after its video, ``view_length_tolerance`` seconds the views of a sequence may differ in
    length, ``strict``: a bad sequence raises instead of being left out, ``num_workers`` decoding
    processes (0: in this process)."""

    image_size: tuple[PositiveInt, PositiveInt]
    sample_rate: PositiveInt
    num_mel_bins: PositiveInt
    with_audio: bool
    time_tolerance: NonNegativeFloat
    view_length_tolerance: NonNegativeFloat
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
    view_length_tolerance_s: NonNegativeFloat  # the views of a sequence may differ this much
    num_workers: NonNegativeInt  # decoding processes (0: decode in the Kedro process)
    audio: AudioParameters

    @property
    def settings(self) -> IngestionSettings:
        """How to decode, as :func:`ingest_dataset` reads it: with audio, which the teacher hears
        (decoding for a visual-only model copies it with ``with_audio=False``)."""
        return IngestionSettings(
            image_size=tuple(self.image_size),
            sample_rate=self.audio.sample_rate,
            num_mel_bins=self.audio.num_mel_bins,
            with_audio=True,
            time_tolerance=self.time_tolerance_s,
            view_length_tolerance=self.view_length_tolerance_s,
            strict=self.strict,
            num_workers=self.num_workers,
        )


@dataclass
class IngestedSequence:
    """One sequence ready for training.

    row: its ``sequences`` table row; frames ``(V, n, H, W, 3)`` uint8; audio_features
    ``(V, n, L, 128)`` float16 (None when decoded without audio); frame_labels ``(n, C)`` uint8;
    native_frames and bytes_read: decoding work done, for throughput figures.
    """

    row: dict[str, Any]
    frames: np.ndarray
    audio_features: np.ndarray | None
    frame_labels: np.ndarray
    native_frames: int
    bytes_read: int


@dataclass
class IngestionReport:
    """What ingestion kept and left out (``skipped``), what else looked wrong without leaving
    anything out (``warnings``: a file without records), and how fast it decoded. Each skipped or
    warning entry names the file, the ``kind`` of problem (a key of PROBLEM_KINDS) and the problem;
    ``problems_per_home`` counts them by kind for each home."""

    kept: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    native_frames: int = 0
    bytes_read: int = 0
    problems_per_home: defaultdict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )

    def leave_out(self, home: str, problem: RecordingError, strict: bool) -> None:
        """Log ``problem`` and list it as skipped; in strict mode raise it instead."""
        if strict:
            raise problem
        logger.warning("Leaving out: %s", problem)
        self.skipped.append(_entry(problem))
        self.problems_per_home[home][problem.kind] += 1

    def warn(self, home: str, note: RecordingError) -> None:
        """Log ``note`` and list it as a warning (nothing is left out)."""
        logger.warning("%s", note)
        self.warnings.append(_entry(note))
        self.problems_per_home[home][note.kind] += 1

    def no_usable_sequence(
        self, dataset_root: str | Path, home: str, records: int
    ) -> RecordingError:
        """The error for a ``home`` whose ``records`` annotation records leave nothing to train."""
        reasons = count_kinds(self.problems_per_home[home])
        return RecordingError(
            Path(dataset_root) / home,
            f"no usable sequence among {records} record{'s' * (records != 1)}: {reasons} (each "
            "named in a warning above). A home without data cannot be trained: mend its files, or "
            "leave it out of ingestion.homes (pretraining.homes for a pretraining home)",
            "no_usable_sequence",
        )

    def as_dict(self) -> dict[str, Any]:
        seconds = max(self.seconds, 1e-9)
        return {
            "kept": len(self.kept),
            "skipped": self.skipped,
            "skipped_by_kind": dict(Counter(entry["kind"] for entry in self.skipped)),
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "native_frames_decoded": self.native_frames,
            "megabytes_read": round(self.bytes_read / 1e6, 3),
            "decode_frames_per_second": round(self.native_frames / seconds, 1),
            "decode_megabytes_per_second": round(self.bytes_read / 1e6 / seconds, 3),
        }


def _entry(problem: RecordingError) -> dict[str, str]:
    """A report entry: the file, the kind of problem (a key of PROBLEM_KINDS) and the problem."""
    return {"file": problem.path, "kind": problem.kind, "problem": problem.problem}


def with_extra_homes(homes: Iterable[str], extra_homes: Iterable[str]) -> list[str]:
    """``homes`` followed by the ``extra_homes`` not among them, in order."""
    homes = list(homes)
    return [*homes, *(h for h in dict.fromkeys(extra_homes) if h not in homes)]


def ingest_sequence(
    spec: SequenceSpec,
    dataset_root: str | Path,
    settings: IngestionSettings,
    announce: Announce | None = None,
) -> IngestedSequence:
    """Decode and featurise one sequence; raises RecordingError on bad input. ``announce(path)``,
    when given, is called before each view is decoded, and ``announce(None)`` after the last."""
    with threadpool_limits(1, user_api="blas"):  # small matrix products: BLAS threads only contend
        return _ingest_sequence(spec, Path(dataset_root), settings, announce or _quiet)


def _quiet(file: str | None) -> None:
    """Announces nothing."""


def _ingest_sequence(
    spec: SequenceSpec, root: Path, settings: IngestionSettings, announce: Announce
) -> IngestedSequence:
    paths = [root / path for path in spec.view_paths]
    views = []
    for path in paths:
        announce(str(path))
        views.append(decode_view(path, settings.image_size, settings.sample_rate,
                                 with_audio=settings.with_audio))
    announce(None)
    check_view_lengths(paths, views, settings.view_length_tolerance)
    n_frames = min(view.frames.shape[0] for view in views)
    duration = min(view.duration for view in views)
    check_trick_times(spec, duration, settings.time_tolerance)
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
        "dataset_split": spec.dataset_split,
    }
    return IngestedSequence(
        row=row,
        frames=np.stack([view.frames[:n_frames] for view in views]),
        audio_features=_log_mels(views, n_frames, settings) if settings.with_audio else None,
        frame_labels=frame_labels(spec.tricks, n_frames, SAMPLE_FPS),
        native_frames=sum(view.native_frames for view in views),
        bytes_read=sum(path.stat().st_size for path in paths),
    )


def _log_mels(views: Sequence[DecodedView], n_frames: int,
              settings: IngestionSettings) -> np.ndarray:
    """``(V, n_frames, L, num_mel_bins)`` log-mel chunks of the views' audio, one per frame."""
    features = ChunkedLogMel(settings.sample_rate, settings.num_mel_bins)
    return np.stack([features(view.audio, n_frames) for view in views])


def check_view_lengths(
    paths: Sequence[Path], views: Sequence[DecodedView], tolerance: float
) -> None:
    """Raise RecordingError naming the shortest view's mp4 (``paths[i]`` decoded as ``views[i]``)
    when it is more than ``tolerance`` seconds shorter than the longest: a file cut short, not a
    fault of the annotation."""
    durations = [view.duration for view in views]
    short, long = int(np.argmin(durations)), int(np.argmax(durations))
    if durations[long] - durations[short] > tolerance:
        raise RecordingError(
            paths[short],
            f"the view is {durations[short]:.2f} s long, {paths[long].name} "
            f"{durations[long]:.2f} s: cut short (the views of a sequence may differ by "
            f"view_length_tolerance_s = {tolerance} s)",
            "short_view",
        )


def _try_ingest(
    spec: SequenceSpec,
    announce: Announce | None,
    dataset_root: str,
    settings: IngestionSettings,
) -> IngestedSequence | RecordingError:
    """The sequence, or the RecordingError that leaves it out (handed back, not raised, so a worker
    process returns it like any result)."""
    try:
        return ingest_sequence(spec, dataset_root, settings, announce)
    except RecordingError as problem:
        return problem


def _worker_died(spec: SequenceSpec, file: str | None, dataset_root: str) -> RecordingError:
    """The problem of a sequence whose decoding worker process died while ingesting it alone,
    reading ``file`` (None: between files)."""
    if file is not None:
        return RecordingError(
            file,
            f"the decoding worker process died while decoding it (its sequence "
            f"{spec.sequence_id} is left out)",
            "worker_crash",
        )
    return RecordingError(
        Path(dataset_root) / spec.view_paths[0],
        f"the decoding worker process died while ingesting {spec.sequence_id}, the sequence of "
        "this view, between reading its files (it is left out)",
        "worker_crash",
    )


def _ingest_all(
    specs: list[SequenceSpec], dataset_root: str, settings: IngestionSettings
) -> Iterator[IngestedSequence | RecordingError]:
    """Each sequence ingested or the problem that leaves it out, in order: in this process, or in
    ``settings.num_workers`` spawned processes whose death costs only the sequence that kills one
    (see vicokd.data.worker_pool)."""
    work = partial(_try_ingest, dataset_root=dataset_root, settings=settings)
    if settings.num_workers <= 0:
        return (work(spec, None) for spec in specs)
    died = partial(_worker_died, dataset_root=dataset_root)
    return map_in_workers(work, specs, settings.num_workers, died)


def ingest_dataset(
    dataset_root: str | Path,
    homes: Iterable[str],
    settings: IngestionSettings,
    keep: Callable[[IngestedSequence], None],
) -> IngestionReport:
    """Ingest every sequence of ``homes`` under ``dataset_root``, handing each to ``keep`` in order.

    Bad records, files and sequences are logged and listed in the report's ``skipped``; files
    without records in its ``warnings``. In strict mode a bad record, file or sequence raises
    RecordingError. In either mode a home left without a usable sequence raises RecordingError
    naming the home and counting the reasons by kind: before anything is decoded when its records
    leave none, else as soon as its last sequence has been decoded.
    """
    start = time.perf_counter()
    report = IngestionReport()
    specs: list[SequenceSpec] = []
    records: dict[str, int] = {}
    for home in homes:
        annotations = read_home(dataset_root, home)
        for problem in annotations.problems:
            report.leave_out(home, problem, settings.strict)
        for note in annotations.notes:
            report.warn(home, note)
        if not annotations.sequences:
            raise report.no_usable_sequence(dataset_root, home, annotations.records)
        records[home] = annotations.records
        specs.extend(annotations.sequences)
    to_decode = Counter(spec.home for spec in specs)
    kept_per_home: Counter[str] = Counter()
    with closing(_ingest_all(specs, str(dataset_root), settings)) as results:  # stops workers
        progress = tqdm(results, total=len(specs), desc="ingestion", unit="sequence",
                        disable=None)  # a bar on a terminal only
        for spec, result in zip(specs, progress, strict=True):
            to_decode[spec.home] -= 1
            if isinstance(result, RecordingError):
                report.leave_out(spec.home, result, settings.strict)
            else:
                keep(result)
                report.kept.append(spec.sequence_id)
                kept_per_home[spec.home] += 1
                report.native_frames += result.native_frames
                report.bytes_read += result.bytes_read
            if not to_decode[spec.home] and not kept_per_home[spec.home]:
                raise report.no_usable_sequence(dataset_root, spec.home, records[spec.home])
    report.seconds = time.perf_counter() - start
    return report
