"""Training several small models at once on one machine: a pool of worker processes.

The demo's models are so small that one process keeps one CPU core busy at most; the jobs of one run
(its homes and seeds) are independent, so ``training.parallel_jobs`` processes train them side by
side. The pool is started once per Kedro run (spawned processes import the project once) and ended
when the process exits. Several GPUs or nodes are Fabric's business (``training.devices``), not
this pool's.
"""
from __future__ import annotations

import functools
from concurrent.futures import ProcessPoolExecutor

from vicokd.processes import spawned_pool


@functools.cache
def worker_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` spawned processes, kept for the life of this process (one pool per size)."""
    return spawned_pool(workers)
