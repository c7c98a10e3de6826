"""The cores a run may use, and the one place that sizes and starts pools of worker processes.

Never more threads than cores: a stage runs ``workers`` processes of ``threads`` torch (OpenMP,
BLAS) threads each with ``workers × threads ≤`` :func:`usable_cores` — the CPUs of this process's
affinity mask, capped by a cgroup v2 CPU quota where one is set. A configured size above that is
shrunk (threads first: processes keep their cores busy between Python calls, threads wait on each
other) with an INFO line.

Pools are started by spawning: a forked child of a process that has used torch's OpenMP thread
pool can hang in that pool, so no pool of the project forks. Each worker sets its thread counts in
its initializer, before it runs anything, and logs through this process's handlers
(:func:`vicokd.logs.worker_logging`).
"""
from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from vicokd.logs import worker_logging

log = logging.getLogger(__name__)

#: The cgroup v2 CPU quota of this process's cgroup (``max 100000`` when none is set).
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")

#: Environment variables that size the thread pools of OpenMP and the BLAS libraries.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def cgroup_cpu_quota(cpu_max: Path = CPU_MAX) -> float | None:
    """The CPUs a cgroup v2 quota allows (``"150000 100000"`` gives 1.5), None when no quota is
    set or the file is absent or unreadable."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return int(quota) / int(period)


def usable_cores(cpu_max: Path = CPU_MAX) -> int:
    """The cores this process may use: its CPU affinity (``os.sched_getaffinity``), capped by the
    cgroup CPU quota rounded down (a quota of 1.5 CPUs gives 1), and at least 1."""
    cores = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_quota(cpu_max)
    if quota is not None:
        cores = min(cores, math.floor(quota))
    return max(1, cores)


@dataclass(frozen=True)
class Parallelism:
    """``workers`` processes (1: the calling process alone) of ``threads`` threads each."""

    workers: int
    threads: int


def fit_to_cores(what: str, workers: int, threads: int, cores: int | None = None) -> Parallelism:
    """``workers × threads`` shrunk to at most ``cores`` (default :func:`usable_cores`): threads
    first, then workers; an INFO line names ``what`` when the request is shrunk.

    Args:
        what: the stage or parameter, for the log line (e.g. ``"training.parallel_jobs × num_threads"``).
        workers: processes asked for (0 counts as 1: the work runs in the calling process).
        threads: threads per process asked for.
    """
    cores = usable_cores() if cores is None else cores
    asked = Parallelism(max(workers, 1), max(threads, 1))
    fitted_threads = max(1, min(asked.threads, cores // asked.workers))
    fitted = Parallelism(max(1, min(asked.workers, cores // fitted_threads)), fitted_threads)
    if fitted != asked:
        log.info("%s: %d process(es) × %d thread(s) asked for, %d core(s) usable: %d × %d", what,
                 asked.workers, asked.threads, cores, fitted.workers, fitted.threads)
    return fitted


def beside_loaders(what: str, loaders: int) -> Parallelism:
    """One process's threads beside ``loaders`` DataLoader processes of one thread each: the
    loaders fitted to leave a core (INFO line when shrunk), the threads take the other cores
    (``workers`` of the result counts the loaders)."""
    cores = usable_cores()
    fitted = min(loaders, cores - 1)
    if fitted != loaders:
        log.info("%s: %d DataLoader process(es) asked for, %d core(s) usable: %d", what, loaders,
                 cores, fitted)
    return Parallelism(fitted, cores - fitted)


def limit_threads(threads: int) -> None:
    """Size this process's thread pools to ``threads``: torch's intra-op pool, and OpenMP / BLAS
    (the environment read by libraries loaded later, threadpoolctl for those already loaded)."""
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads)


def spawned_pool(workers: int, threads: int = 1, what: str = "worker pool") -> ProcessPoolExecutor:
    """A pool of spawned processes for ``what`` (named in the log line), sized by
    :func:`fit_to_cores`: at most ``workers`` processes of ``threads`` threads, and no more threads
    than cores; each worker calls :func:`limit_threads` and sets up its logging before its first
    task."""
    size = fit_to_cores(what, workers, threads)
    context = get_context("spawn")
    logging_setup = worker_logging(context)
    return ProcessPoolExecutor(size.workers, mp_context=context, initializer=_start_worker,
                               initargs=(size.threads, logging_setup["initializer"],
                                         logging_setup["initargs"]))


def _start_worker(threads: int, start_logging: Callable[..., None], logging_args: tuple) -> None:
    """A pool worker's initializer: its threads, then its logging."""
    limit_threads(threads)
    start_logging(*logging_args)
