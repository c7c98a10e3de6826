"""The pre-flight checks: what a long run needs and can be seen missing in seconds, before it starts.

Each check returns the :class:`Problem` s it finds (what is wrong, naming the file or parameter key,
and how to fix it); :class:`vicokd.preflight.problems.PreflightError` lists them all in one message.
Nothing here decodes a video or loads a model: files are looked for, annotation files read, a few
mp4 headers probed.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import torch
from huggingface_hub import try_to_load_from_cache

from vicokd.data.annotations import RecordingError, count_kinds, read_home
from vicokd.data.audio_features import frames_per_chunk
from vicokd.data.description import DatasetDescription, DatasetMismatchError
from vicokd.data.ingest import IngestionParameters, with_extra_homes
from vicokd.data.origin import DatasetOriginError, check_dataset_origin
from vicokd.models import ModelConfig
from vicokd.models.encoders import offline_weights_fix
from vicokd.preflight.problems import Problem
from vicokd.preflight.scope import Scope
from vicokd.simulation.generate import SimulationParameters, check_dataset_description
from vicokd.training.pretraining import PretrainingSettings
from vicokd.training.settings import TrainingSettings

#: Files that hold a Hugging Face model's weights (one of them must be there).
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
#: Sequences per home whose first view's length is probed for the disk estimate of real data.
PROBED_SEQUENCES = 5


def dataset_problems(
    root: str | Path, homes: Iterable[str], simulated: bool, strict: bool,
    dataset: DatasetDescription,
) -> tuple[list[Problem], list[str]]:
    """The dataset of ``homes`` under ``root``: its origin (``simulated``: simulation.enabled),
    each home's folder and annotation files, and that each home keeps a usable record (the
    ``dataset``'s views and classes).

    Returns the problems, and notes: what ingestion would leave out of a home (in ``strict`` mode
    a problem instead). A view file that is missing counts as left out; a file's content is not
    decoded.
    """
    try:
        check_dataset_origin(root, simulated)
    except DatasetOriginError as error:
        return [Problem(error.problem, error.fix)], []
    problems, notes = [], []
    for home in homes:
        try:
            annotations = read_home(root, home, dataset)
        except RecordingError as error:
            problems.append(Problem(str(error), "put the home's folder and annotation files "
                                                "there (docs/data.md), or leave the home out of "
                                                "ingestion.homes"))
            continue
        missing = [RecordingError(absent[0], "missing view file", "missing_view")
                   for spec in annotations.sequences
                   if (absent := [Path(root) / p for p in spec.view_paths
                                  if not (Path(root) / p).is_file()])]
        left_out = [*annotations.problems, *missing]
        kept = len(annotations.sequences) - len(missing)
        if kept <= 0:
            problems.append(Problem(
                f"{Path(root) / home}: no usable sequence among {annotations.records} records"
                + (f" ({count_kinds(_kinds(left_out))})" if left_out else ""),
                "mend the annotation files (docs/data.md) or leave the home out of ingestion.homes"))
        elif left_out:
            message = (f"{Path(root) / home}: {len(left_out)} of {annotations.records} records "
                       f"would be left out ({count_kinds(_kinds(left_out))}), e.g. {left_out[0]}")
            if strict:
                problems.append(Problem(message, "mend them, or set ingestion.strict: false to "
                                                 "leave them out (listed in the ingestion report)"))
            else:
                notes.append(message)
    return problems, notes


def _kinds(problems: Iterable[RecordingError]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for problem in problems:
        counts[problem.kind] = counts.get(problem.kind, 0) + 1
    return counts


def encoder_problems(model: ModelConfig, made_here: str | Path) -> list[Problem]:
    """Each encoder checkpoint that is not made here (``model.<modality>_encoder.pretrained`` not
    under ``made_here``, the pretraining directory) and not null: a local folder with a config
    and weights, or a hub name whose config and weights are in the local cache (nothing is
    downloaded)."""
    problems = []
    for modality in ("visual", "audio"):
        key = f"{modality}_encoder"
        source = getattr(model, key).pretrained
        if source is None or Path(source).resolve().is_relative_to(Path(made_here).resolve()):
            continue
        folder = Path(source)
        if folder.is_dir():
            lacking = [what for what, present in (
                ("config.json", (folder / "config.json").is_file()),
                ("weights (model.safetensors or pytorch_model.bin)",
                 any((folder / name).is_file() for name in WEIGHT_FILES)),
            ) if not present]
            if lacking:
                problems.append(Problem(f"model.{key}.pretrained: {folder} has no "
                                        f"{' and no '.join(lacking)}",
                                        offline_weights_fix(source, key)))
            continue
        if not (_in_hub_cache(source, "config.json")
                and any(_in_hub_cache(source, name) for name in WEIGHT_FILES)):
            problems.append(Problem(f"model.{key}.pretrained: {source} is no folder, nor a model "
                                    "in the local Hugging Face cache",
                                    offline_weights_fix(source, key)))
    return problems


def _in_hub_cache(repo_id: str, filename: str) -> bool:
    """Whether the local Hugging Face cache holds ``filename`` of the model ``repo_id`` (a path
    that is no model name is not)."""
    try:
        return isinstance(try_to_load_from_cache(repo_id, filename), str)
    except ValueError:  # huggingface_hub's HFValidationError: not a model name
        return False


def detector_problems(masking: Mapping[str, Any], simulated: bool) -> list[Problem]:
    """The person detector's weights when ``masking.weights`` is set; without them (or with the
    simulator's truth) real data has nothing to make masks from."""
    problems = []
    weights = masking.get("weights")
    if masking["source"] == "detector" and weights and not Path(weights).is_file():
        problems.append(Problem(
            f"masking.weights: {weights} does not exist",
            "place a YOLO checkpoint with a person class there (the paper's: the COCO YOLOv10n, "
            "README 'Using the real data'), or point masking.weights at one"))
    if simulated:
        return problems
    if masking["source"] == "truth":
        problems.append(Problem(
            "masking.source is 'truth', but a real dataset has no person truth (simulation.enabled "
            "is false)", "set masking.source: detector and masking.weights to a YOLO checkpoint"))
    elif not weights:
        problems.append(Problem(
            "masking.weights is null, which trains a person detector on the simulator's person "
            "boxes, but a real dataset has none (simulation.enabled is false)",
            "set masking.weights to a YOLO checkpoint with a person class (conf/paper: "
            "data/06_models/pretrained/yolov10n.pt)"))
    if masking["threshold"] == "val":
        problems.append(Problem(
            "masking.threshold is 'val', chosen against the simulator's person truth, which a real "
            "dataset lacks", "set masking.threshold to a number (conf/paper: 0.5)"))
    return problems


def wants_cuda(device: Any) -> bool:
    """Whether a device setting (``cuda``, ``cuda:1``, ultralytics' ``0`` or ``0,1``) needs CUDA."""
    text = str(device).strip().lower()
    return text.startswith("cuda") or (bool(text) and text.replace(",", "").isdigit())


def device_problems(training: TrainingSettings | None, masking: Mapping[str, Any] | None
                    ) -> list[Problem]:
    """CUDA where ``training.accelerator`` or ``masking.device`` asks for it (None: that stage
    does not run), and as many visible devices as ``training.devices``."""
    problems = []
    available = torch.cuda.is_available()
    visible = torch.cuda.device_count() if available else 0
    if training is not None and training.accelerator == "cuda":
        if not available:
            problems.append(Problem(
                "training.accelerator is 'cuda', but no CUDA device is visible "
                "(torch.cuda.is_available() is False)",
                "run on a machine with an NVIDIA GPU and its driver (CUDA_VISIBLE_DEVICES not "
                "empty), or set training.accelerator: auto to train on the CPU"))
        elif visible < training.devices:
            problems.append(Problem(
                f"training.devices is {training.devices}, but {visible} CUDA device(s) are visible",
                f"set training.devices: {visible}, or run where {training.devices} GPUs are "
                "visible"))
    detector = masking is not None and masking["source"] == "detector"
    if detector and wants_cuda(masking["device"]) and not available:
        problems.append(Problem(
            f"masking.device is {masking['device']!r}, but no CUDA device is visible "
            "(torch.cuda.is_available() is False)",
            "run on a machine with a GPU, or set masking.device: cpu"))
    return problems


@dataclass(frozen=True)
class StoreSize:
    """What ingestion writes per sampled frame (``sample_fps`` per second) of a sequence: every
    view's ``image_size`` frame (uint8 RGB) and log-mel chunk (``chunk_frames`` × ``num_mel_bins``
    float16), and the frame's labels (one byte per class)."""

    views: int
    image_size: tuple[int, int]
    chunk_frames: int
    num_mel_bins: int
    classes: int
    sample_fps: float

    @property
    def bytes_per_frame(self) -> int:
        height, width = self.image_size
        per_view = height * width * 3 + self.chunk_frames * self.num_mel_bins * 2
        return self.views * per_view + self.classes


def store_size(dataset: DatasetDescription, ingestion: IngestionParameters) -> StoreSize:
    """The :class:`StoreSize` of ingestion's settings for the ``dataset``."""
    height, width = ingestion.image_size
    sample_rate = ingestion.audio.sample_rate
    return StoreSize(dataset.views, (height, width),
                     frames_per_chunk(sample_rate, dataset.sample_fps),
                     ingestion.audio.num_mel_bins, len(dataset.classes), dataset.sample_fps)


def ingestion_bytes(size: StoreSize, seconds: Iterable[float]) -> int:
    """Bytes of ingestion's stores for sequences of ``seconds`` each."""
    return sum(math.ceil(s * size.sample_fps) for s in seconds) * size.bytes_per_frame


def real_dataset_seconds(root: str | Path, homes: Iterable[str],
                         dataset: DatasetDescription) -> list[float]:
    """An estimate of every annotated sequence's length in ``homes``: per home, the mean length of
    the first view of up to :data:`PROBED_SEQUENCES` sequences (read from the mp4 headers) for
    each of its records (a home that cannot be read counts none: its problem is reported)."""
    seconds: list[float] = []
    for home in homes:
        try:
            sequences = read_home(root, home, dataset).sequences
        except RecordingError:
            continue
        step = max(1, len(sequences) // PROBED_SEQUENCES)
        probed = [_header_seconds(Path(root) / spec.view_paths[0])
                  for spec in sequences[::step][:PROBED_SEQUENCES]]
        probed = [s for s in probed if s is not None]
        if probed:
            seconds += [sum(probed) / len(probed)] * len(sequences)
    return seconds


def _header_seconds(path: Path) -> float | None:
    """The container's duration in seconds, or None when the file cannot be opened."""
    try:
        with av.open(str(path)) as container:
            return None if container.duration is None else container.duration / av.time_base
    except (OSError, av.FFmpegError):
        return None


def disk_problems(needed: int, stores: str | Path, committed: bool) -> tuple[list[Problem],
                                                                             list[str]]:
    """Whether ``needed`` bytes fit where ingestion writes: the ``stores`` folder and the
    temporary folder it spools arrays to first (twice ``needed`` when both are on one disk).

    ``committed``: stores already hold an ingestion, which is reused when its inputs did not
    change; a shortfall is then a note, not a problem.
    """
    spool = Path(tempfile.gettempdir())
    target = _existing(Path(stores))
    demands = {target: needed}
    if os.stat(spool).st_dev == os.stat(target).st_dev:
        demands[target] += needed
    else:
        demands[spool] = needed
    problems, notes = [], []
    for folder, demand in demands.items():
        free = shutil.disk_usage(folder).free
        if free >= demand:
            continue
        what = (f"ingestion needs about {demand / 1e9:.1f} GB free on the disk of {folder} "
                f"(stores of {needed / 1e9:.1f} GB, spooled in {spool} first), {free / 1e9:.1f} GB "
                "are free")
        if committed:
            notes.append(f"{what}, should its inputs have changed since the last ingestion")
        else:
            problems.append(Problem(what, "free space there, point TMPDIR at another disk, or "
                                          "lower ingestion.image_size"))
    return problems, notes


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (the disk it will be on)."""
    path = path.resolve()
    while not path.exists():
        path = path.parent
    return path


@dataclass(frozen=True)
class Findings:
    """What the checks found: ``problems`` stop the run; ``notes`` are logged; ``checked`` names
    what was looked at."""

    problems: list[Problem]
    notes: list[str]
    checked: list[str]


def check_run(
    scope: Scope,
    ingestion: IngestionParameters,
    simulation: SimulationParameters,
    pretraining: PretrainingSettings,
    model: ModelConfig,
    training: TrainingSettings,
    masking: Mapping[str, Any],
    dataset: DatasetDescription,
    stores: str | Path,
    committed: bool,
) -> Findings:
    """Every check the stages of ``scope`` need, with the run's parameter blocks.

    Args:
        stores: where ingestion writes its array stores (``frames``' folder).
        committed: whether the stores already hold an ingestion (then a disk shortfall is a note:
            an unchanged ingestion is reused without writing).
    """
    problems: list[Problem] = []
    notes: list[str] = []
    checked: list[str] = []
    root = Path(ingestion.dataset_root)
    homes = with_extra_homes(ingestion.homes, pretraining.homes)
    if scope.simulation and simulation.enabled:
        try:
            check_dataset_description(dataset, with_extra_homes(ingestion.homes,
                                                                simulation.extra_homes))
        except DatasetMismatchError as error:
            problems.append(Problem(error.problem, error.fix))
    if scope.ingestion:
        if simulation.enabled and scope.simulation:
            extra = [home for home in homes if home not in ingestion.homes]
            sequences = sum(simulation.sequences_of(home, extra) for home in homes)
            seconds = [simulation.duration] * sequences
        else:
            found, noted = dataset_problems(root, ingestion.homes, simulation.enabled,
                                            ingestion.strict, dataset)
            problems += found
            notes += noted
            checked.append(f"dataset {root}")
            seconds = real_dataset_seconds(root, [h for h in homes if (root / h).is_dir()],
                                           dataset)
        found, noted = disk_problems(ingestion_bytes(store_size(dataset, ingestion), seconds),
                                     stores, committed)
        problems += found
        notes += noted
        checked.append("free disk")
    if scope.encoders:
        problems += encoder_problems(model, pretraining.directory)
        try:
            dataset.check_num_classes(model.num_classes)
        except DatasetMismatchError as error:
            problems.append(Problem(error.problem, error.fix))
        checked.append("encoder checkpoints")
    if scope.masking:
        problems += detector_problems(masking, simulation.enabled)
        checked.append("person detector")
    if scope.training or scope.masking:
        problems += device_problems(training if scope.training else None,
                                    masking if scope.masking else None)
        checked.append("device")
    return Findings(problems, notes, checked)


def check_parameters(scope: Scope, parameters: Mapping[str, Any], stores: str | Path,
                     committed: bool) -> Findings:
    """:func:`check_run` with the run's ``parameters`` (Kedro's ``parameters`` mapping), each block
    validated by the typed model its nodes use."""
    return check_run(
        scope,
        IngestionParameters.model_validate(parameters["ingestion"]),
        SimulationParameters.model_validate(parameters["simulation"]),
        PretrainingSettings.model_validate(parameters["pretraining"]),
        ModelConfig.model_validate(parameters["model"]),
        TrainingSettings.model_validate(parameters["training"]),
        parameters["masking"],
        DatasetDescription.model_validate(parameters["dataset"]),
        stores,
        committed=committed,
    )
