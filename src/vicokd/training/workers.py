"""Training several small models at once on one machine: a pool of worker processes.

The demo's models are so small that one process keeps one CPU core busy at most; the jobs of one run
(its homes and seeds) are independent, so ``training.parallel_jobs`` processes train them side by
side, each with ``training.num_threads`` torch threads and ``training.num_workers`` DataLoader
processes, all of it fitted to the cores (:func:`fitted_to_cores`). The pool is started once per
Kedro run (spawned processes import the project once) and ended when the process exits. Several
GPUs or nodes are Fabric's business (``training.devices``), not this pool's.
"""
from __future__ import annotations

import functools
from concurrent.futures import ProcessPoolExecutor

from vicokd.processes import fit_to_cores, spawned_pool
from vicokd.training.settings import TrainingSettings


def fitted_to_cores(settings: TrainingSettings) -> TrainingSettings:
    """``settings`` with ``parallel_jobs × (num_threads + num_workers)`` at most the cores this
    process may use (``vicokd.processes.fit_to_cores``; the DataLoader processes give up their
    cores first). None of these enters a run's fingerprint."""
    per_job = settings.num_threads + settings.num_workers
    size = fit_to_cores("training.parallel_jobs × (num_threads + num_workers)",
                        settings.parallel_jobs, per_job)
    threads = min(settings.num_threads, size.threads)
    return settings.with_overrides({"parallel_jobs": size.workers, "num_threads": threads,
                                    "num_workers": min(settings.num_workers, size.threads - threads)})


@functools.cache
def worker_pool(workers: int, threads: int) -> ProcessPoolExecutor:
    """``workers`` spawned processes of ``threads`` torch threads, kept for the life of this process
    (one pool per size)."""
    return spawned_pool(workers, threads, what="training.parallel_jobs")
