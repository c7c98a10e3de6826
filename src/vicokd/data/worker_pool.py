"""Work items in spawned worker processes, results in item order, surviving a worker's death.

A worker can die without a Python exception (FFmpeg crashing on a bad file, the kernel's
out-of-memory killer); ``ProcessPoolExecutor`` then fails every item still pending with
``BrokenProcessPool``. Here each item is a future of its own, and each worker notes in a file of
its own (``<progress folder>/<pid>``) which item, and which file of it, it is working on. When a
pool breaks, the results already made are kept, the items the dead workers held are run again one
at a time (so the item that kills its worker is told apart from those a dying pool took down with
it), and a new pool takes the rest.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

from vicokd.processes import spawned_pool

Item = TypeVar("Item")
Result = TypeVar("Result")

#: ``announce(file)``: the worker is now working on ``file`` (None: on no file in particular).
Announce = Callable[[str | None], None]


def map_in_workers(
    work: Callable[[Item, Announce], Result],
    items: Sequence[Item],
    workers: int,
    died: Callable[[Item, str | None], Result],
) -> Iterator[Result]:
    """``work(item, announce)`` for each item in ``workers`` spawned processes, yielded in order.

    ``work`` must be picklable (a module-level function or a partial of one) and may call
    ``announce(file)`` to say which file it is reading. An item whose worker dies while it runs
    alone gets ``died(item, file)``, ``file`` the last it announced (None when none); the other
    items of a broken pool are run again. An exception raised by ``work`` propagates.
    """
    done: dict[int, Result] = {}
    following = 0
    with tempfile.TemporaryDirectory(prefix="vicokd-workers-") as progress:
        runs = _run(partial(_in_worker, work, progress), items, workers, died, Path(progress))
        with closing(runs):  # leaving early shuts the pool down before the folder is removed
            for index, result in runs:
                done[index] = result
                while following in done:
                    yield done.pop(following)
                    following += 1


def _in_worker(
    work: Callable[[Item, Announce], Result], progress: str, index: int, item: Item
) -> Result:
    """Run in a worker: ``work(item, announce)``, noting ``index`` and the file announced in
    ``<progress>/<pid>`` until it returns."""
    marker = Path(progress) / str(os.getpid())

    def announce(file: str | None) -> None:  # written whole or not at all: a worker may die at any time
        partial = marker.with_suffix(".partial")
        partial.write_text(f"{index}\n{file or ''}")
        os.replace(partial, marker)

    announce(None)
    try:
        return work(item, announce)
    finally:  # not reached when the process dies: the note stays for the parent to read
        marker.unlink(missing_ok=True)


def _held(progress: Path) -> dict[int, str | None]:
    """``index -> file`` of the items whose worker died while working on them (their notes are
    removed)."""
    held = {}
    for marker in progress.iterdir():
        if marker.suffix != ".partial":  # a note still being written when its worker died says nothing
            index, _, file = marker.read_text().partition("\n")
            held[int(index)] = file or None
        marker.unlink(missing_ok=True)
    return held


@contextmanager
def _pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A spawned pool that, when left early, cancels the items it has not started."""
    pool = spawned_pool(workers)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run(
    work: Callable[[int, Item], Result],
    items: Sequence[Item],
    workers: int,
    died: Callable[[Item, str | None], Result],
    progress: Path,
) -> Iterator[tuple[int, Result]]:
    """``(index, result)`` of every item, as results come; a new pool after each break."""
    todo = list(range(len(items)))
    alone: list[int] = []  # held by a worker that died: each runs with no other item beside it
    while todo or alone:
        with _pool(workers) as pool:
            broken = yield from _run_alone(pool, work, items, alone, died, progress)
            futures = {} if broken else {i: pool.submit(work, i, items[i]) for i in todo}
            yield from _results(futures)
        if futures:  # every worker has stopped: the notes left are those of the dead
            todo = [index for index, future in futures.items() if not _succeeded(future)]
            held = [index for index in sorted(_held(progress)) if index in todo]
            alone = held or todo[:1]
            todo = [index for index in todo if index not in alone]


def _run_alone(
    pool: ProcessPoolExecutor,
    work: Callable[[int, Item], Result],
    items: Sequence[Item],
    alone: list[int],
    died: Callable[[Item, str | None], Result],
    progress: Path,
) -> Generator[tuple[int, Result], None, bool]:
    """Run the items indexed in ``alone`` one at a time, taking them off the list, until one kills
    its worker (it gets ``died``); returns whether one did (the pool is then broken)."""
    while alone:
        index = alone.pop(0)
        try:
            result = pool.submit(work, index, items[index]).result()
        except BrokenProcessPool:
            yield index, died(items[index], _held(progress).get(index))
            return True
        yield index, result
    return False


def _results(futures: dict[int, Future]) -> Iterator[tuple[int, Result]]:
    """``(index, result)`` of the futures in order until one fails with BrokenProcessPool, then of
    those that had finished anyway; other exceptions propagate."""
    for index, future in futures.items():
        try:
            result = future.result()
        except BrokenProcessPool:
            break
        yield index, result
    else:
        return
    for later, future in futures.items():
        if later > index and _succeeded(future):
            yield later, future.result()


def _succeeded(future: Future) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None
