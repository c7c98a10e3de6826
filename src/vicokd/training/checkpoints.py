"""Checkpoints and the models they hold: the one place a checkpoint becomes a model again.

A checkpoint is a dict ``{config, with_audio, state_dict, metadata}`` (see
``vicokd.datasets.TorchCheckpointDataset``): ``config`` is the complete ``model`` block it was built
from, ``metadata`` the run's identity, recipe, fingerprint, best epoch and ``model_version`` (the
version its history and predictions carry too: :func:`load_published` checks it).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import torch

from vicokd.models import ModelConfig, MultiViewModel, build_model, model_signature
from vicokd.nested import flatten


def make_checkpoint(model: MultiViewModel, state_dict: Mapping[str, torch.Tensor],
                    metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The checkpoint of ``model`` holding ``state_dict`` (e.g. its best epoch's weights); its
    encoders' architectures go into the metadata, so the checkpoint rebuilds the model on its own."""
    return {"config": model_signature(model.config, model.with_audio)["model"],
            "with_audio": model.with_audio, "state_dict": dict(state_dict),
            "metadata": {**metadata, "architectures": model.encoder_architectures()}}


def model_from_checkpoint(checkpoint: Mapping[str, Any]) -> torch.nn.Module:
    """The model of ``checkpoint``, its weights loaded, in eval mode (encoders built from the
    architectures the metadata records; without them, from the model block)."""
    model = build_model(checkpoint["config"], checkpoint["with_audio"],
                        checkpoint["metadata"].get("architectures"))
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


def check_teacher(checkpoint: Mapping[str, Any], config: ModelConfig, where: str) -> None:
    """Raise ``ValueError`` naming every difference between the teacher checkpoint's architecture and
    the current ``model`` parameters (or when it is not an audio-visual model); ``where`` names the
    checkpoint in the message."""
    if not checkpoint["with_audio"]:
        raise ValueError(f"The teacher checkpoint {where} is a visual-only model, not a teacher")
    saved = flatten(checkpoint["config"])
    current = flatten(model_signature(config, True)["model"])
    differences = [
        f"model.{key}: checkpoint {saved.get(key, '<absent>')!r}, parameters {current.get(key, '<absent>')!r}"
        for key in sorted(set(saved) | set(current))
        if saved.get(key) != current.get(key)
    ]
    if differences:
        raise ValueError(
            f"The teacher checkpoint {where} was trained with another model configuration; "
            f"retrain it (kedro run --pipelines teacher) or restore the parameters. Differences: "
            + "; ".join(differences)
        )


def frozen_teacher(checkpoint: Mapping[str, Any], config: ModelConfig, where: str) -> torch.nn.Module:
    """The teacher of ``checkpoint``, checked against ``config``, in eval mode without gradients."""
    check_teacher(checkpoint, config, where)
    return model_from_checkpoint(checkpoint).requires_grad_(False)


class ModelVersionError(ValueError):
    """A checkpoint is another version of its model than the one whose predictions were published;
    the message names the checkpoint file and both versions."""


#: The columns that name one trained model in its predictions (and the metrics made from them).
MODEL_KEY = ("run", "supervision", "home", "seed")


def published_versions(predictions: pd.DataFrame) -> dict[tuple[str, str, str, int], str]:
    """``(run, supervision, home, seed) -> model_version`` of every model in a table of predictions
    or of the metrics computed from them (e.g. ``model_metrics``)."""
    rows = predictions[[*MODEL_KEY, "model_version"]].drop_duplicates()
    return {(run, supervision, home, int(seed)): version
            for run, supervision, home, seed, version in rows.itertuples(index=False)}


def check_model_version(checkpoint: Mapping[str, Any], published: str | None, where: str) -> None:
    """Raise :class:`ModelVersionError` unless ``checkpoint`` is the model version ``published``
    (that of its predictions; None: none published); ``where`` names the checkpoint file."""
    found = checkpoint["metadata"].get("model_version")
    if found != published:
        metadata = checkpoint["metadata"]
        raise ModelVersionError(
            f"The checkpoint {where} is model version {found}, but "
            + (f"the predictions reported for {metadata['run']} {metadata['supervision']} "
               f"{metadata['home']} seed {metadata['seed']} are of version {published}"
               if published is not None else "no predictions of that model are reported")
            + ": they do not come from the same training (an older or restored file?). Retrain the "
            f"model (kedro run --pipelines training --namespaces {metadata['run']}) or restore its "
            "matching files.")


def load_published(load: Callable[[], Mapping[str, Any]],
                   versions: Mapping[tuple[str, str, str, int], str]) -> Mapping[str, Any]:
    """The checkpoint a partition loader gives, checked against ``versions``
    (:func:`published_versions`) to be the model whose predictions are reported."""
    checkpoint = load()
    metadata = checkpoint["metadata"]
    key = (metadata["run"], metadata["supervision"], metadata["home"], int(metadata["seed"]))
    dataset = getattr(load, "__self__", None)  # a partition's loader is its dataset's bound load
    check_model_version(checkpoint, versions.get(key), str(getattr(dataset, "filepath", load)))
    return checkpoint
