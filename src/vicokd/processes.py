"""Pools of worker processes, started by spawning: a forked child of a process that has used torch's
OpenMP thread pool can hang in that pool, so no pool of the project forks."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context


def spawned_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` spawned processes (each imports the project once)."""
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
