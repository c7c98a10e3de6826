"""Training one model for one home: clips from the stores, the loop, the best checkpoint, predictions.

Library code for the ``teacher`` and ``distill`` pipelines (which only pass the catalog's data in).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vicokd.data.dataset import MultiViewClipDataset
from vicokd.models import build_model, model_signature
from vicokd.training.evaluation import frame_map, predict, predictions_table, sequence_map
from vicokd.training.loop import TrainingSettings, fit
from vicokd.training.objectives import Objective
from vicokd.training.recipes import Recipe

SPLITS = ("train", "val", "test")


class HeldOutFrameLabels(Mapping[str, np.ndarray]):
    """Frame labels of the evaluation sequences only: asking for any other sequence raises.

    Sequence-supervised (V_S) training gets this instead of the full store, so it cannot read a
    training sequence's frame labels; validation and test frames are still scored frame by frame.
    """

    def __init__(self, frame_labels: Mapping[str, np.ndarray], sequence_ids: list[str]):
        self._labels = frame_labels
        self._ids = list(sequence_ids)
        self._allowed = set(sequence_ids)

    def __getitem__(self, sequence_id: str) -> np.ndarray:
        if sequence_id not in self._allowed:
            raise KeyError(f"Frame labels of {sequence_id!r} are withheld: it is not an evaluation sequence")
        return self._labels[sequence_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


@dataclass
class ClipSources:
    """Everything a run reads, shared by all runs of a pipeline (passed between nodes uncopied).

    ``table`` is the ``sequences`` table joined with ``splits`` (column ``split``). ``frame_labels``
    is the full store (teacher, V_F) or :class:`HeldOutFrameLabels` (V_S).
    """

    table: pd.DataFrame
    frames: Mapping[str, np.ndarray]
    audio: Mapping[str, np.ndarray]
    masks: Mapping[str, np.ndarray]
    presence: Mapping[str, np.ndarray]
    frame_labels: Mapping[str, np.ndarray]

    def clips(
        self, home: str, split: str, settings: TrainingSettings, seed: int, with_frame_labels: bool
    ) -> MultiViewClipDataset:
        """The clips of one home and split; training draws random frames, evaluation uniform ones."""
        rows = self.table[(self.table["home"] == home) & (self.table["split"] == split)]
        if rows.empty:
            raise ValueError(f"No {split} sequences for {home}: check the splits and ingestion.homes")
        return MultiViewClipDataset(
            rows.sort_values("sequence_id"),
            frames=self.frames,
            audio=self.audio,
            frame_labels=self.frame_labels if with_frame_labels else None,
            masks=self.masks,
            presence=self.presence,
            num_frames=settings.num_frames,
            sampling="random_perturb" if split == "train" else "uniform",
            seed=seed,
            cache=settings.cache_arrays,
        )


def join_splits(sequences: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """``sequences`` with the ``split`` column; every sequence must have exactly one split."""
    table = sequences.merge(splits[["sequence_id", "split"]], on="sequence_id", how="left",
                            validate="one_to_one")
    missing = table.loc[table["split"].isna(), "sequence_id"].tolist()
    if missing:
        raise ValueError(f"{len(missing)} sequences have no split, e.g. {missing[:3]}")
    unknown = set(table["split"]) - set(SPLITS)
    if unknown:
        raise ValueError(f"Unknown split name(s) {sorted(unknown)}; expected {SPLITS}")
    return table


def evaluation_sequence_ids(table: pd.DataFrame) -> list[str]:
    """Sequences of the validation and test splits."""
    return sorted(table.loc[table["split"].isin(["val", "test"]), "sequence_id"])


def fingerprint(**parts: Any) -> str:
    """A short hash of JSON-serialisable parts (what a resumable checkpoint must agree on)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def check_teacher(checkpoint: Mapping[str, Any], model_config: Mapping[str, Any], home: str) -> None:
    """Raise ``ValueError`` naming every difference between the teacher checkpoint's architecture
    and the current ``model`` parameters (or when it is not an audio-visual model)."""
    if not checkpoint["with_audio"]:
        raise ValueError(f"The teacher checkpoint of {home} is a visual-only model, not a teacher")
    saved = _flatten(checkpoint["config"])
    current = _flatten(model_signature(model_config, True)["model"])
    differences = [
        f"model.{key}: checkpoint {saved.get(key, '<absent>')!r}, parameters {current.get(key, '<absent>')!r}"
        for key in sorted(set(saved) | set(current))
        if saved.get(key) != current.get(key)
    ]
    if differences:
        raise ValueError(
            f"The teacher checkpoint of {home} was trained with another model configuration; "
            f"retrain it (kedro run --pipeline teacher) or restore the parameters. Differences: "
            + "; ".join(differences)
        )


def frozen_teacher(checkpoint: Mapping[str, Any], model_config: Mapping[str, Any], home: str) -> torch.nn.Module:
    """The teacher rebuilt from its checkpoint, checked against ``model_config``, in eval mode with
    ``requires_grad`` off."""
    check_teacher(checkpoint, model_config, home)
    teacher = build_model(checkpoint["config"], with_audio=True)
    teacher.load_state_dict(checkpoint["state_dict"])
    teacher.eval().requires_grad_(False)
    return teacher


@dataclass
class TrainedModel:
    """A run's outputs: the best checkpoint, its history and its val/test predictions."""

    checkpoint: dict[str, Any]
    history: pd.DataFrame
    predictions: pd.DataFrame


def train_for_home(
    sources: ClipSources,
    home: str,
    identity: Mapping[str, Any],
    recipe: Recipe,
    model_config: Mapping[str, Any],
    with_audio: bool,
    settings: TrainingSettings,
    seed: int,
    teacher: tuple[torch.nn.Module, str] | None = None,
) -> TrainedModel:
    """Train one model of one home and score its best epoch (on validation mAP) on val and test.

    Args:
        identity: ``model, method, supervision, backbone`` labels for the outputs.
        teacher: ``(frozen teacher, its fingerprint)`` for distillation recipes.
    """
    signature = model_signature(model_config, with_audio)
    clips = {
        split: sources.clips(home, split, settings, seed, recipe.reads_frame_labels or split != "train")
        for split in SPLITS
    }
    run_fingerprint = fingerprint(
        model=signature, recipe=recipe.to_dict(), settings=settings.fingerprint_fields(),
        seed=seed, home=home, train=list(clips["train"].sequences["sequence_id"]),
        teacher=teacher[1] if teacher else None,
    )
    torch.manual_seed(seed)
    model = build_model(model_config, with_audio)
    objective = Objective(recipe, with_audio, teacher[0] if recipe.needs_teacher and teacher else None)

    def evaluate(trained: torch.nn.Module) -> dict[str, float]:
        scores = {}
        for split in ("val", "test"):
            predictions = predict(trained, clips[split], with_audio, settings.eval_batch_size,
                                  settings.autocast)
            scores[f"{split}_map"] = frame_map(predictions)
            scores[f"{split}_seq_map"] = sequence_map(predictions)
        return scores

    run_dir = Path(settings.checkpoint_dir) / str(identity["model"]) / home
    result = fit(model, objective, clips["train"], evaluate, settings, run_dir, seed, run_fingerprint)
    model.load_state_dict(result.state_dict)
    labels = {**identity, "seed": seed, "home": home}
    predictions = pd.concat(
        [
            predictions_table(
                predict(model, clips[split], with_audio, settings.eval_batch_size, settings.autocast),
                labels, split,
            )
            for split in ("val", "test")
        ],
        ignore_index=True,
    )
    best = result.history.loc[result.history["epoch"] == result.best_epoch].iloc[0]
    checkpoint = {
        "config": signature["model"],
        "with_audio": with_audio,
        "state_dict": result.state_dict,
        "metadata": {
            **{k: v for k, v in labels.items()},
            "recipe": recipe.to_dict(),
            "fingerprint": run_fingerprint,
            "best_epoch": result.best_epoch,
            **{key: float(best[key]) for key in ("val_map", "test_map", "val_seq_map", "test_seq_map")},
        },
    }
    history = result.history.assign(model=identity["model"], home=home)
    return TrainedModel(checkpoint, history, predictions)


def train_per_home(
    sources: ClipSources,
    homes: list[str],
    identity: Mapping[str, Any],
    recipe: Recipe,
    model_config: Mapping[str, Any],
    with_audio: bool,
    settings: TrainingSettings,
    seed: int,
    teachers: Mapping[str, tuple[torch.nn.Module, str]] | None = None,
) -> tuple[dict[str, dict[str, Any]], pd.DataFrame, pd.DataFrame]:
    """:func:`train_for_home` for each home: ``({home: checkpoint}, history, predictions)``, the
    history and predictions of all homes in one table each (column ``home``)."""
    if teachers is not None and recipe.needs_teacher:
        absent = sorted(set(homes) - set(teachers))
        if absent:
            raise ValueError(f"No teacher checkpoint for {absent}: run `kedro run --pipeline teacher`")
    runs = {
        home: train_for_home(
            sources, home, identity, recipe, model_config, with_audio, settings, seed,
            teachers[home] if teachers is not None and recipe.needs_teacher else None,
        )
        for home in homes
    }
    return (
        {home: run.checkpoint for home, run in runs.items()},
        pd.concat([run.history for run in runs.values()], ignore_index=True),
        pd.concat([run.predictions for run in runs.values()], ignore_index=True),
    )


def training_summary(histories: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per model and home: best epoch on validation mAP, its val/test mAPs, total seconds."""
    rows = []
    for name, history in histories.items():
        for home, runs in history.groupby("home", sort=True):
            best = runs.loc[runs["val_map"].fillna(-1.0).idxmax()]
            rows.append({
                "model": name, "home": home, "epochs": int(runs["epoch"].max()),
                "best_epoch": int(best["epoch"]), "seconds": float(runs["seconds"].sum()),
                **{k: float(best[k]) for k in ("val_map", "test_map", "val_seq_map", "test_seq_map")},
            })
    return pd.DataFrame(rows)
