"""The training data path: each epoch's DataLoader (workers, pinned memory, prefetch) and the time
the loop spends waiting on it."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from vicokd.training.distributed import EpochShard
from vicokd.training.settings import TrainingSettings


def epoch_loader(train_set: Dataset, settings: TrainingSettings, epoch_seed: int, rank: int,
                 num_replicas: int, pin_memory: bool) -> DataLoader:
    """The DataLoader of one epoch in one process: its :class:`EpochShard` of the clips shuffled
    with ``epoch_seed``, in micro-batches of ``settings.micro_batch_size``.

    A new loader (and so new worker processes) per epoch: the workers copy ``train_set`` after its
    ``set_epoch``, so each epoch's random frames reach them, and an item's frames depend only on
    (seed, epoch, item), not on which worker loads it. ``pin_memory`` is the caller's decision
    (useful only when batches go to a GPU).
    """
    generator = torch.Generator().manual_seed(epoch_seed)
    # Kept from the loop before Fabric, so that earlier runs' shuffling repeats: its progress bar
    # (tqdm.auto) started each epoch's loader twice, so two worker seeds were drawn from the
    # generator before the permutation. The loader draws one; this is the other.
    torch.empty((), dtype=torch.int64).random_(generator=generator)
    workers = settings.num_workers
    return DataLoader(
        train_set,
        batch_size=settings.micro_batch_size,
        sampler=EpochShard(len(train_set), num_replicas, rank, generator),
        generator=generator,
        num_workers=workers,
        pin_memory=pin_memory,
        prefetch_factor=settings.prefetch_factor if workers > 0 else None,
    )


class WaitClock:
    """Iterates ``batches``, applying ``prepare`` (e.g. the copy to the device) to each, and
    measures ``waited``: the seconds spent getting and preparing the next batch (starting the
    workers included), and ``elapsed``: the seconds from the start of the iteration to its end, so
    ``waited / elapsed`` is the share of the steps spent waiting for data."""

    def __init__(self, batches: Iterable[Any], prepare: Callable[[Any], Any]):
        self.batches, self.prepare = batches, prepare
        self.waited = self.elapsed = 0.0

    def __iter__(self) -> Iterator[Any]:
        began = asked = time.perf_counter()
        iterator = iter(self.batches)
        while True:
            try:
                batch = self.prepare(next(iterator))
            except StopIteration:
                break
            self.waited += time.perf_counter() - asked
            yield batch
            asked = time.perf_counter()
        self.waited += time.perf_counter() - asked
        self.elapsed = time.perf_counter() - began
