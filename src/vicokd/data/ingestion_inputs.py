"""What an ingestion reads, fingerprinted before anything is decoded.

The ingestion id is the fingerprint of its inputs: the version of the ingestion code, the dataset
folder, the homes, the decoding settings and the bytes of every annotation file and of every mp4 file
the annotations list (``hashlib.file_digest``: about a second for the demo's 900 files). Unchanged
inputs give the id of the committed ``sequences`` table, so ingestion reuses it without decoding;
changed inputs give another id, and :func:`describe_changes` says which inputs changed.

Each store ingestion writes also gets the fingerprint of what it was made from
(:func:`store_fingerprints`): the frames of the kept sequences depend on their mp4 files and the
frame size only, so a stage that reads only frames (the person detector, the visual features) is
reused when an annotation changes.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from vicokd.data.annotations import RecordingError, home_annotation_files, read_home
from vicokd.data.description import DatasetDescription
from vicokd.data.digests import file_digest
from vicokd.data.ingest import IngestionSettings
from vicokd.fingerprints import Fingerprint

#: Bump when ingestion writes something else from the same inputs (decoding, audio features, frame
#: label rule, table columns), so that no table or store of the older code is reused.
INGESTION_VERSION = 1
#: Settings that change nothing ingestion writes.
NOT_IN_OUTPUT = {"num_workers"}
#: How many file names a change description lists.
NAMES_SHOWN = 5


def _home_files(root: Path, home: str, dataset: DatasetDescription) -> tuple[list[Path], list[str]]:
    """The annotation files of ``home`` and the mp4 files (relative to ``root``) its records list,
    read with the ``dataset``'s views and classes; none when the home cannot be read (ingestion
    then reports why)."""
    home_dir = root / home
    if not home_dir.is_dir():
        return [], []
    all_labels, split_files = home_annotation_files(home_dir)
    annotations = sorted({*([all_labels] if all_labels else []),
                          *(path for files in split_files.values() for path in files)})
    try:
        sequences = read_home(root, home, dataset).sequences
    except RecordingError:
        return annotations, []
    return annotations, sorted({path for spec in sequences for path in spec.view_paths})


def ingestion_inputs(
    dataset_root: str | Path, homes: Iterable[str], settings: IngestionSettings
) -> Fingerprint:
    """The fingerprint of an ingestion of ``homes`` under ``dataset_root`` with ``settings``: the
    ingestion id. Its ``parts``: ``version``, ``dataset_root``, ``homes``, ``settings`` (those that
    change the output), ``annotations`` and ``media`` (``relative path -> file digest``)."""
    root = Path(dataset_root)
    annotations: dict[str, str] = {}
    media: dict[str, str] = {}
    for home in homes:
        annotation_files, media_files = _home_files(root, home, settings.dataset)
        annotations.update({path.relative_to(root).as_posix(): file_digest(path)
                            for path in annotation_files})
        media.update({path: file_digest(root / path) for path in media_files})
    return Fingerprint({
        "version": INGESTION_VERSION,
        "dataset_root": str(dataset_root),
        "homes": list(homes),
        "settings": settings.model_dump(mode="json", exclude=NOT_IN_OUTPUT),
        "annotations": annotations,
        "media": media,
    })


def store_fingerprints(
    inputs: Mapping[str, Any], view_paths: Mapping[str, Iterable[str]]
) -> dict[str, Fingerprint | None]:
    """What each ingestion store is made from, given the ingestion's ``inputs`` (the parts of
    :func:`ingestion_inputs`) and the ``view_paths`` of every kept sequence: ``frames`` from the mp4
    files and the frame size, ``log_mels`` from the mp4 files and the audio settings;
    ``frame_labels`` None (they follow the annotations: the ingestion id says it all)."""
    settings, media = inputs["settings"], inputs["media"]
    kept = {sequence_id: [media.get(path, "missing") for path in paths]
            for sequence_id, paths in sorted(view_paths.items())}
    common = {"version": inputs["version"], "sequences": kept}
    return {
        "frames": Fingerprint({**common, "image_size": settings["image_size"]}),
        "log_mels": Fingerprint({**common, "sample_rate": settings["sample_rate"],
                                 "num_mel_bins": settings["num_mel_bins"]}),
        "frame_labels": None,
    }


def _files_changed(what: str, before: Mapping[str, str], after: Mapping[str, str]) -> str | None:
    """``"annotation files: 1 changed (Home1/all_labels.json)"``: files changed, added or removed."""
    groups = {
        "changed": sorted(p for p in before.keys() & after.keys() if before[p] != after[p]),
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
    }
    counts = []
    for kind, paths in groups.items():
        if paths:
            shown = ", ".join(paths[:NAMES_SHOWN]) + (", ..." if len(paths) > NAMES_SHOWN else "")
            counts.append(f"{len(paths)} {kind} ({shown})")
    return f"{what}: {'; '.join(counts)}" if counts else None


def describe_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """What differs between the inputs of two ingestions (the ``parts`` of
    :func:`ingestion_inputs`), one line per kind: version, dataset folder, homes, settings keys,
    annotation files and mp4 files (counts and up to five names)."""
    if not before:
        return ["no earlier ingestion to compare with"]
    changes = [f"{name}: {before.get(name)!r} -> {after[name]!r}"
               for name in ("version", "dataset_root", "homes") if before.get(name) != after[name]]
    old_settings = before.get("settings", {})
    keys = sorted(k for k in old_settings.keys() | after["settings"].keys()
                  if old_settings.get(k) != after["settings"].get(k))
    if keys:
        changes.append(f"settings: {', '.join(keys)}")
    for what, part in (("annotation files", "annotations"), ("mp4 files", "media")):
        line = _files_changed(what, before.get(part, {}), after[part])
        if line:
            changes.append(line)
    return changes
