"""A versioned Kedro dataset for model checkpoints: weights plus the configuration that rebuilds them.

A checkpoint is a dict ``{config, with_audio, state_dict, metadata}``: ``config`` is the ``model``
parameter block given to ``vicokd.models.build_model``, ``with_audio`` says whether the model reads
audio (teacher) or not (student), ``state_dict`` holds the weights and ``metadata`` says how the model
was trained (home, method, supervision, best epoch, validation mAP, ...). A file holds either one
checkpoint or a mapping ``name -> checkpoint`` (one model per home). Files are written with
``torch.save`` and read back with ``weights_only=True``, so loading never runs pickled code.

Beside a file of one checkpoint, a header (``<name>.header``, itself a small weights-only torch
file, so that its values keep their exact types) keeps everything but the weights, with the size and
modification time of the file it describes: loading such a file gives a
:class:`LazyCheckpoint`, whose weights are read when first asked for, so deciding whether a model
is reusable or which teacher it distils reads a few bytes. A header that does not match its file
(restored, copied, rewritten) is ignored and the file read whole; a file read whole gets its header
then (a file written before headers existed, or restored).

:func:`read_torch_file` and :func:`write_torch_file` are the one way the project reads and writes a
``.pt`` file (this dataset, and the training loop's ``last.pt`` / ``best.pt``): writes are atomic under
a per-writer staging name, and an unreadable file raises :class:`CheckpointError` naming the file and
what to do about it.
"""
from __future__ import annotations

import contextlib
import pickle
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import torch
from kedro.io import AbstractVersionedDataset, DatasetError, Version

from vicokd.datasets.staging import staged

CHECKPOINT_KEYS = frozenset({"config", "with_audio", "state_dict", "metadata"})
#: The keys a header keeps (all but the weights).
HEADER_KEYS = ("config", "with_audio", "metadata")
HEADER_SUFFIX = ".header"  # not ".pt": partitions of checkpoints are the files ending in .pt

#: What a ``.pt`` file is for, and so what to do when it cannot be read.
Role = Literal["resume", "model"]
FIXES: dict[str, str] = {
    "resume": "It only resumes an interrupted training run: delete it and that run restarts from "
    "its first epoch.",
    "model": "Retrain the model (re-run the pipeline that writes it) or restore the file from a "
    "backup.",
}


class CheckpointError(DatasetError):
    """A ``.pt`` file is missing, empty, truncated or not a checkpoint; the message names the file
    and the fix."""


def _problem(path: Path, error: Exception) -> str:
    """Why ``torch.load`` failed on ``path``, in words (PyTorch's own advice to load with
    ``weights_only=False`` is left out: that would run whatever code the file holds)."""
    if path.stat().st_size == 0:
        return "is empty (0 bytes), as left by a writer that was stopped"
    with path.open("rb") as file:
        zipped = file.read(4) == b"PK\x03\x04"
    if zipped and not zipfile.is_zipfile(path):
        return "is truncated (an incomplete PyTorch archive), as left by a writer that was stopped"
    if not zipped:
        return "is not a PyTorch checkpoint (no PyTorch archive)"
    if isinstance(error, pickle.UnpicklingError):
        return "holds objects other than tensors and plain containers, which are not loaded"
    first_line = next(iter(str(error).splitlines()), "")
    return f"cannot be read ({type(error).__name__}: {first_line})"


def read_torch_file(path: str | Path, role: Role, mmap: bool = False) -> Any:
    """``torch.load(path, map_location="cpu", weights_only=True)``, with errors that help.

    Args:
        path: the ``.pt`` file.
        role: ``"resume"`` for a training run's ``last.pt`` (the fix: delete it), ``"model"`` for
            a trained model's weights (the fix: retrain or restore).
        mmap: map the tensors' storage from the file instead of reading it (a reader of the
            file's other entries only).

    Raises:
        CheckpointError: the file is missing, empty, truncated, not a PyTorch file or holds
            objects that are not tensors and plain containers; the message names ``path``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Checkpoint {path} does not exist. {FIXES[role]}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except (RuntimeError, OSError, EOFError, ValueError, KeyError, pickle.UnpicklingError) as error:
        raise CheckpointError(f"Checkpoint {path} {_problem(path, error)}. {FIXES[role]}") from None


def write_torch_file(data: Any, path: str | Path) -> None:
    """``torch.save(data, path)`` through a staging file of this writer, renamed into place: a
    stopped writer never leaves a partial ``path``, and concurrent writers never share a file."""
    with staged(Path(path)) as staging:
        torch.save(data, staging)


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


def header_path(path: Path) -> Path:
    """Where the header of the checkpoint file ``path`` is kept."""
    return path.with_name(path.name + HEADER_SUFFIX)


def _file_stamp(path: Path) -> dict[str, int]:
    status = path.stat()
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns}


def write_header(checkpoint: Mapping[str, Any], path: Path) -> None:
    """Keep ``checkpoint`` (just written to ``path``) but its weights beside it."""
    header = {key: checkpoint[key] for key in HEADER_KEYS}
    write_torch_file({"file": _file_stamp(path), "checkpoint": header}, header_path(path))


def read_header(path: Path) -> dict[str, Any] | None:
    """The header of ``path`` when it describes the file as it is now, else None (none, or not
    readable: the file is read whole)."""
    try:
        header = read_torch_file(header_path(path), "model")
        current = header["file"] == _file_stamp(path)
    except (CheckpointError, OSError, KeyError, TypeError):
        return None
    return header["checkpoint"] if current else None


class LazyCheckpoint(Mapping[str, Any]):
    """One checkpoint read from its header, its ``state_dict`` read from the file when first
    asked for (:func:`read_torch_file`: errors name the file)."""

    def __init__(self, path: Path, header: Mapping[str, Any]):
        self._path = path
        self._header = dict(header)
        self._state_dict: Any = None

    def __getitem__(self, key: str) -> Any:
        if key != "state_dict":
            return self._header[key]
        if self._state_dict is None:
            data = read_torch_file(self._path, "model")
            if not is_checkpoint(data):
                raise CheckpointError(f"Checkpoint {self._path} no longer holds one checkpoint: "
                                      f"{FIXES['model']}")
            self._state_dict = data["state_dict"]
        return self._state_dict

    def __iter__(self) -> Iterator[str]:
        return iter((*HEADER_KEYS, "state_dict"))

    def __len__(self) -> int:
        return len(HEADER_KEYS) + 1


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

    @property
    def filepath(self) -> Path:
        """The file a load reads (that version's, when versioned)."""
        return Path(self._get_load_path())

    def load(self) -> Mapping[str, Any]:
        path = Path(self._get_load_path())
        header = read_header(path)
        if header is not None:
            return LazyCheckpoint(path, header)
        data = read_torch_file(path, "model")
        _check(data, f"Checkpoint {path}")
        if is_checkpoint(data):
            with contextlib.suppress(OSError):  # a read-only or full disk: read whole next time too
                write_header(data, path)
        return data

    def save(self, data: Mapping[str, Any]) -> None:
        _check(data, f"Saving checkpoint {self._filepath}")
        path = Path(self._get_save_path())
        plain = _plain(data)
        write_torch_file(plain, path)
        if is_checkpoint(plain):
            write_header(plain, path)
        else:
            header_path(path).unlink(missing_ok=True)

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
