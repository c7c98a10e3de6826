"""Annotation files for one's own recordings, from a CSV of segments.

The CSV has a header and one row per labelled segment::

    recording,view_files,start,end,label
    r1,Flat/01/00-View1-Part1.mp4;Flat/01/00-View2-Part1.mp4;Flat/01/00-View3-Part1.mp4,0.0,4.2,Cook
    r1,Flat/01/00-View1-Part1.mp4;Flat/01/00-View2-Part1.mp4;Flat/01/00-View3-Part1.mp4,3.0,6.5,Wave

``recording`` names a recording (its rows become one annotation record), ``view_files`` are its
mp4 files relative to the dataset root, separated by ``;``, in view order
(``<home>/<session>/<id>-View<k>-Part<p>.mp4``), ``start`` and ``end`` are seconds and ``label`` a
class of the dataset (``dataset.classes``). Segments of one recording with the same start and end
become one trick with several labels; a row with empty start, end and label is a recording without
actions. Every home (the first folder of the view files) gets ``all_labels.json`` (docs/data.md),
each record checked as ingestion checks it.

    python -m vicokd.data.convert_csv segments.csv data/01_raw/my_home [--env myhome] [--overwrite]

reads the classes and views from the project's configuration (``conf/<env>/globals.yml``).
"""
from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from vicokd.data.annotations import ALL_LABELS_FILE, RecordingError, parse_record
from vicokd.data.description import DatasetDescription
from vicokd.datasets.staging import staged

#: The CSV's columns, in order.
COLUMNS = ("recording", "view_files", "start", "end", "label")


class SegmentsError(ValueError):
    """A row of the segments CSV that cannot become an annotation; the message names the line."""


def read_segments(path: str | Path) -> list[tuple[int, dict[str, str]]]:
    """The rows of the CSV at ``path`` with their line numbers; raises SegmentsError when its
    header is not :data:`COLUMNS`."""
    with Path(path).open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        if tuple(name.strip() for name in reader.fieldnames or ()) != COLUMNS:
            raise SegmentsError(f"{path}: the header is {reader.fieldnames}, not "
                                f"{','.join(COLUMNS)}")
        return [(reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items()})
                for row in reader]


def segments_to_records(rows: Iterable[tuple[int, Mapping[str, str]]], source: str,
                        dataset: DatasetDescription) -> dict[str, list[dict[str, Any]]]:
    """Annotation records per home from the CSV ``rows`` (``(line, row)``) of the file ``source``,
    in the order recordings first appear, each checked against the ``dataset``'s views and classes
    (:func:`vicokd.data.annotations.parse_record`). Raises SegmentsError naming the line."""
    recordings: dict[str, dict[str, Any]] = {}
    for line, row in rows:
        where = f"{source}, line {line}"
        views = [path for path in row["view_files"].split(";") if path.strip()]
        homes = {Path(path).parts[0] for path in views}
        if len(homes) != 1:
            raise SegmentsError(f"{where}: the view files {views} must lie in one home folder")
        recording = recordings.setdefault(row["recording"], {"line": line, "views": views,
                                                             "home": homes.pop(), "tricks": {}})
        if recording["views"] != views:
            raise SegmentsError(f"{where}: recording {row['recording']!r} lists other view files "
                                f"than on line {recording['line']}")
        if not (row["start"] or row["end"] or row["label"]):
            continue  # a recording without actions
        try:
            times = (float(row["start"]), float(row["end"]))
        except ValueError:
            raise SegmentsError(f"{where}: start {row['start']!r} and end {row['end']!r} must be "
                                "seconds") from None
        recording["tricks"].setdefault(times, []).append(row["label"])
    records: dict[str, list[dict[str, Any]]] = {}
    for name, recording in recordings.items():
        home = recording["home"]
        record = {**{f"video_url_{k}": Path(*Path(path).parts[1:]).as_posix()
                     for k, path in enumerate(recording["views"], 1)},
                  "tricks": [{"start": start, "end": end, "labels": labels}
                             for (start, end), labels in sorted(recording["tricks"].items())]}
        try:
            parse_record(record, home, source, dataset)
        except RecordingError as error:
            raise SegmentsError(f"{source}, recording {name!r} (line {recording['line']}): "
                                f"{error.problem}") from None
        records.setdefault(home, []).append(record)
    return records


def convert_segments(csv_path: str | Path, dataset_root: str | Path, dataset: DatasetDescription,
                     overwrite: bool = False) -> dict[str, Path]:
    """Write ``<dataset_root>/<home>/all_labels.json`` for every home of the segments CSV at
    ``csv_path``; returns the files by home. Nothing is written when a row is wrong, and an
    existing annotation file is kept unless ``overwrite``."""
    records = segments_to_records(read_segments(csv_path), str(csv_path), dataset)
    targets = {home: Path(dataset_root) / home / ALL_LABELS_FILE for home in records}
    existing = [str(path) for path in targets.values() if path.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{', '.join(existing)} already exist(s): nothing was written "
                              "(--overwrite replaces them)")
    for home, path in targets.items():
        with staged(path) as staging:
            staging.write_text(json.dumps(records[home], indent=1) + "\n", encoding="utf-8")
    return targets


def project_dataset(env: str | None) -> DatasetDescription:
    """The ``dataset`` block of the Kedro project around the working directory in ``env``."""
    from kedro.utils import find_kedro_project

    from vicokd.configuration import ProjectConfigLoader
    from vicokd.settings import CONFIG_LOADER_ARGS

    project = find_kedro_project(Path.cwd()) or Path.cwd()
    loader = ProjectConfigLoader(str(project / "conf"), env=env, **CONFIG_LOADER_ARGS)
    return DatasetDescription.model_validate(loader["parameters"]["dataset"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="segments: recording,view_files,start,end,label")
    parser.add_argument("dataset_root", help="the dataset folder (one folder per home)")
    parser.add_argument("--env", help="the configuration environment whose globals.yml holds the "
                                      "classes and views (default: base and local)")
    parser.add_argument("--overwrite", action="store_true", help="replace annotation files")
    args = parser.parse_args(argv)
    dataset = project_dataset(args.env)
    try:
        written = convert_segments(args.csv, args.dataset_root, dataset, args.overwrite)
    except (SegmentsError, FileExistsError) as error:
        raise SystemExit(str(error)) from None
    for home, path in written.items():
        print(f"{home}: {path}")


if __name__ == "__main__":
    main()
