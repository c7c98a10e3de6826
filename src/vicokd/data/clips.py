"""Where a run's clips come from: the sequence table with its splits and the per-sequence stores.

:class:`ClipSources` makes the clip dataset of one home and split; :meth:`ClipSources.withhold_frame_labels`
gives sources from which training sequences' frame labels cannot be read (sequence-level supervision).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd
import torch

from vicokd.data.dataset import MultiViewClipDataset
from vicokd.data.digests import content_digest
from vicokd.data.splitting import SPLITS


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


def _text_digest(lines: Iterable[str]) -> str:
    """A hash of ``lines`` in order (16 hex digits)."""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


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


@dataclass(frozen=True)
class ClipSources:
    """Everything a run reads: ``table`` is the ``sequences`` table joined with ``splits`` (column
    ``split``); the stores map a sequence id to its arrays on the sampled frame axis; ``classes``
    (``dataset.classes``) name the class axis of the labels."""

    table: pd.DataFrame
    frames: Mapping[str, np.ndarray]
    audio: Mapping[str, np.ndarray]
    masks: Mapping[str, np.ndarray]
    presence: Mapping[str, np.ndarray]
    frame_labels: Mapping[str, np.ndarray]
    classes: tuple[str, ...]
    #: :meth:`digest` per home, computed once (every model of a home reads the same content)
    _digests: dict[str, dict[str, str]] = field(default_factory=dict, init=False, repr=False,
                                                compare=False)

    def withhold_frame_labels(self) -> ClipSources:
        """The same sources with frame labels of validation and test sequences only."""
        return self._withheld

    @cached_property
    def _withheld(self) -> ClipSources:
        evaluation = sorted(self.table.loc[self.table["split"].isin(["val", "test"]), "sequence_id"])
        return replace(self, frame_labels=HeldOutFrameLabels(self.frame_labels, evaluation))

    def digest(self, home: str) -> dict[str, str]:
        """Hashes of the content a model of ``home`` reads: each store over the home's sequences
        (frame labels only where readable), the split and the sequence labels of each sequence
        (what sequence-level supervision trains on)."""
        if home not in self._digests:
            self._digests[home] = self._content_digests(home)
        return dict(self._digests[home])

    def _content_digests(self, home: str) -> dict[str, str]:
        rows = self.table[self.table["home"] == home].sort_values("sequence_id")
        ids = list(rows["sequence_id"])
        stores = {"visual": self.frames, "audio": self.audio, "masks": self.masks,
                  "presence": self.presence, "frame_labels": self.frame_labels}
        digests = {name: content_digest(store, set(ids) & set(store))  # keys, no array loaded
                   for name, store in stores.items()}
        columns = {"splits": rows["split"],
                   "labels": rows["labels"].map(lambda labels: ",".join(sorted(labels)))}
        return {**digests, **{name: _text_digest(f"{i} {value}" for i, value in zip(ids, column))
                              for name, column in columns.items()}}

    def clips(
        self, home: str, split: str, num_frames: int, seed: int, with_audio: bool,
        with_frame_labels: bool, cache: bool,
        augment_audio: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    ) -> MultiViewClipDataset:
        """The clips of one home and split; training draws random frames (and augments the audio
        with ``augment_audio``), evaluation uniform ones."""
        rows = self.table[(self.table["home"] == home) & (self.table["split"] == split)]
        if rows.empty:
            raise ValueError(f"No {split} sequences for {home}: check the splits and ingestion.homes")
        return MultiViewClipDataset(
            rows.sort_values("sequence_id"),
            frames=self.frames,
            classes=self.classes,
            audio=self.audio if with_audio else None,
            frame_labels=self.frame_labels if with_frame_labels else None,
            masks=self.masks,
            presence=self.presence,
            num_frames=num_frames,
            sampling="random_perturb" if split == "train" else "uniform",
            seed=seed,
            cache=cache,
            augment_audio=augment_audio if split == "train" else None,
        )
