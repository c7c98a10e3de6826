"""run_lock: one process at a time in a folder, with the holder named to the others."""
import multiprocessing
import os
import time

import pytest

from vicokd.datasets.locking import FolderLockedError, run_lock

FORK = multiprocessing.get_context("fork")  # the child starts with vicokd already imported


def _hold(folder, seconds: float, ready) -> None:
    with run_lock(folder):
        ready.set()
        time.sleep(seconds)


def hold_lock(folder, seconds: float):
    """Another process holding ``folder``'s lock for ``seconds`` (returns once it holds it)."""
    ready = FORK.Event()
    holder = FORK.Process(target=_hold, args=(folder, seconds, ready))
    holder.start()
    assert ready.wait(30)
    return holder


def test_a_second_process_is_refused_with_the_folder_and_the_holders_pid(tmp_path):
    holder = hold_lock(tmp_path / "run", 30)
    try:
        with pytest.raises(FolderLockedError) as error, run_lock(tmp_path / "run"):
            pass
        assert str(tmp_path / "run") in str(error.value)
        assert f"process {holder.pid} on " in str(error.value)
    finally:
        holder.kill()  # as `kill -9` would: the kernel releases the lock
        holder.join()
    with run_lock(tmp_path / "run") as folder:
        assert folder == tmp_path / "run"
        assert (folder / ".lock").read_text().startswith(f"process {os.getpid()} on ")


def test_waiting_takes_the_lock_once_the_holder_is_done(tmp_path):
    holder = hold_lock(tmp_path, 1.0)
    began = time.monotonic()
    with run_lock(tmp_path, wait=True):
        waited = time.monotonic() - began
        holder.join(5)
        assert holder.exitcode == 0  # the holder finished its block before we got in
    assert 0.5 < waited < 10


def test_the_same_process_cannot_take_a_folder_twice(tmp_path):
    with (
        run_lock(tmp_path),
        pytest.raises(FolderLockedError, match=f"process {os.getpid()}"),
        run_lock(tmp_path),
    ):
        pass
    with run_lock(tmp_path):  # released on exit
        pass
