"""Finding the recordings under a folder and decoding them as ingestion decodes a sequence.

Two layouts, at any depth under the folder:

- MultiSensor-Home: ``<folder>/<id>-View<k>-Part<p>.mp4``; the files of one ``(id, part)`` are one
  recording, named ``<folder path>/<id>-Part<p>`` (for a dataset root: the sequence id). When the
  folder's parent is a home with annotation files, the recording's annotation is read from them.
- One sub-folder per recording: a folder whose other ``.mp4`` files carry ``View<k>`` in their name
  (``View1.mp4``, ``cam-View2.mp4``) is one recording, named by its path.

Each recording must have views ``1..NUM_VIEWS``; a missing, unreadable or truncated view is a
:class:`~vicokd.data.annotations.RecordingError` naming the file, reported for that recording alone.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vicokd.data.annotations import (
    NUM_VIEWS,
    RecordingError,
    SequenceSpec,
    home_annotation_files,
    read_home,
)
from vicokd.data.ingest import IngestedSequence, IngestionSettings, _ingest_all

log = logging.getLogger(__name__)

#: ``<id>-View<k>-Part<p>.mp4``, the MultiSensor-Home file name.
DATASET_FILE = re.compile(r"^(?P<video_id>.+)-View(?P<view>\d+)-Part(?P<part>\d+)\.mp4$")
#: A view number anywhere in another file name (``View2``, ``view_2``, ``VIEW-2``).
VIEW_IN_NAME = re.compile(r"view[_-]?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Recording:
    """One recording: its ``name``, its view files relative to the recordings folder (views
    ``1..V`` in order; a missing file of the dataset layout keeps its expected name) and its
    annotation's tricks (``{start, end, labels}``, seconds) when one exists."""

    name: str
    view_paths: tuple[str, ...]
    tricks: tuple[dict[str, Any], ...] | None = None

    def spec(self, root: Path) -> SequenceSpec:
        """The recording as ingestion's unit of work (no home, session or split)."""
        return SequenceSpec(self.name, "", "", self.name, 0, self.view_paths, self.tricks or (),
                            str(root / self.name))


@dataclass
class FoundRecordings:
    """What :func:`find_recordings` found: the recordings, the folders that are not a complete
    recording (``problems``) and ``.mp4`` files that belong to none (``ignored``)."""

    recordings: list[Recording]
    problems: list[RecordingError]
    ignored: list[str]


def _relative(folder: Path, root: Path) -> str:
    return folder.relative_to(root).as_posix() if folder != root else ""


def _join(*parts: str) -> str:
    return "/".join(part for part in parts if part)


class _Annotations:
    """The annotated tricks of the homes met while walking, read once per home."""

    def __init__(self) -> None:
        self._homes: dict[Path, dict[tuple[str, str, int], tuple[dict[str, Any], ...]]] = {}

    def tricks(self, session_dir: Path, video_id: str,
               part: int) -> tuple[dict[str, Any], ...] | None:
        home_dir = session_dir.parent
        if home_dir not in self._homes:
            all_labels, splits = home_annotation_files(home_dir)
            found: dict[tuple[str, str, int], tuple[dict[str, Any], ...]] = {}
            if all_labels or any(splits.values()):
                annotations = read_home(home_dir.parent, home_dir.name)
                for problem in annotations.problems:
                    log.warning("Annotation left out: %s", problem)
                found = {(s.session, s.video_id, s.part): s.tricks for s in annotations.sequences}
            self._homes[home_dir] = found
        return self._homes[home_dir].get((session_dir.name, video_id, part))


def find_recordings(root: str | Path, views: int = NUM_VIEWS) -> FoundRecordings:
    """Every recording under ``root`` (module docstring), sorted by name.

    Raises FileNotFoundError when ``root`` is not a folder, ValueError when it holds no ``.mp4``.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: recordings folder is missing (set inference.recordings)")
    found = FoundRecordings([], [], [])
    annotations = _Annotations()
    folders = sorted({path.parent for path in root.rglob("*.mp4")})
    if not folders:
        raise ValueError(f"{root}: holds no .mp4 recording")
    for folder in folders:
        relative = _relative(folder, root)
        groups: dict[tuple[str, int], dict[int, str]] = {}
        by_view: dict[int, list[str]] = {}
        for path in sorted(folder.glob("*.mp4")):
            if match := DATASET_FILE.match(path.name):
                groups.setdefault((match["video_id"], int(match["part"])), {})
            elif match := VIEW_IN_NAME.search(path.stem):
                by_view.setdefault(int(match[1]), []).append(path.name)
            else:
                found.ignored.append(_join(relative, path.name))
        for (video_id, part) in groups:
            paths = tuple(_join(relative, f"{video_id}-View{k}-Part{part}.mp4")
                          for k in range(1, views + 1))
            found.recordings.append(Recording(_join(relative, f"{video_id}-Part{part}"), paths,
                                              annotations.tricks(folder, video_id, part)))
        if by_view:
            _add_folder_recording(found, folder, relative, relative or root.name, by_view, views)
    for name in found.ignored:
        log.warning("Ignoring %s: its name gives no view number (View<k>)", root / name)
    found.recordings.sort(key=lambda recording: recording.name)
    return found


def _add_folder_recording(found: FoundRecordings, folder: Path, relative: str, name: str,
                          by_view: dict[int, list[str]], views: int) -> None:
    """The recording of a folder holding one recording's views (``relative`` to the recordings
    folder), or the problem that keeps it out."""
    missing = [k for k in range(1, views + 1) if k not in by_view]
    doubled = sorted(k for k, names in by_view.items() if len(names) > 1)
    if missing or doubled:
        files = ", ".join(sorted(f for names in by_view.values() for f in names))
        what = f"no file of view(s) {missing}" if missing else f"several files of view(s) {doubled}"
        found.problems.append(RecordingError(folder, f"{what} among {files}", "missing_view"))
        return
    paths = tuple(_join(relative, by_view[k][0]) for k in range(1, views + 1))
    found.recordings.append(Recording(name, paths))


def decode_specs(specs: list[SequenceSpec], root: str | Path, settings: IngestionSettings
                 ) -> Iterator[IngestedSequence | RecordingError]:
    """Each sequence decoded by ingestion's own code and worker processes (frames at 2.5 FPS,
    ``settings.image_size``; ``settings.num_workers`` processes, a crashed one costing only its
    sequence), in order; a bad view gives its RecordingError instead."""
    return _ingest_all(specs, str(root), settings)


def decode_recordings(recordings: list[Recording], root: str | Path, settings: IngestionSettings
                      ) -> Iterator[tuple[Recording, IngestedSequence | RecordingError]]:
    """Each recording with its decoded views or RecordingError (:func:`decode_specs`)."""
    specs = [recording.spec(Path(root)) for recording in recordings]
    yield from zip(recordings, decode_specs(specs, root, settings))
