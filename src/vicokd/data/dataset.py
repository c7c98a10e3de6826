"""The torch Dataset of multi-view clips: T sampled frames of every view of a sequence."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from vicokd.data.annotations import multi_hot
from vicokd.data.sampling import SamplingMode, sample_indices


class MultiViewClipDataset(Dataset):
    """One item per row of ``sequences``; every per-sequence mapping is indexed by ``sequence_id``
    and shares the sequence's frame axis (length ``n_frames``).

    An item is a dict:
    - ``frames`` ``(V, T, 3, H, W)`` uint8, views in view-number order (the stores' order), or the
      visual encoder's cached embeddings ``(V, T, H_v)`` float32 when ``frames`` is a feature store;
    - ``audio`` ``(V, T, L, M)`` float32 log-mel chunks (or embeddings ``(V, T, H_a)``) when
      ``audio`` is given;
    - ``masks`` ``(V, T)`` float32 when ``masks`` is given; ``person_confidence`` ``(V, T)`` float32
      when ``presence`` is given;
    - ``frame_labels`` ``(T, C)`` float32 only when ``frame_labels`` is given — sequence-supervised
      (V_S) training passes None and the frame labels are never read;
    - ``sequence_labels`` ``(C,)`` float32 over ``classes`` from the table's ``labels`` column;
    - ``indices`` ``(T,)`` int64 sampled frame indices; ``sequence_id`` str.

    ``random_perturb`` draws indices from ``np.random.default_rng((seed, epoch, item))``, so an
    epoch is reproducible; call :meth:`set_epoch` before each epoch. ``cache=True`` keeps every
    array read in memory (the demo fits), as training reads each sequence every epoch.
    ``augment_audio`` (e.g. :class:`vicokd.data.augment.SpecAugment`) transforms log-mel chunks
    ``(V, T, L, M)`` with a generator drawn from ``(seed, epoch, item)``.
    """

    def __init__(
        self,
        sequences: pd.DataFrame,
        frames: Mapping[str, np.ndarray],
        audio: Mapping[str, np.ndarray] | None = None,
        frame_labels: Mapping[str, np.ndarray] | None = None,
        masks: Mapping[str, np.ndarray] | None = None,
        presence: Mapping[str, np.ndarray] | None = None,
        num_frames: int = 16,
        sampling: SamplingMode = "uniform",
        seed: int = 0,
        cache: bool = False,
        augment_audio: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
        *,
        classes: Sequence[str],
    ):
        if sampling not in ("random_perturb", "uniform"):
            raise ValueError(
                f"unknown sampling mode {sampling!r}: use 'random_perturb' or 'uniform'"
            )
        self.sequences = sequences.reset_index(drop=True)
        self.classes = list(classes)
        self.sources = {
            name: store
            for name, store in (
                ("frames", frames),
                ("audio", audio),
                ("frame_labels", frame_labels),
                ("masks", masks),
                ("person_confidence", presence),
            )
            if store is not None
        }
        self.num_frames = num_frames
        self.sampling = sampling
        self.seed = seed
        self.epoch = 0
        self.cache = cache
        self.augment_audio = augment_audio
        self._cached: dict[tuple[str, str], np.ndarray] = {}
        # per item, read once: (sequence_id, n_frames, sequence labels (C,)); a pandas row per
        # item cost about a tenth of a demo model's training step
        self._items = [
            (str(sequence_id), int(n_frames), multi_hot(list(labels), self.classes))
            for sequence_id, n_frames, labels in zip(self.sequences["sequence_id"],
                                                     self.sequences["n_frames"],
                                                     self.sequences["labels"])
        ]

    def set_epoch(self, epoch: int) -> None:
        """Use the random frame draws of ``epoch`` (random_perturb only)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.sequences)

    def _array(self, source: str, sequence_id: str) -> np.ndarray:
        if not self.cache:
            return self.sources[source][sequence_id]
        key = (source, sequence_id)
        if key not in self._cached:
            self._cached[key] = np.asarray(self.sources[source][sequence_id]).copy()
        return self._cached[key]

    def __getitem__(self, item: int) -> dict[str, Any]:
        sequence_id, n_frames, sequence_labels = self._items[item]
        rng = np.random.default_rng((self.seed, self.epoch, item))
        indices = sample_indices(n_frames, self.num_frames, self.sampling, rng)
        frames = torch.from_numpy(np.asarray(self._array("frames", sequence_id)[:, indices]))
        if frames.ndim == 5:  # pixels (V, T, H, W, 3), not cached embeddings (V, T, H_v)
            frames = frames.permute(0, 1, 4, 2, 3).contiguous()
        elif frames.dtype == torch.float16:
            frames = frames.float()
        sample: dict[str, Any] = {
            "frames": frames,
            "sequence_labels": torch.from_numpy(sequence_labels.copy()),
            "indices": torch.from_numpy(indices),
            "sequence_id": sequence_id,
        }
        if "audio" in self.sources:
            audio = torch.from_numpy(
                np.asarray(self._array("audio", sequence_id)[:, indices], np.float32)
            )
            if self.augment_audio is not None and audio.ndim == 4:  # log-mels, not embeddings
                generator = torch.Generator().manual_seed(
                    int(np.random.SeedSequence((self.seed, self.epoch, item, 1)).generate_state(1)[0]))
                audio = self.augment_audio(audio, generator)
            sample["audio"] = audio
        if "frame_labels" in self.sources:
            labels = self._array("frame_labels", sequence_id)[indices]
            sample["frame_labels"] = torch.from_numpy(np.asarray(labels, np.float32))
        for name in ("masks", "person_confidence"):
            if name in self.sources:
                values = self._array(name, sequence_id)[:, indices]
                sample[name] = torch.from_numpy(np.asarray(values, np.float32))
        return sample
