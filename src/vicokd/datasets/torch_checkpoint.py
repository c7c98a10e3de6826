"""A versioned Kedro dataset for model checkpoints: weights plus the configuration that rebuilds them.

A checkpoint is a dict ``{config, with_audio, state_dict, metadata}``: ``config`` is the ``model``
parameter block given to ``vicokd.models.build_model``, ``with_audio`` says whether the model reads
audio (teacher) or not (student), ``state_dict`` holds the weights and ``metadata`` says how the model
was trained (home, method, supervision, best epoch, validation mAP, ...). A file holds either one
checkpoint or a mapping ``name -> checkpoint`` (one model per home). Files are written with
``torch.save`` and read back with ``weights_only=True``, so loading never runs pickled code.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import torch
from kedro.io import AbstractVersionedDataset, DatasetError, Version

CHECKPOINT_KEYS = frozenset({"config", "with_audio", "state_dict", "metadata"})


def is_checkpoint(value: Any) -> bool:
    """Whether ``value`` is one checkpoint dict (exactly the keys of :data:`CHECKPOINT_KEYS`)."""
    return isinstance(value, Mapping) and set(value) == CHECKPOINT_KEYS


def _check(data: Any, where: str) -> None:
    """Raise a DatasetError unless ``data`` is a checkpoint or a mapping of name -> checkpoint."""
    if is_checkpoint(data):
        return
    if isinstance(data, Mapping) and data and all(is_checkpoint(v) for v in data.values()):
        return
    raise DatasetError(
        f"{where}: expected a checkpoint dict with keys {sorted(CHECKPOINT_KEYS)} or a non-empty "
        f"mapping of name -> such dicts, got {type(data).__name__}"
        + (f" with keys {sorted(map(str, data))}" if isinstance(data, Mapping) else "")
    )


class TorchCheckpointDataset(AbstractVersionedDataset[Mapping[str, Any], dict[str, Any]]):
    """Versioned ``.pt`` file of one checkpoint or of a mapping ``name -> checkpoint``.

    Example catalog entry::

        teacher_model:
          type: vicokd.datasets.TorchCheckpointDataset
          filepath: data/06_models/teacher/AV_F.pt
          versioned: true
    """

    def __init__(
        self,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        super().__init__(PurePosixPath(filepath), version)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}

    def load(self) -> dict[str, Any]:
        path = Path(self._get_load_path())
        if not path.is_file():
            raise DatasetError(f"Checkpoint {path} does not exist: train the model first.")
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:
            raise DatasetError(f"Checkpoint {path} cannot be read: {error}") from error
        _check(data, f"Checkpoint {path}")
        return data

    def save(self, data: Mapping[str, Any]) -> None:
        _check(data, f"Saving checkpoint {self._filepath}")
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.tmp")
        torch.save(_plain(data), staging)
        os.replace(staging, path)

    def _exists(self) -> bool:
        try:
            path = self._get_load_path()
        except DatasetError:
            return False
        return Path(path).is_file()


def _plain(data: Any) -> Any:
    """Nested dicts as plain ``dict`` (``weights_only`` loading accepts only built-in containers)."""
    if isinstance(data, Mapping) and not isinstance(data, dict | torch.nn.Module):
        data = dict(data)
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, tuple):
        return [_plain(value) for value in data]
    return data
