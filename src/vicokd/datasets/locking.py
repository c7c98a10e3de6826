"""One process at a time in a folder (e.g. a training run's checkpoint folder).

The lock is an ``flock`` on ``<folder>/.lock``: the kernel releases it when its holder exits, even
when killed, so a crashed run never leaves the folder locked. The holder writes its host and
process id into the file, so a refused process can say who holds the folder.
"""
from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vicokd.datasets.staging import host_name

log = logging.getLogger(__name__)

LOCK_FILE = ".lock"


class FolderLockedError(RuntimeError):
    """Another process holds the folder's lock; the message names the folder and the holder."""


def _holder(lock_file: Path) -> str:
    text = lock_file.read_text().strip() if lock_file.is_file() else ""
    return text or "another process"


@contextmanager
def run_lock(folder: str | Path, wait: bool = False) -> Iterator[Path]:
    """Hold ``folder``'s lock for the ``with`` block (the folder is created when missing).

    Args:
        folder: the folder one process at a time may write in.
        wait: when another process holds the lock, wait for it (logging who holds it) instead of
            raising.

    Raises:
        FolderLockedError: ``wait`` is False and another process (or another ``run_lock`` of this
            process) holds the lock; the message names the folder and the holder's pid.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock_file = folder / LOCK_FILE
    with lock_file.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(lock_file)
            if not wait:
                raise FolderLockedError(
                    f"{folder} is in use by {holder}: two runs must not write the same folder. "
                    f"Wait for it to finish or stop it, then run again."
                ) from None
            log.warning("%s is in use by %s; waiting for it to finish.", folder, holder)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"process {os.getpid()} on {host_name()}\n")
            handle.flush()
            yield folder
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
