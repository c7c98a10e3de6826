"""Pretraining the demo's encoders: our stand-in for ImageNet / AudioSet.

Each encoder learns to classify single 2.5-FPS frames of homes that are never evaluated: the ViT
one view's image (its target: the actions of that moment where the person detector sees someone in
that view, none elsewhere), the AST one audio chunk (the actions of that moment: every microphone
hears them). Binary cross-entropy over the dataset's classes, the epoch with the best validation
frame mAP kept, through the project's one training loop (so a finished pretraining is reused, not
redone). A dataset without a pretraining home (real recordings) pretrains them on the training
split of the evaluated homes instead, selecting on their validation split: the test split is never
read (:func:`pretraining_rows`).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from pydantic import PositiveInt
from torch import nn
from torch.utils.data import DataLoader, Dataset

from vicokd.data.digests import content_digest
from vicokd.datasets.locking import run_lock
from vicokd.datasets.staging import staged_folder
from vicokd.fingerprints import run_fingerprint
from vicokd.metrics import mean_average_precision
from vicokd.models import ModelConfig
from vicokd.models.encoders import (
    AudioEncoder,
    Modality,
    VisualEncoder,
    build_encoder,
    build_encoder_from,
)
from vicokd.parameters import Parameters
from vicokd.progress import stage
from vicokd.training.loop import fit
from vicokd.training.objectives import Step
from vicokd.training.settings import TrainingSettings

if TYPE_CHECKING:
    from transformers import PreTrainedModel


class FrameItems(Dataset):
    """One item per (sequence, view, frame): the view's image ``(3, H, W)`` uint8 (visual) or its
    log-mel chunk ``(L, M)`` float32 (audio), and the frame's 16 action targets (visual: zero where
    the view's mask says no person is visible). The items are read once, into memory.

    Args:
        sequences: rows with ``sequence_id`` (the sequences to draw from).
        inputs: ``frames`` ``(V, n, H, W, 3)`` or ``log_mels`` ``(V, n, L, M)`` per sequence.
        frame_labels: ``(n, C)`` per sequence; masks: ``(V, n)`` per sequence (visual only).
        frame_step: every ``frame_step``-th frame of each view.
    """

    def __init__(self, sequences: pd.DataFrame, inputs: Mapping[str, np.ndarray],
                 frame_labels: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray] | None,
                 frame_step: int):
        if sequences.empty:
            raise ValueError("FrameItems: no sequences to draw frames from")
        items, targets = [], []
        for sequence_id in sequences["sequence_id"]:
            x = np.asarray(inputs[sequence_id][:, ::frame_step])  # (V, n', ...)
            y = np.asarray(frame_labels[sequence_id][::frame_step], np.float32)  # (n', C)
            y = np.broadcast_to(y, (x.shape[0], *y.shape))  # (V, n', C)
            if masks is not None:
                y = y * np.asarray(masks[sequence_id][:, ::frame_step], np.float32)[..., None]
                x = x.transpose(0, 1, 4, 2, 3)  # (V, n', H, W, 3) -> (V, n', 3, H, W)
            items.append(x.reshape(-1, *x.shape[2:]))
            targets.append(y.reshape(-1, y.shape[-1]))
        self.inputs = torch.from_numpy(np.concatenate(items))  # a new, contiguous array
        if masks is None:
            self.inputs = self.inputs.float()
        self.targets = torch.from_numpy(np.concatenate(targets))

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"inputs": self.inputs[index], "targets": self.targets[index]}

    def digest(self) -> str:
        """A hash of every item's input and target (what a pretraining on these items reads)."""
        return content_digest({"inputs": self.inputs.numpy(), "targets": self.targets.numpy()},
                              ["inputs", "targets"])


class EncoderClassifier(nn.Module):
    """An encoder's embedding ``(N, H)`` followed by a linear classifier ``(N, C)``."""

    def __init__(self, encoder: VisualEncoder | AudioEncoder, num_classes: int):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.embedding_size, num_classes)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder.embed(inputs))


class ClassificationObjective:
    """Binary cross-entropy of the classifier on a batch, as one loss term (``classification``)."""

    weights: ClassVar[dict[str, float]] = {"classification": 1.0}

    def to(self, device: torch.device) -> ClassificationObjective:
        return self

    def __call__(self, model: nn.Module, batch: Mapping[str, torch.Tensor]) -> Step:
        logits = model(batch["inputs"])
        loss = F.binary_cross_entropy_with_logits(logits.float(), batch["targets"])
        return Step({"classification": loss}, {})


@torch.no_grad()
def _frame_map(model: nn.Module, items: FrameItems, batch_size: int) -> float:
    """Macro mAP (percent) of ``model``'s scores on ``items`` (NaN without any positive)."""
    device = next(model.parameters()).device
    scores, targets = [], []
    for batch in DataLoader(items, batch_size=batch_size):
        scores.append(model(batch["inputs"].to(device)).float().sigmoid().cpu().numpy())
        targets.append(batch["targets"].numpy())
    targets = np.concatenate(targets)
    if not (targets > 0).any():
        return math.nan
    return mean_average_precision(np.concatenate(scores), targets)


@dataclass(frozen=True)
class PretrainedEncoder:
    """An encoder pretrained here: the Hugging Face model to save, how it scored and whether a
    finished pretraining was ``reused``."""

    model: PreTrainedModel
    best_epoch: int
    val_map: float
    reused: bool


def pretrain_encoder(
    modality: Modality,
    config: ModelConfig,
    items: Mapping[str, FrameItems],
    settings: TrainingSettings,
    run_dir: str | Path,
    seed: int,
    fingerprint: str,
    on_epoch_end: Callable[[int], None] | None = None,
) -> PretrainedEncoder:
    """Pretrain the ``modality`` encoder of ``config`` on ``items["train"]``, keeping the epoch with
    the best frame mAP on ``items["val"]``.

    ``run_dir`` holds the loop's resume state: a finished run with the same ``fingerprint`` is
    reused without training. ``on_epoch_end`` is called with each epoch trained.
    """
    torch.manual_seed(seed)
    classifier = EncoderClassifier(build_encoder(modality, config), config.num_classes)

    def evaluate(model: nn.Module) -> dict[str, Any]:
        return {"val_map": _frame_map(model, items["val"], settings.eval_batch_size)}

    result = fit(classifier, ClassificationObjective(), items["train"], evaluate, settings, run_dir,
                 seed, fingerprint, on_epoch_end=on_epoch_end, select_on="val_map")
    classifier.load_state_dict(result.state_dict)
    encoder = classifier.encoder
    hf_model = encoder.vit if modality == "visual" else encoder.ast
    return PretrainedEncoder(hf_model.cpu(), result.best_epoch, result.best_value,
                             reused=result.trained_epochs == 0)


class PretrainingSettings(Parameters):
    """The ``pretraining:`` block: which homes the encoders made here learn from, and how."""

    homes: list[str]  # never evaluated: simulated beside the evaluation homes
    frame_step: PositiveInt  # every k-th 2.5-FPS frame of each view (neighbours are near-duplicates)
    directory: str  # an encoder whose `pretrained` folder lies under it is made here
    training: dict[str, Any]  # overrides of the `training` block, both encoders
    encoder_training: dict[Modality, dict[str, Any]]  # one encoder's own, on top of `training`


def pretraining_rows(
    table: pd.DataFrame, pretraining_homes: list[str], evaluation_homes: list[str]
) -> tuple[pd.DataFrame, str]:
    """The sequences the encoders made here learn from (their ``split``: train to learn, val to
    select the epoch), and in words where they come from.

    The ingested sequences of ``pretraining_homes`` (never evaluated), all splits; when none was
    ingested (a real dataset has no such home), the train and val sequences of the
    ``evaluation_homes``: the models trained later read the same training split, and no test
    sequence is seen.
    """
    rows = table[table["home"].isin(pretraining_homes)]
    if not rows.empty:
        homes = ", ".join(dict.fromkeys(rows["home"]))
        return rows, f"pretrained here on {homes} (pretraining homes, never evaluated)"
    rows = table[table["home"].isin(evaluation_homes) & table["split"].isin(["train", "val"])]
    homes = ", ".join(dict.fromkeys(rows["home"])) or ", ".join(evaluation_homes)
    absent = ", ".join(pretraining_homes) or "none is configured"
    return rows, (f"pretrained here on the training split of {homes}, the evaluated homes, its "
                  f"validation split choosing the epoch (no pretraining home in the dataset: "
                  f"pretraining.homes: {absent})")


def owned_by_pretraining(pretrained: str | None, directory: str | Path) -> bool:
    """Whether the encoder folder ``pretrained`` is one this project pretrains (under ``directory``)."""
    return pretrained is not None and Path(pretrained).resolve().is_relative_to(Path(directory).resolve())


def prepare_encoders(
    table: pd.DataFrame,
    frames: Mapping[str, np.ndarray],
    log_mels: Mapping[str, np.ndarray],
    frame_labels: Mapping[str, np.ndarray],
    masks: Mapping[str, np.ndarray],
    config: ModelConfig,
    pretraining: PretrainingSettings,
    settings: TrainingSettings,
    seed: int,
    evaluation_homes: list[str],
) -> dict[str, Any]:
    """Make sure both encoders of ``config`` exist: pretrain (or reuse) the ones whose
    ``pretrained`` folder lies under ``pretraining.directory``, check the others load.

    Args:
        table: the sequences joined with their splits (``split`` column).
        evaluation_homes: the evaluated homes (``ingestion.homes``), whose training split the
            encoders learn from when no pretraining home was ingested (:func:`pretraining_rows`).

    Returns:
        ``{visual: {...}, audio: {...}}``: per encoder its ``pretrained`` source, whether it was
        ``made_here`` (then also its ``fingerprint``, whether a finished pretraining was
        ``reused``, ``best_epoch``, ``val_map``) and ``starts_from``: in words, what every model's
        encoder starts from.
    """
    record: dict[str, Any] = {}
    rows, learnt_from = pretraining_rows(table, pretraining.homes, evaluation_homes)
    shared = settings.with_overrides(pretraining.training)
    made_here = {modality: shared.with_overrides(pretraining.encoder_training.get(modality, {}))
                 for modality in ("visual", "audio")
                 if owned_by_pretraining(getattr(config, f"{modality}_encoder").pretrained,
                                         pretraining.directory)}
    epochs = sum(encoder_settings.epochs for encoder_settings in made_here.values())
    with stage("pretraining", epochs, "epoch", settings.progress) as progress:
        for modality in ("visual", "audio"):
            target = getattr(config, f"{modality}_encoder").pretrained
            if not owned_by_pretraining(target, pretraining.directory):
                build_encoder_from(modality, config)  # an external checkpoint: fail now if bad
                source = (f"the checkpoint {target} (model.{modality}_encoder.pretrained)" if target
                          else f"random weights (model.{modality}_encoder.pretrained: null)")
                record[modality] = {"pretrained": target, "made_here": False,
                                    "starts_from": source}
                continue
            encoder_settings = made_here[modality]
            if (rows["split"] == "train").sum() == 0:
                raise ValueError(f"model.{modality}_encoder.pretrained ({target}) is made by "
                                 f"pretraining, but no training sequence was ingested to learn "
                                 f"from ({learnt_from})")
            inputs = frames if modality == "visual" else log_mels
            items = {split: FrameItems(rows[rows["split"] == split], inputs, frame_labels,
                                       masks if modality == "visual" else None,
                                       pretraining.frame_step)
                     for split in ("train", "val")}
            architecture = getattr(config, f"{modality}_encoder").model_dump(
                exclude={"pretrained"})
            fingerprint = run_fingerprint(
                modality=modality, architecture=architecture,
                settings=encoder_settings.fingerprint_fields(), seed=seed,
                frame_step=pretraining.frame_step, homes=sorted(set(rows["home"])),
                train=sorted(rows.loc[rows["split"] == "train", "sequence_id"]),
                data={split: frame_items.digest() for split, frame_items in items.items()})
            run_dir = Path(encoder_settings.checkpoint_dir) / "pretraining" / modality
            trained_before = progress.done
            with run_lock(run_dir):
                pretrained = pretrain_encoder(modality, config, items, encoder_settings, run_dir,
                                              seed, fingerprint,
                                              on_epoch_end=lambda _: progress.advance())
            # the epochs of a finished run reused from its checkpoint
            progress.advance(count=trained_before + encoder_settings.epochs - progress.done)
            with staged_folder(Path(target)) as staging:
                pretrained.model.save_pretrained(staging)
            record[modality] = {"pretrained": target, "made_here": True,
                                "fingerprint": fingerprint, "reused": pretrained.reused,
                                "best_epoch": pretrained.best_epoch,
                                "val_map": pretrained.val_map, "train_items": len(items["train"]),
                                "val_items": len(items["val"]),
                                "starts_from": f"{target}, {learnt_from}"}
    return record


def describe_encoders(record: Mapping[str, Any]) -> str:
    """``visual encoder: <what it starts from>; audio encoder: ...`` from an ``encoders`` record."""
    return "; ".join(f"{modality} encoder: {entry.get('starts_from', entry['pretrained'])}"
                     for modality, entry in record.items())

