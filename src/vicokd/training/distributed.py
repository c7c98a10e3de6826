"""One training loop on one CPU, one GPU, several GPUs or several nodes, through Lightning Fabric.

:func:`launch` makes the Fabric of the ``training`` settings and joins this process to the others
(started by ``torchrun`` or ``fabric run``, one per device; see docs/distributed.md).
:class:`EpochShard` gives each process its share of an epoch's shuffled clips, and
:func:`sum_over_processes` adds up per-process numbers (loss sums, diagnostics, data wait).
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch
from torch.utils.data import Sampler

from vicokd.training.device import resolve_accelerator, training_precision
from vicokd.training.settings import TrainingSettings

if TYPE_CHECKING:  # imported when training starts (with torch._dynamo, about 2 s)
    from lightning_fabric import Fabric


def launch(settings: TrainingSettings) -> Fabric:
    """The launched Fabric of ``settings``: ``accelerator``, ``devices`` per node, ``num_nodes``,
    ``strategy`` and ``precision`` (fp32 on the CPU).

    Several processes must have been started by a launcher (``torchrun``, ``fabric run``, SLURM's
    ``srun``) that runs the same command once per device: launching them from inside a Kedro node
    would run the whole ``kedro run`` again in each.

    Raises:
        ValueError: CUDA requested but absent, or several processes asked for without a launcher.
    """
    from lightning_fabric import Fabric

    accelerator = resolve_accelerator(settings.accelerator)
    fabric = Fabric(accelerator=accelerator, devices=settings.devices, num_nodes=settings.num_nodes,
                    strategy=settings.strategy,
                    precision=training_precision(accelerator, settings.precision))
    environment = getattr(fabric.strategy, "cluster_environment", None)
    if settings.world_size > 1 and not (environment and environment.creates_processes_externally):
        raise ValueError(
            f"training.devices={settings.devices} × training.num_nodes={settings.num_nodes} asks for "
            f"{settings.world_size} processes, but this one was not started by a launcher: run e.g. "
            f"`torchrun --nproc-per-node {settings.devices} -m vicokd --pipelines training "
            f"--params training.devices={settings.devices}` (docs/distributed.md)"
        )
    if os.environ.get("LT_CLI_USED") != "1":  # `fabric run` has already set the processes up
        fabric.launch()
    return fabric


def sum_over_processes(fabric: Fabric, values: torch.Tensor) -> torch.Tensor:
    """``values`` (on ``fabric.device``) summed element-wise over all processes, in place; the
    tensor itself with one process."""
    if fabric.world_size > 1:
        torch.distributed.all_reduce(values, op=torch.distributed.ReduceOp.SUM)
    return values


class EpochShard(Sampler[int]):
    """One process's share of an epoch: a permutation of the ``size`` clips drawn from
    ``generator`` when iterated, padded by its first clips to a multiple of ``num_replicas``, and
    every ``num_replicas``-th clip of it from position ``rank``.

    With one process this is the order of ``DataLoader(shuffle=True, generator=generator)``
    (given the loader the same generator), so a single process trains exactly as before. With
    ``num_replicas`` processes and micro-batches of ``b / num_replicas`` clips, the clips of one
    optimiser step over all processes are those of one batch of ``b`` in a single process.
    (``DistributedSampler`` seeds a generator of its own, so its order differs from the single
    process one, and Fabric resets its epoch to a count of iterations.)
    """

    def __init__(self, size: int, num_replicas: int, rank: int, generator: torch.Generator):
        self.size, self.num_replicas, self.rank, self.generator = size, num_replicas, rank, generator

    def __len__(self) -> int:
        return math.ceil(self.size / self.num_replicas)

    def __iter__(self) -> Iterator[int]:
        order = torch.randperm(self.size, generator=self.generator).tolist()
        padded = len(self) * self.num_replicas
        order = (order * math.ceil(padded / max(self.size, 1)))[:padded]
        return iter(order[self.rank::self.num_replicas])
