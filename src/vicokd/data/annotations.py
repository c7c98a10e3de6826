"""The MultiSensor-Home annotation vocabulary and label rules: reading annotation records,
checking them, and the frame-label rule."""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

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


#: Kinds of input problem, ``kind: (one, several)``: the ``kind`` of ingestion report entries, and
#: the words of a message that counts them ("7 malformed records, 1 view without audio").
PROBLEM_KINDS: dict[str, tuple[str, str]] = {
    "missing_home": ("missing home folder", "missing home folders"),
    "missing_annotations": ("home without annotation files", "homes without annotation files"),
    "unreadable_annotation_file": ("unreadable annotation file", "unreadable annotation files"),
    "empty_annotation_file": ("empty annotation file", "empty annotation files"),
    "malformed_record": ("malformed record", "malformed records"),
    "duplicate_record": ("duplicate record", "duplicate records"),
    "missing_view": ("missing view file", "missing view files"),
    "unreadable_mp4": ("unreadable mp4", "unreadable mp4s"),
    "truncated_mp4": ("truncated mp4", "truncated mp4s"),
    "no_audio": ("view without audio", "views without audio"),
    "short_view": ("short view", "short views"),
    "trick_beyond_video": ("trick beyond its video", "tricks beyond their videos"),
    "worker_crash": ("decoding worker crash", "decoding worker crashes"),
    "no_usable_sequence": ("home without a usable sequence", "homes without a usable sequence"),
}


def count_kinds(counts: dict[str, int]) -> str:
    """``{"no_audio": 1, "malformed_record": 7}`` → ``7 malformed records, 1 view without audio``
    (in the order of PROBLEM_KINDS)."""
    return ", ".join(
        f"{counts[kind]} {words[counts[kind] != 1]}"
        for kind, words in PROBLEM_KINDS.items()
        if counts.get(kind)
    )


class RecordingError(ValueError):
    """A problem with one input file; the message names the file and the problem, and ``kind``
    (a key of :data:`PROBLEM_KINDS`) says what sort of problem it is."""

    def __init__(self, path: str | Path, problem: str, kind: str):
        if kind not in PROBLEM_KINDS:
            raise ValueError(f"unknown problem kind {kind!r}; known: {sorted(PROBLEM_KINDS)}")
        self.path = str(path)
        self.problem = problem
        self.kind = kind
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):
        """Pickled as its constructor's arguments, so a worker process can hand one back."""
        return type(self), (self.path, self.problem, self.kind)


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


def _where(record: Any, index: int | None) -> str:
    """``record [3] ('01/00-View1-Part1.mp4')``: the record's position and first view, as known."""
    where = "record" if index is None else f"record [{index}]"
    url = record.get("video_url_1") if isinstance(record, dict) else None
    return f"{where} ({url!r})" if isinstance(url, str) else where


def _seconds(value: Any, what: str) -> float:
    """``value`` as a finite number of seconds; raises TypeError/ValueError saying what is wrong."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} is {value!r} ({type(value).__name__}), not a number of seconds")
    if not math.isfinite(value):
        raise ValueError(f"{what} is {value}, not a finite number of seconds")
    return float(value)


def _trick(trick: Any, name: str) -> dict[str, Any]:
    """One ``{start, end, labels}`` record checked; raises TypeError/ValueError saying what is wrong."""
    if not isinstance(trick, dict):
        raise TypeError(f"{name} is {trick!r}, not an object with start, end and labels")
    missing = [key for key in ("start", "end", "labels") if key not in trick]
    if missing:
        raise ValueError(f"{name} {trick!r} lacks {', '.join(missing)}")
    start, end = _seconds(trick["start"], f"{name} start"), _seconds(trick["end"], f"{name} end")
    labels = trick["labels"]
    if not isinstance(labels, list):
        raise TypeError(f"{name} labels {labels!r} is not a list of class names")
    unknown = [label for label in labels if label not in CLASSES]
    if unknown:
        raise ValueError(f"{name} has unknown label(s) {unknown}")
    if start < 0 or end < start:
        raise ValueError(f"{name} times start={start} end={end} (need 0 <= start <= end)")
    return {"start": start, "end": end, "labels": list(labels)}


def parse_record(
    record: Any, home: str, source: str | Path, index: int | None = None
) -> SequenceSpec:
    """Check one annotation record (item ``index`` of the file ``source``) and turn it into a
    SequenceSpec.

    Raises RecordingError naming ``source`` and the record when the record is not an object, a view
    url is missing or malformed, the views disagree on session/id/part, ``tricks`` is missing or
    not a list, or a trick is not ``{start, end, labels}`` with finite numbers
    ``0 <= start <= end`` (booleans are not numbers) and a list of known class names.
    """
    where = _where(record, index)
    malformed = "malformed_record"
    if not isinstance(record, dict):
        raise RecordingError(
            source,
            f"{where} is {record!r:.80} ({type(record).__name__}), not an object with "
            f"video_url_1..{NUM_VIEWS} and tricks",
            malformed,
        )
    urls = []
    for view in range(1, NUM_VIEWS + 1):
        url = record.get(f"video_url_{view}")
        if not isinstance(url, str):
            raise RecordingError(source, f"{where} has no video_url_{view}", malformed)
        match = VIDEO_URL.match(url.strip("/"))
        if match is None or int(match["view"]) != view:
            raise RecordingError(
                source,
                f"{where}: video_url_{view} {url!r} is not <session>/<id>-View{view}-Part<p>.mp4",
                malformed,
            )
        urls.append(match)
    keys = {(m["session"], m["video_id"], int(m["part"])) for m in urls}
    if len(keys) != 1:
        raise RecordingError(source, f"{where}: its views name different sequences", malformed)
    session, video_id, part = keys.pop()
    name = sequence_id(home, session, video_id, part)
    label = name if index is None else f"{name} (record [{index}])"
    if not isinstance(record.get("tricks"), list):
        problem = "has no tricks" if "tricks" not in record else f"tricks {record['tricks']!r:.80}"
        raise RecordingError(
            source,
            f"{label}: {problem}, not a list of {{start, end, labels}} (use [] for a recording "
            "without actions)",
            malformed,
        )
    try:
        tricks = [_trick(trick, f"trick [{i}]") for i, trick in enumerate(record["tricks"])]
    except (TypeError, ValueError) as error:
        raise RecordingError(source, f"{label}: {error}", malformed) from None
    view_paths = tuple(f"{home}/{m.string.strip('/')}" for m in urls)
    return SequenceSpec(name, home, session, video_id, part, view_paths, tuple(tricks), str(source))


def home_annotation_files(home_dir: Path) -> tuple[Path | None, dict[str, list[Path]]]:
    """The home's ``all_labels.json`` (or None) and its dataset split files ``{train: [...], test: [...]}``."""
    all_labels = home_dir / ALL_LABELS_FILE
    splits = {split: sorted(home_dir.glob(f"{split}*.json")) for split in ("train", "test")}
    return (all_labels if all_labels.is_file() else None), splits


UNREADABLE = "unreadable_annotation_file"


def read_records(path: Path) -> list[Any]:
    """The records of one annotation file (a JSON list; its items are not checked here), read as
    UTF-8 with or without a byte order mark (as Windows editors save it).

    Raises RecordingError naming ``path`` when it cannot be read, is empty, is not JSON or is not
    a list.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise RecordingError(path, f"unreadable annotation file ({error})", UNREADABLE) from error
    if not text.strip():
        raise RecordingError(
            path, "annotation file is empty (expected a JSON list of records)", UNREADABLE
        )
    try:
        records = json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordingError(
            path, f"annotation file is not valid JSON ({error})", UNREADABLE
        ) from error
    if not isinstance(records, list):
        raise RecordingError(
            path,
            f"annotation file holds a {type(records).__name__}, not a list of records",
            UNREADABLE,
        )
    return records


class HomeAnnotations(NamedTuple):
    """What :func:`read_home` found: ``sequences`` (valid, first record of each id); ``problems``:
    records or files left out; ``notes``: files that hold no record (nothing left out);
    ``records``: how many records its annotation files hold, good or bad."""

    sequences: list[SequenceSpec]
    problems: list[RecordingError]
    notes: list[RecordingError]
    records: int


def _duplicate(
    spec: SequenceSpec, index: int, first: SequenceSpec, first_index: int
) -> RecordingError:
    """The problem of ``spec`` (record ``index``), a second record of ``first``'s sequence."""
    other = "repeats" if spec.tricks == first.tricks else "has other tricks than"
    return RecordingError(
        spec.source,
        f"{spec.sequence_id} (record [{index}]): a second record of this sequence; it {other} "
        f"record [{first_index}] of {first.source}, which is kept",
        "duplicate_record",
    )


def read_home(dataset_root: str | Path, home: str) -> HomeAnnotations:
    """Read every annotated sequence of ``<dataset_root>/<home>``, with either naming convention.

    Home1 style: records from ``all_labels.json``; Home2 style: ``train*.json`` and ``test*.json``
    merged. In both cases a sequence listed in a ``train*``/``test*`` file gets that ``dataset_split``.
    A malformed record, a second record of a sequence (the first is kept) or an unreadable file is
    a problem (the rest is read); a file with an empty list is a note. Raises RecordingError when
    the home folder or its annotation files are missing.
    """
    home_dir = Path(dataset_root) / home
    if not home_dir.is_dir():
        raise RecordingError(home_dir, "home folder is missing", "missing_home")
    all_labels, split_files = home_annotation_files(home_dir)
    record_files = (
        [all_labels] if all_labels else [p for files in split_files.values() for p in files]
    )
    if not record_files:
        raise RecordingError(
            home_dir,
            f"no {ALL_LABELS_FILE} and no train*/test* .json annotation file",
            "missing_annotations",
        )
    problems: list[RecordingError] = []
    notes: list[RecordingError] = []
    contents: dict[Path, list[Any]] = {}
    for path in dict.fromkeys([*record_files, *(p for f in split_files.values() for p in f)]):
        try:
            contents[path] = read_records(path)
        except RecordingError as problem:
            problems.append(problem)
            continue
        if not contents[path]:
            notes.append(
                RecordingError(path, "annotation file holds no records", "empty_annotation_file")
            )
    membership: dict[str, str] = {}
    for split, files in split_files.items():
        for path in files:
            for record in contents.get(path, []):
                if isinstance(record, dict) and isinstance(record.get("video_url_1"), str):
                    membership.setdefault(record["video_url_1"].strip("/"), split)
    specs: dict[str, tuple[SequenceSpec, int]] = {}
    for path in record_files:
        for index, record in enumerate(contents.get(path, [])):
            try:
                spec = parse_record(record, home, path, index)
            except RecordingError as problem:
                problems.append(problem)
                continue
            if spec.sequence_id in specs:
                problems.append(_duplicate(spec, index, *specs[spec.sequence_id]))
                continue
            split = membership.get(record["video_url_1"].strip("/"))
            specs[spec.sequence_id] = replace(spec, dataset_split=split), index
    records = sum(len(contents.get(path, [])) for path in record_files)
    return HomeAnnotations([spec for spec, _ in specs.values()], problems, notes, records)


def check_trick_times(spec: SequenceSpec, duration: float, tolerance: float) -> None:
    """Raise RecordingError when a trick ends more than ``tolerance`` seconds after the video."""
    for trick in spec.tricks:
        if trick["end"] > duration + tolerance:
            raise RecordingError(
                spec.source,
                f"{spec.sequence_id}: trick {trick['labels']} ends at {trick['end']} s, "
                f"beyond the video ({duration:.2f} s)",
                "trick_beyond_video",
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
