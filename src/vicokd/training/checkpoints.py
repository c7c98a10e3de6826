"""Checkpoints and the models they hold: the one place a checkpoint becomes a model again.

A checkpoint is a dict ``{config, with_audio, state_dict, metadata}`` (see
``vicokd.datasets.TorchCheckpointDataset``): ``config`` is the complete ``model`` block it was built
from, ``metadata`` the run's identity, recipe, fingerprint and best epoch.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
