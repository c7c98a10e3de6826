"""Training the models of one run of the table: one :class:`TrainingJob` per home and seed.

Library code for the training template pipeline (which only passes the catalog's data in):
:func:`train_run` hands back from disk every model already trained and published with the same
inputs (:class:`Published`); for the others it builds the clip sources, withholds the training frame
labels under sequence-level supervision, rebuilds the frozen teacher, runs the loop and scores the
best epoch.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from kedro.io import DatasetError

from vicokd.data.augment import SpecAugment
from vicokd.data.clips import ClipSources
from vicokd.datasets.locking import run_lock
from vicokd.fingerprints import Fingerprint, run_fingerprint
from vicokd.models import ModelConfig, build_model, model_signature
from vicokd.progress import TRAINING_STAGE, stage
from vicokd.tracking import ParentRun, active_parent, track_model
from vicokd.training.checkpoints import frozen_teacher, make_checkpoint
from vicokd.training.distributed import launch
from vicokd.training.evaluation import (
    Predictions,
    frame_map,
    predict,
    predictions_table,
    sequence_map,
)
from vicokd.training.loop import finished_id, fit
from vicokd.training.objectives import Objective
from vicokd.training.recipes import Supervision
from vicokd.training.run_names import partition_key, partition_name, run_folder, tracking_name
from vicokd.training.run_table import RunSpec
from vicokd.training.settings import TrainingSettings
from vicokd.training.workers import fitted_to_cores, worker_pool

log = logging.getLogger(__name__)

#: Columns that identify one trained model in histories and predictions.
IDENTITY = ("run", "label", "group", "base", "teacher", "supervision", "backbone", "home", "seed")


@dataclass(frozen=True)
class TrainingJob:
    """One model to train: a run of the table at one supervision level, for one home and seed.

    ``settings`` already hold the run's overrides; ``encoders`` is the record of the pretrained
    encoders; ``teacher`` is the checkpoint of the teacher the run distils from (None when it does
    not distil); ``tracking`` the MLflow run the model's run nests under (None: this process's
    active run, if any).
    """

    run: RunSpec
    supervision: Supervision
    settings: TrainingSettings
    model: ModelConfig
    home: str
    seed: int
    encoders: Mapping[str, Any]
    teacher: Mapping[str, Any] | None = None
    tracking: ParentRun | None = None

    @property
    def identity(self) -> dict[str, Any]:
        """The values of :data:`IDENTITY` for this model."""
        return {"run": self.run.name, "label": self.run.label, "group": self.run.group,
                "base": self.run.base, "teacher": self.run.teacher,
                "supervision": self.supervision.name, "backbone": self.model.backbone,
                "home": self.home, "seed": self.seed}

    @property
    def run_dir(self) -> Path:
        """Where the loop keeps ``last.pt`` (resume state) and ``best.pt``."""
        return run_folder(self.settings.checkpoint_dir, self.run.name, self.supervision.name,
                          self.home, self.seed)

    @property
    def name(self) -> str:
        """``vicokd/V_S/Home1/seed0``: the model among all trained ones."""
        return tracking_name(self.run.name, self.supervision.name, self.home, self.seed)

    def parameters(self) -> dict[str, Any]:
        """Everything that defines the model: identity, supervision, recipe, model and settings."""
        return {**self.identity, "supervision_level": self.supervision.model_dump(),
                "recipe": self.run.recipe.model_dump(), "model": self.model.model_dump(),
                "training": self.settings.model_dump()}

    @property
    def reads_audio(self) -> bool:
        """Whether the clips carry audio (the model hears it, or its teacher does)."""
        return self.supervision.audio or self.run.distils


#: One run's outputs of one kind at one supervision level: ``<home>/seed<k> -> loader``.
Partitions = Mapping[str, Callable[[], Any]]


@dataclass(frozen=True)
class Published:
    """What a run at one supervision level published last (the catalog's partitions of its
    checkpoints, histories and predictions), read back to reuse the models trained since."""

    checkpoints: Partitions
    histories: Partitions
    predictions: Partitions

    def carry(self, key: str, version: str) -> bool:
        """Whether model ``key``'s checkpoint, history and predictions are all on disk, readable
        and stamped ``version`` (one unreadable: a warning names it, and the model is published
        again)."""
        loaders = [outputs.get(key) for outputs in (self.predictions, self.histories,
                                                    self.checkpoints)]
        if any(load is None for load in loaders):
            return False
        try:
            predictions, history, checkpoint = (load() for load in loaders)
        except DatasetError as error:
            log.warning("Publishing %s again: %s", key, error)
            return False
        return (set(predictions["model_version"]) == set(history["model_version"]) == {version}
                and checkpoint["metadata"].get("model_version") == version)


def model_version(fingerprint: str, finished: str) -> str:
    """The version stamped on a model's checkpoint, history and predictions: its fingerprint and
    the ``finished_id`` minted when its training finished (kept in ``last.pt``, so a reused
    model keeps its version)."""
    return f"{fingerprint}-{finished}"


def reusable(sources: ClipSources, job: TrainingJob, published: Published) -> bool:
    """Whether ``job``'s model is on disk as it would be trained now: its run folder holds a
    finished training of the same fingerprint (``training.resume`` on), and ``published`` carries
    that training's ``model_version`` in all three outputs."""
    if not job.settings.resume:
        return False
    fingerprint = job_fingerprint(sources, job)
    finished = finished_id(job.run_dir, fingerprint, job.settings.epochs)
    return finished is not None and published.carry(partition_key(job.home, job.seed),
                                                    model_version(fingerprint, finished))


@dataclass(frozen=True)
class TrainedModel:
    """A job's outputs: the best checkpoint, its history and its val/test predictions."""

    checkpoint: dict[str, Any]
    history: pd.DataFrame
    predictions: pd.DataFrame


def job_fingerprint(sources: ClipSources, job: TrainingJob) -> Fingerprint:
    """What the model of ``job`` is made from: its model, supervision, recipe, settings, seed and
    home, the content it reads from ``sources`` (without the training frame labels that
    sequence-level supervision never reads, with the sequence labels it trains on), its encoders
    and its teacher's fingerprint (a student whose teacher changed is trained again)."""
    if not job.supervision.reads_frame_labels:
        sources = sources.withhold_frame_labels()
    return run_fingerprint(
        model=model_signature(job.model, job.supervision.audio),
        supervision=job.supervision.model_dump(), recipe=job.run.recipe.model_dump(),
        settings=job.settings.fingerprint_fields(), seed=job.seed, home=job.home,
        data=sources.digest(job.home),
        encoders={m: e.get("fingerprint", e["pretrained"]) for m, e in job.encoders.items()},
        teacher=job.teacher["metadata"]["fingerprint"] if job.run.distils else None,
    )


def train_model(sources: ClipSources, job: TrainingJob) -> TrainedModel | None:
    """Train one model and score its best epoch (on validation mAP) on the val and test splits.

    Every process of a multi-process run trains; process 0 alone holds the run folder's lock,
    tracks the model and returns its outputs (the others return None).
    """
    fabric = launch(job.settings)
    leader = fabric.is_global_zero
    with_audio = job.supervision.audio
    fingerprint = job_fingerprint(sources, job)
    if not job.supervision.reads_frame_labels:
        sources = sources.withhold_frame_labels()
    augment = job.settings.spec_augment
    augment_audio = SpecAugment(augment.freq_mask_width, augment.time_mask_width,
                                augment.num_freq_masks, augment.num_time_masks,
                                enabled=augment.enabled and with_audio)
    clips = {
        split: sources.clips(job.home, split, job.settings.num_frames, job.seed, job.reads_audio,
                             job.supervision.reads_frame_labels or split != "train",
                             job.settings.cache_arrays, augment_audio)
        for split in ("train", "val", "test")
    }
    teacher = None
    if job.run.distils:
        teacher = frozen_teacher(job.teacher, job.model, f"of {job.run.teacher} for "
                                 f"{partition_key(job.home, job.seed)}")
    torch.manual_seed(job.seed)
    model = build_model(job.model, with_audio)
    objective = Objective(job.supervision, job.run.recipe, teacher)
    evaluate = _evaluator(clips, with_audio, job.settings)
    with (run_lock(job.run_dir) if leader else nullcontext(),
          track_model(job.name, job.parameters(), tags=job.identity, enabled=leader,
                      parent=job.tracking) as tracker):
        result = fit(model, objective, clips["train"], evaluate, job.settings, job.run_dir, job.seed,
                     fingerprint, tracker=tracker, fabric=fabric)
        if leader:
            model.load_state_dict(result.state_dict)
            scored = {split: predict(model, clips[split], with_audio, job.settings.eval_batch_size,
                                     job.settings.autocast) for split in ("val", "test")}
            selected = {key: value for split, predictions in scored.items()
                        for key, value in _split_scores(split, predictions).items()}
            tracker.log_selected(result.best_epoch, selected)
        tracker.set_tags({"fingerprint": fingerprint, "best_epoch": result.best_epoch,
                          "trained_epochs": result.trained_epochs,
                          "checkpoint": partition_name(job.run.name, "model", job.supervision.name,
                                                       job.home, job.seed)})
    if not leader:
        return None
    version = {"model_version": model_version(fingerprint, result.finished_id)}
    predictions = pd.concat(
        [predictions_table(scored[split], {**job.identity, **version}, split, sources.classes)
         for split in ("val", "test")],
        ignore_index=True,
    )
    metadata = {
        **job.identity, **version, "recipe": job.run.recipe.model_dump(), "fingerprint": str(fingerprint),
        "classes": list(sources.classes), "best_epoch": result.best_epoch, **selected,
    }
    checkpoint = make_checkpoint(model, result.state_dict, metadata)
    history = with_selected_scores(result.history, result.best_epoch, selected)
    return TrainedModel(checkpoint, history.assign(**job.identity, **version), predictions)


def _split_scores(split: str, predictions: Predictions) -> dict[str, float]:
    """``{<split>_map, <split>_seq_map}``: frame- and sequence-level mAP of ``predictions``."""
    return {f"{split}_map": frame_map(predictions), f"{split}_seq_map": sequence_map(predictions)}


def _evaluator(clips: Mapping[str, Any], with_audio: bool,
               settings: TrainingSettings) -> Callable[[torch.nn.Module], dict[str, float]]:
    """``model -> {val_map, val_seq_map}`` (frame- and sequence-level mAP), with ``test_map`` and
    ``test_seq_map`` too when ``settings.test_every_epoch`` (otherwise the test split is scored
    once, at the selected epoch)."""
    splits = ("val", "test") if settings.test_every_epoch else ("val",)

    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        return {key: value for split in splits
                for key, value in _split_scores(split, predict(
                    model, clips[split], with_audio, settings.eval_batch_size,
                    settings.autocast)).items()}

    return evaluate


def with_selected_scores(history: pd.DataFrame, best_epoch: int,
                         selected: Mapping[str, float]) -> pd.DataFrame:
    """``history`` with the ``selected`` epoch's scores in the row of ``best_epoch`` for every
    score it lacks (the test split's, when it was not scored every epoch: NaN in the other rows)."""
    history = history.copy()
    at_best = history["epoch"] == best_epoch
    for key, value in selected.items():
        if key not in history.columns:
            history[key] = float("nan")
            history.loc[at_best, key] = value
    return history


def train_run(
    sources: ClipSources,
    run: RunSpec,
    supervision: Supervision,
    settings: TrainingSettings,
    model: ModelConfig,
    homes: Iterable[str],
    seeds: Iterable[int],
    encoders: Mapping[str, Any],
    teacher_checkpoints: Mapping[str, Callable[[], Mapping[str, Any]]] | None = None,
    baseline_checkpoints: Mapping[str, Callable[[], Mapping[str, Any]]] | None = None,
    published: Published | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Train ``run`` at ``supervision`` for every seed and every home of ``homes`` it is trained in
    (``run.homes``), except the models ``published`` already holds as they would be trained now
    (:func:`reusable`): those start no job, open no MLflow run and are left on disk as they are.

    Args:
        settings: the ``training`` block; the run's own overrides are applied here.
        encoders: the record of the encoders every model starts from (its fingerprints enter the
            models' fingerprints).
        teacher_checkpoints: the teacher run's checkpoints, ``partition_key -> loader`` (needed when
            the run distils).
        baseline_checkpoints: the plain student's checkpoints at this supervision; before
            distilling, a warning names both figures when the teacher's validation sequence-level
            mAP is not above the plain student's (same home and seed).
        published: the run's outputs at ``supervision`` as they are on disk (None: reuse none).

    Returns:
        ``{partition_key: checkpoint}``, ``{partition_key: history}``, ``{partition_key: predictions}``
        of the models trained (a reused model is left out: its files stay as they are); empty in the
        processes other than 0 of a multi-process run, so that only process 0 writes the catalog's
        outputs.
    """
    if run.distils and teacher_checkpoints is None:
        raise ValueError(f"Run {run.name!r} distils from {run.teacher!r} but got no teacher checkpoints")
    settings = fitted_to_cores(settings.with_overrides(run.training))
    planned = [TrainingJob(run, supervision, settings, model, home, seed, encoders,
                           _teacher_checkpoint(teacher_checkpoints, run, partition_key(home, seed))
                           if run.distils else None, active_parent())
               for home in run.trained_homes(homes) for seed in seeds]
    jobs = [job for job in planned if published is None or not reusable(sources, job, published)]
    reused = len(planned) - len(jobs)
    log.info("%s %s: %d of %d models reused (finished and published with the same inputs), "
             "%d to train", run.name, supervision.name, reused, len(planned), len(jobs))
    for job in jobs:
        key = partition_key(job.home, job.seed)
        if job.teacher is not None and baseline_checkpoints is not None and key in baseline_checkpoints:
            check_teacher_margin(job.teacher, baseline_checkpoints[key](), run.name)
    if jobs:
        log.info("Training %s %s: %s", run.name, supervision.name,
                 ", ".join(partition_key(job.home, job.seed) for job in jobs))
    if settings.parallel_jobs > 1 and len(jobs) > 1:
        results = worker_pool(settings.parallel_jobs, settings.num_threads).map(
            train_model, [sources] * len(jobs), jobs)
    else:
        results = (train_model(sources, job) for job in jobs)
    outputs: tuple[dict, dict, dict] = ({}, {}, {})
    with stage(TRAINING_STAGE, len(planned), "model", settings.progress, log_items=True) as progress:
        if reused:
            progress.advance(f"{run.name} {supervision.name}: {reused} reused", count=reused)
        for job, trained in zip(jobs, results):
            progress.advance(job.name)
            if trained is None:
                continue
            key = partition_key(job.home, job.seed)
            for store, value in zip(outputs, (trained.checkpoint, trained.history,
                                              trained.predictions)):
                store[key] = value
    return outputs


def check_teacher_margin(teacher: Mapping[str, Any], baseline: Mapping[str, Any], run: str) -> float:
    """The teacher's validation sequence-level mAP minus the plain student's (same home, seed and
    supervision); a warning names both figures when the teacher is not better."""
    ours, theirs = teacher["metadata"], baseline["metadata"]
    margin = ours["val_seq_map"] - theirs["val_seq_map"]
    if not margin > 0:
        log.warning(
            "Run %s distils teacher %s (validation sequence-level mAP %.2f) into %s/seed%s, but the "
            "plain student %s %s reaches %.2f without it: the teacher is not better.",
            run, ours["run"], ours["val_seq_map"], ours["home"], ours["seed"], theirs["run"],
            theirs["supervision"], theirs["val_seq_map"])
    return margin


def _teacher_checkpoint(checkpoints: Mapping[str, Callable[[], Mapping[str, Any]]], run: RunSpec,
                        key: str) -> Mapping[str, Any]:
    if key not in checkpoints:
        raise ValueError(
            f"Run {run.name!r} distils from {run.teacher!r}, which has no checkpoint for {key} "
            f"(it has {sorted(checkpoints)}): run `kedro run --pipelines teacher` for this home and seed")
    return checkpoints[key]()
