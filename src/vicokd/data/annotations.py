"""The MultiSensor-Home annotation vocabulary and label rules: reading annotation records,
checking them, and the frame-label rule."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: The 16 action classes, in the order of every class axis in the project.
CLASSES: tuple[str, ...] = (
    "AdjustAC", "Clean", "CleanVacuum", "CloseCurtain", "Drink", "Eat", "Enter", "Exit",
    "OpenCurtain", "ReadBook", "Sitdown", "Standup", "TurnOffLamp", "TurnOnLamp", "UseLaptop",
    "UsePhone",
)

#: Frames per second of the sampled frame axis shared by frames, audio chunks, labels and masks.
SAMPLE_FPS: float = 2.5

#: Number of camera views (and microphones) per home.
NUM_VIEWS: int = 5

#: ``<session>/<video id>-View<k>-Part<p>.mp4`` as written in the ``video_url_<k>`` fields.
VIDEO_URL = re.compile(
    r"^(?P<session>[^/]+)/(?P<video_id>[^/]+)-View(?P<view>\d+)-Part(?P<part>\d+)\.mp4$"
)

#: The file holding every record of a home (Home1 style); otherwise train*/test* files are merged.
ALL_LABELS_FILE = "all_labels.json"


class RecordingError(ValueError):
    """A problem with one input file; the message names the file and the problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class SequenceSpec:
    """One annotated sequence (a recording seen by the five views), before decoding.

    ``view_paths`` are relative to the dataset root (``<home>/<session>/<id>-View<k>-Part<p>.mp4``)
    in view order; ``tricks`` are the annotation's ``{start, end, labels}`` records (seconds);
    ``dataset_split`` is ``train``/``test`` when the dataset's own split files list the sequence.
    """

    sequence_id: str
    home: str
    session: str
    video_id: str
    part: int
    view_paths: tuple[str, ...]
    tricks: tuple[dict[str, Any], ...]
    source: str
    dataset_split: str | None = None
    labels: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        present = {label for trick in self.tricks for label in trick["labels"]}
        object.__setattr__(self, "labels", tuple(c for c in CLASSES if c in present))


def sequence_id(home: str, session: str, video_id: str, part: int) -> str:
    """``Home1/01/00-Part1``: unique across homes, sessions and parts."""
    return f"{home}/{session}/{video_id}-Part{part}"


def parse_record(record: dict[str, Any], home: str, source: str | Path) -> SequenceSpec:
    """Check one annotation record and turn it into a SequenceSpec.

    Raises RecordingError naming ``source`` when a view url is missing or malformed, the views
    disagree on session/id/part, a label is unknown, or a trick has ``end < start`` or ``start < 0``.
    """
    urls = []
    for view in range(1, NUM_VIEWS + 1):
        url = record.get(f"video_url_{view}")
        if not isinstance(url, str):
            raise RecordingError(
                source, f"record {record.get('video_url_1')!r} has no video_url_{view}"
            )
        match = VIDEO_URL.match(url.strip("/"))
        if match is None or int(match["view"]) != view:
            raise RecordingError(
                source, f"video_url_{view} {url!r} is not <session>/<id>-View{view}-Part<p>.mp4"
            )
        urls.append(match)
    keys = {(m["session"], m["video_id"], int(m["part"])) for m in urls}
    if len(keys) != 1:
        raise RecordingError(source, f"views of record {urls[0].string!r} name different sequences")
    session, video_id, part = keys.pop()
    name = sequence_id(home, session, video_id, part)
    tricks = []
    for trick in record.get("tricks", []):
        try:
            start, end, labels = float(trick["start"]), float(trick["end"]), list(trick["labels"])
        except (KeyError, TypeError, ValueError):
            raise RecordingError(source, f"{name}: malformed trick {trick!r}") from None
        unknown = [label for label in labels if label not in CLASSES]
        if unknown:
            raise RecordingError(source, f"{name}: unknown label(s) {unknown}")
        if start < 0 or end < start:
            raise RecordingError(
                source, f"{name}: trick times start={start} end={end} (need 0 <= start <= end)"
            )
        tricks.append({"start": start, "end": end, "labels": labels})
    view_paths = tuple(f"{home}/{m.string.strip('/')}" for m in urls)
    return SequenceSpec(name, home, session, video_id, part, view_paths, tuple(tricks), str(source))


def home_annotation_files(home_dir: Path) -> tuple[Path | None, dict[str, list[Path]]]:
    """The home's ``all_labels.json`` (or None) and its dataset split files ``{train: [...], test: [...]}``."""
    all_labels = home_dir / ALL_LABELS_FILE
    splits = {split: sorted(home_dir.glob(f"{split}*.json")) for split in ("train", "test")}
    return (all_labels if all_labels.is_file() else None), splits


def _read_records(path: Path) -> list[dict[str, Any]]:
    try:
        records = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise RecordingError(path, f"unreadable annotation file ({error})") from error
    if not isinstance(records, list):
        raise RecordingError(path, "annotation file is not a list of records")
    return records


def read_home(
    dataset_root: str | Path, home: str
) -> tuple[list[SequenceSpec], list[RecordingError]]:
    """Read every annotated sequence of ``<dataset_root>/<home>``, with either naming convention.

    Home1 style: records from ``all_labels.json``; Home2 style: ``train*.json`` and ``test*.json``
    merged. In both cases a sequence listed in a ``train*``/``test*`` file gets that ``dataset_split``.
    Returns the valid sequences (first occurrence of each id) and the problems of the invalid records.
    Raises RecordingError when the home folder or its annotation files are missing or unreadable.
    """
    home_dir = Path(dataset_root) / home
    if not home_dir.is_dir():
        raise RecordingError(home_dir, "home folder is missing")
    all_labels, split_files = home_annotation_files(home_dir)
    record_files = (
        [all_labels] if all_labels else [p for files in split_files.values() for p in files]
    )
    if not record_files:
        raise RecordingError(
            home_dir, f"no {ALL_LABELS_FILE} and no train*/test* .json annotation file"
        )
    membership: dict[str, str] = {}
    for split, files in split_files.items():
        for path in files:
            for record in _read_records(path):
                membership.setdefault(str(record.get("video_url_1", "")).strip("/"), split)
    specs: dict[str, SequenceSpec] = {}
    problems: list[RecordingError] = []
    for path in record_files:
        for record in _read_records(path):
            try:
                spec = parse_record(record, home, path)
            except RecordingError as problem:
                problems.append(problem)
                continue
            if spec.sequence_id not in specs:
                split = membership.get(str(record["video_url_1"]).strip("/"))
                specs[spec.sequence_id] = SequenceSpec(
                    spec.sequence_id,
                    home,
                    spec.session,
                    spec.video_id,
                    spec.part,
                    spec.view_paths,
                    spec.tricks,
                    spec.source,
                    split,
                )
    return list(specs.values()), problems


def check_trick_times(spec: SequenceSpec, duration: float, tolerance: float) -> None:
    """Raise RecordingError when a trick ends more than ``tolerance`` seconds after the video."""
    for trick in spec.tricks:
        if trick["end"] > duration + tolerance:
            raise RecordingError(
                spec.source,
                f"{spec.sequence_id}: trick {trick['labels']} ends at {trick['end']} s, "
                f"beyond the video ({duration:.2f} s)",
            )


def frame_labels(
    tricks: Iterable[dict[str, Any]], n_frames: int, fps: float = SAMPLE_FPS
) -> np.ndarray:
    """``(n_frames, C)`` uint8: frame f carries class c when ``round(start·fps) <= f <= round(end·fps)``
    for a trick labelled c (Python's ``round``: halves go to the even integer); clipped to the sequence."""
    labels = np.zeros((n_frames, len(CLASSES)), dtype=np.uint8)
    for trick in tricks:
        first, last = round(trick["start"] * fps), min(round(trick["end"] * fps), n_frames - 1)
        for name in trick["labels"]:
            labels[first : last + 1, CLASSES.index(name)] = 1
    return labels


def multi_hot(labels: Sequence[str]) -> np.ndarray:
    """``(C,)`` float32 with 1 at each class in ``labels``."""
    vector = np.zeros(len(CLASSES), dtype=np.float32)
    vector[[CLASSES.index(name) for name in labels]] = 1.0
    return vector
