"""Pools of worker processes, started by spawning: a forked child of a process that has used torch's
OpenMP thread pool can hang in that pool, so no pool of the project forks. Workers log through this
process's handlers (:func:`vicokd.logs.worker_logging`)."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from vicokd.logs import worker_logging


def spawned_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` spawned processes (each imports the project once)."""
    context = get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=context, **worker_logging(context))
