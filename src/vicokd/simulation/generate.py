"""Generating the synthetic dataset: scripts, rendering, files, and the rules for the target folder.

The dataset is written into a staging folder beside the target and moved into place when complete.
A target that holds anything the simulator did not write is never touched. A simulated dataset of
the same settings, seed and simulator version serves any of the homes it holds; a home it lacks is
simulated into it (its other homes are kept, hard-linked into the new folder). Only other settings
replace it, and only with ``overwrite``: then with every home it held.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import zlib
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, PositiveFloat, PositiveInt, model_validator
from tqdm import tqdm

from vicokd.data.description import DatasetDescription, DatasetMismatchError
from vicokd.data.origin import SIMULATION_MARKER as MARKER
from vicokd.data.origin import check_dataset_origin
from vicokd.parameters import Parameters
from vicokd.processes import spawned_pool
from vicokd.simulation.audio import microphone_signals
from vicokd.simulation.body import sprite
from vicokd.simulation.render import Lens, PersonView, draw_person, static_scene
from vicokd.simulation.script import SIMULATED_CLASSES, Script, make_script
from vicokd.simulation.truth import TRUTH_COLUMNS, empty_truth
from vicokd.simulation.world import make_home
from vicokd.simulation.writer import ViewWriters, annotation_record, write_annotations

log = logging.getLogger(__name__)

#: Bump when the simulator's output changes, so that an old simulated dataset is not reused.
SIMULATOR_VERSION = 2
TRUTH_FILE = ".vicokd-person-truth.parquet"


class TargetFolderError(RuntimeError):
    """The dataset folder holds data the simulator did not write, or other settings without overwrite."""


class SimulationSettings(Parameters):
    """What the simulator makes: sequences per home, seconds each, native FPS, frame size, sessions,
    H.264 quality. Everything here changes the written dataset (its marker records these)."""

    sequences_per_home: PositiveInt  # each evaluated home
    # each home simulated for pretraining only (``extra_homes``); None: sequences_per_home
    sequences_per_extra_home: PositiveInt | None = None
    duration: PositiveFloat  # seconds per sequence
    fps: PositiveInt  # native video frame rate
    width: PositiveInt  # even, as H.264 with 4:2:0 chroma needs
    height: PositiveInt
    sessions: PositiveInt  # session folders 01..; video ids repeat across sessions and parts
    crf: Annotated[int, Field(ge=0, le=51)]  # H.264 constant rate factor (0 lossless .. 51 worst)

    @model_validator(mode="after")
    def _even_frame_size(self) -> SimulationSettings:
        if self.width % 2 or self.height % 2:
            raise ValueError(f"width and height must be even for H.264, got {self.width}x{self.height}")
        return self

    def fingerprint_fields(self) -> dict[str, Any]:
        """The settings that change the written dataset (a dataset is reused only when these match)."""
        return self.model_dump(include=set(SimulationSettings.model_fields))

    def sequences_of(self, home: str, extra_homes: Collection[str] = ()) -> int:
        """Sequences simulated for ``home``: ``sequences_per_extra_home`` when it is one of
        ``extra_homes`` (simulated for pretraining only) and that is set, else ``sequences_per_home``."""
        if home in extra_homes and self.sequences_per_extra_home is not None:
            return self.sequences_per_extra_home
        return self.sequences_per_home


class SimulationParameters(SimulationSettings):
    """The ``simulation:`` parameter block: the simulator's settings and how the pipeline runs it."""

    enabled: bool  # false: use a real dataset at ingestion.dataset_root (nothing is written)
    overwrite: bool  # replace a simulated dataset made with other settings
    extra_homes: list[str]  # simulated besides ingestion.homes, never evaluated (pretraining data)
    workers: PositiveInt  # rendering processes
    contact_sheet_sequence: str | None  # null: the sequence of the first home with the most actions
    contact_sheet_columns: PositiveInt

    @property
    def settings(self) -> SimulationSettings:
        """What the simulator makes, without the pipeline's options."""
        return SimulationSettings.model_validate(self.fingerprint_fields())


def sequence_name(index: int, sessions: int) -> tuple[str, str, int]:
    """(session, video id, part) of a home's ``index``-th sequence; ids repeat across sessions and parts."""
    j = index // sessions
    return f"{index % sessions + 1:02d}", f"{j // 2:02d}", j % 2 + 1


def _home_key(home: str) -> int:
    return zlib.crc32(home.encode())


def annotation_split_rng(home: str, seed: int) -> np.random.Generator:
    """The generator of a home's train/test annotation files (independent of the other homes)."""
    return np.random.default_rng([seed, _home_key(home), 2**20])


def make_scripts(home: str, settings: SimulationSettings, seed: int,
                 sequences: int | None = None) -> list[Script]:
    """The home's first ``sequences`` scripts (None: ``settings.sequences_per_home``), built in order
    so that classes are spread evenly over sequences; a longer list begins with a shorter one."""
    counts: dict[str, int] = {}
    return [make_script(make_home(home), np.random.default_rng([seed, _home_key(home), i]),
                        settings.duration, settings.fps, counts)
            for i in range(settings.sequences_per_home if sequences is None else sequences)]


def _sequence_id(home: str, index: int, settings: SimulationSettings) -> str:
    session, video_id, part = sequence_name(index, settings.sessions)
    return f"{home}/{session}/{video_id}-Part{part}"


def sequence_urls(index: int, settings: SimulationSettings, views: int) -> list[str]:
    """The ``views`` files of a home's ``index``-th sequence, relative to the home folder, in view
    order."""
    session, video_id, part = sequence_name(index, settings.sessions)
    return [f"{session}/{video_id}-View{k}-Part{part}.mp4" for k in range(1, views + 1)]


def sequence_frames(home: str, script: Script, settings: SimulationSettings
                    ) -> Iterator[tuple[list[np.ndarray], list[PersonView]]]:
    """Per native frame of ``script``: each view's RGB image (H, W, 3) uint8 and what it sees of the person."""
    world = make_home(home)
    lenses = [Lens(c, settings.width, settings.height) for c in world.cameras]
    for k in range(script.n_frames):
        pos, facing, pose, state = script.frame(k)
        rgba = sprite(pose)
        images, seen = [], []
        for v, lens in enumerate(lenses):
            background, depth = static_scene(world, v, state, settings.width, settings.height)
            image = background.copy()
            seen.append(draw_person(image, depth, lens, pos, facing, rgba))
            images.append(image)
        yield images, seen


def _truth_rows(truth: dict[str, list], home: str, seq_id: str, k: int, script: Script,
                seen: list[PersonView]) -> None:
    """Append frame ``k``'s rows (one per view) to the truth columns ``truth``."""
    actions = script.actions_at(k / script.fps)
    for v, view in enumerate(seen):
        for col, val in zip(TRUTH_COLUMNS, (home, seq_id, v + 1, k, k / script.fps, view.visible, *view.box,
                                            actions)):
            truth[col].append(val)


def render_sequence(home: str, index: int, script: Script, settings: SimulationSettings, seed: int,
                    home_dir: Path) -> tuple[dict, dict]:
    """Write the five mp4 files of one sequence under ``home_dir``; return its record and truth columns."""
    urls = sequence_urls(index, settings, len(make_home(home).cameras))
    (home_dir / urls[0]).parent.mkdir(parents=True, exist_ok=True)
    writers = ViewWriters([home_dir / u for u in urls], settings.width, settings.height, settings.fps,
                          settings.crf)
    truth: dict[str, list] = {c: [] for c in TRUTH_COLUMNS}
    seq_id = _sequence_id(home, index, settings)
    for k, (images, seen) in enumerate(sequence_frames(home, script, settings)):
        _truth_rows(truth, home, seq_id, k, script, seen)
        writers.push(images)
    writers.close(microphone_signals(make_home(home), script,
                                     np.random.default_rng([seed, _home_key(home), index, 1])))
    return annotation_record(urls, script.tricks), truth


def simulate_truth(homes: list[str], settings: SimulationSettings, seed: int) -> pd.DataFrame:
    """The person truth table that ``simulate_dataset`` would return, without writing any file.

    Same scripts, scenes and visibility test as the written dataset; used to measure view overlap fast.
    """
    truth: dict[str, list] = {c: [] for c in TRUTH_COLUMNS}
    for home in homes:
        for index, script in enumerate(make_scripts(home, settings, seed)):
            seq_id = _sequence_id(home, index, settings)
            for k, (_, seen) in enumerate(sequence_frames(home, script, settings)):
                _truth_rows(truth, home, seq_id, k, script, seen)
    return pd.DataFrame(truth) if truth["home"] else empty_truth()


def _render_job(job: tuple) -> tuple[dict, dict]:
    return render_sequence(*job)


def _generate(root: Path, sequences: Mapping[str, int], settings: SimulationSettings, seed: int,
              workers: int) -> pd.DataFrame:
    """Write every home of ``sequences`` (home → its number of sequences) under ``root`` (an empty
    folder); return the person truth table."""
    jobs = []
    homes = list(sequences)
    for home in homes:
        (root / home).mkdir(parents=True)
        scripts = make_scripts(home, settings, seed, sequences[home])
        jobs += [(home, i, s, settings, seed, root / home) for i, s in enumerate(scripts)]
    if workers > 1:
        with spawned_pool(workers) as pool:
            results = list(tqdm(pool.map(_render_job, jobs, chunksize=1), total=len(jobs),
                                desc="simulating sequences", disable=None))
    else:
        results = [_render_job(j) for j in tqdm(jobs, desc="simulating sequences",
                                                          disable=None)]
    tables = []
    for home in homes:
        records = [rec for job, (rec, _) in zip(jobs, results) if job[0] == home]
        write_annotations(root / home, home, records, annotation_split_rng(home, seed))
    tables = [pd.DataFrame(truth) for _, truth in results]
    truth = pd.concat(tables, ignore_index=True) if tables else empty_truth()
    truth.to_parquet(root / TRUTH_FILE, index=False)
    return truth


def _files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def target_action(root: Path, request: dict, overwrite: bool) -> tuple[str, list[str]]:
    """What to do with the target folder, and the homes it holds: ``"write"`` (nothing there),
    ``"reuse"`` (it holds every requested home), ``"extend"`` (same settings, seed and version, some
    requested homes missing) or ``"replace"`` (other settings, with ``overwrite``); raise if forbidden.

    ``request`` is the marker content (settings, homes, their ``sequences``, seed, version) that the
    run would write; a held home of another number of sequences counts as other settings.
    """
    if not root.exists() or (root.is_dir() and not any(root.iterdir())):
        return "write", []
    marker = root / MARKER
    if not root.is_dir() or not marker.is_file():
        raise TargetFolderError(
            f"Dataset folder {root} already holds data that the simulator did not write; it is left "
            "untouched. Point ingestion.dataset_root at an empty folder, or set simulation.enabled: false "
            "to use that data as a real dataset.")
    written = json.loads(marker.read_text())
    foreign = _files_under(root) - set(written.get("files", [])) - {MARKER}
    if foreign:
        raise TargetFolderError(
            f"Dataset folder {root} holds files the simulator did not write (e.g. {min(foreign)}); "
            "it is left untouched.")
    held = list(written.get("homes", []))
    asked = {k: v for k, v in request.items() if k != "homes"}
    asked["sequences"] = {h: n for h, n in request["sequences"].items() if h in held}
    made_with = {k: written.get(k) for k in asked}
    made_with["sequences"] = {h: written.get("sequences", {}).get(h) for h in asked["sequences"]}
    if made_with == asked:
        return ("reuse" if set(request["homes"]) <= set(held) else "extend"), held
    if not overwrite:
        raise TargetFolderError(
            f"Dataset folder {root} holds a simulated dataset of {', '.join(held)} made with other "
            f"settings ({made_with}); this run asks for {request}. To keep it, point "
            "ingestion.dataset_root at another folder; to replace it with a dataset of these "
            f"settings (all its homes, {', '.join(held)}, simulated again), set "
            "simulation.overwrite: true.")
    return "replace", held


def simulate_dataset(root: Path, homes: list[str], settings: SimulationSettings, seed: int,
                     overwrite: bool = False, workers: int = 1,
                     extra_homes: Collection[str] = ()) -> pd.DataFrame:
    """Make, extend or reuse the synthetic dataset under ``root``; return the person truth table of
    ``homes`` (see :func:`target_action` for what happens to a folder that holds a dataset). Those
    of ``homes`` among ``extra_homes`` (pretraining only) get ``sequences_per_extra_home``."""
    root = Path(root)
    for home in homes:
        make_home(home)
    request = {"settings": settings.fingerprint_fields(), "homes": list(homes), "seed": int(seed),
               "version": SIMULATOR_VERSION,
               "sequences": {home: settings.sequences_of(home, extra_homes) for home in homes}}
    action, held = target_action(root, request, overwrite)
    if action == "reuse":
        log.info("Reusing the simulated dataset in %s (same settings and seed; it holds %s)", root,
                 ", ".join(held))
        truth = pd.read_parquet(root / TRUTH_FILE)
        return truth[truth["home"].isin(homes)].reset_index(drop=True)
    kept = held if action == "extend" else []
    written = [home for home in (*held, *homes) if home not in kept]
    written = list(dict.fromkeys(written))
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.staging-", dir=root.parent))
    staging.chmod(0o755)
    try:
        sequences = {home: request["sequences"].get(home, settings.sequences_of(home, extra_homes))
                     for home in written}
        truth = _generate(staging, sequences, settings, seed, workers)
        if kept:
            truth = _keep_homes(root, staging, kept, truth)
        held_sequences = json.loads((root / MARKER).read_text())["sequences"] if kept else {}
        marker = {**request, "homes": [*kept, *written],
                  "sequences": {**{home: held_sequences[home] for home in kept}, **sequences},
                  "files": sorted(_files_under(staging))}
        (staging / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
    except BaseException:
        shutil.rmtree(staging)
        raise
    if action in ("extend", "replace"):
        trash = Path(tempfile.mkdtemp(prefix=f".{root.name}.old-", dir=root.parent))
        root.rename(trash / root.name)
        staging.rename(root)
        shutil.rmtree(trash)
    else:
        if root.exists():
            root.rmdir()
        staging.rename(root)
    log.info("Wrote %s to %s%s", ", ".join(f"{home} ({n} sequences)" for home, n in sequences.items()),
             root, f", beside {', '.join(kept)}" if kept else "")
    return truth[truth["home"].isin(homes)].reset_index(drop=True)


def _keep_homes(root: Path, staging: Path, homes: list[str], truth: pd.DataFrame) -> pd.DataFrame:
    """Link the files of ``homes`` from the dataset ``root`` into ``staging`` (hard links: nothing is
    copied or lost) and write the truth table of both; return it."""
    for home in homes:
        for path in sorted((root / home).rglob("*")):
            target = staging / path.relative_to(root)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:  # a file system without hard links
                shutil.copy2(path, target)
    kept = pd.read_parquet(root / TRUTH_FILE)
    combined = pd.concat([kept[kept["home"].isin(homes)], truth], ignore_index=True)
    combined.to_parquet(staging / TRUTH_FILE, index=False)
    return combined


def check_dataset_description(dataset: DatasetDescription, homes: list[str]) -> None:
    """Raise DatasetMismatchError unless the ``dataset`` block describes what the simulator writes
    for ``homes``: MultiSensor-Home's classes (in any order), one view per camera of each home."""
    problems = []
    if set(dataset.classes) != set(SIMULATED_CLASSES):
        extra = sorted(set(dataset.classes) - set(SIMULATED_CLASSES))
        lacking = sorted(set(SIMULATED_CLASSES) - set(dataset.classes))
        problems.append(f"dataset.classes differs from the simulated classes (MultiSensor-Home's "
                        f"16): not simulated {extra}, missing {lacking}")
    cameras = {home: len(make_home(home).cameras) for home in homes}
    if any(count != dataset.views for count in cameras.values()):
        problems.append(f"dataset.views is {dataset.views}, but the simulated homes have "
                        f"{', '.join(f'{h}: {n}' for h, n in cameras.items())} cameras")
    if problems:
        raise DatasetMismatchError(
            "The simulator writes MultiSensor-Home's recordings, which the dataset block does not "
            f"describe: {'; '.join(problems)}",
            "Simulate with conf/base's classes and views (globals.yml), or set "
            "simulation.enabled: false to read your own recordings (docs/data.md).")


def check_real_dataset(root: Path, homes: list[str]) -> None:
    """Raise a clear error unless ``root`` holds real recordings (not a simulated dataset) with a
    folder for every home (real data: nothing is written)."""
    if Path(root).is_dir():
        check_dataset_origin(root, simulated=False)
    missing = [home for home in homes if not (Path(root) / home).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"simulation.enabled is false but the dataset folder {root} has no folder for "
            f"{', '.join(missing)}; point ingestion.dataset_root at the MultiSensor-Home dataset "
            "(one folder per home) or set simulation.enabled: true.")
