"""The ingestion spool: arrays parked on disk, the folder removed when done or after a kill."""
import errno
import gc
import subprocess
import sys

import numpy as np
import pytest

from vicokd.data.spool import SPOOL_NAME, ArraySpool
from vicokd.datasets.staging import DiskFullError, host_name


def test_put_returns_a_loader_and_close_removes_the_folder(tmp_path):
    spool = ArraySpool(tmp_path)
    load = spool.put(np.arange(12).reshape(3, 4))
    assert spool.path.parent == tmp_path and spool.path.name.startswith(f".{SPOOL_NAME}.")
    np.testing.assert_array_equal(load(), np.arange(12).reshape(3, 4))
    spool.close()
    assert list(tmp_path.iterdir()) == []


def test_the_folder_lives_as_long_as_a_loader(tmp_path):
    spool = ArraySpool(tmp_path)
    load = spool.put(np.ones(3))
    del spool
    gc.collect()
    assert load().tolist() == [1.0, 1.0, 1.0]
    del load
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_a_killed_processs_spool_is_swept_when_the_next_spool_starts(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    stale = tmp_path / f".{SPOOL_NAME}.{host_name()}.{child.pid}.0123abcd.tmp"
    stale.mkdir()
    (stale / "000000.npy").write_bytes(b"partial")
    unrelated = tmp_path / f".other.{host_name()}.{child.pid}.0123abcd.tmp"
    unrelated.mkdir()
    alive = ArraySpool(tmp_path)
    spool = ArraySpool(tmp_path)
    assert not stale.exists()
    assert unrelated.exists() and alive.path.exists() and spool.path.exists()


def test_a_full_disk_names_the_spool_file_and_leaves_no_partial_file(tmp_path, monkeypatch):
    spool = ArraySpool(tmp_path)
    first = spool.put(np.arange(3))

    def no_space(path, array, **kwargs):
        path.write_bytes(b"\x93NUMPY partly")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", no_space)
    with pytest.raises(DiskFullError, match=rf"^Disk full: writing {spool.path / '000001.npy'} "
                       r"failed with [\d.]+ \S+ free on its filesystem"):
        spool.put(np.ones(3))
    assert sorted(p.name for p in spool.path.iterdir()) == ["000000.npy"]
    assert first().tolist() == [0, 1, 2]
