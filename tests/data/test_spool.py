"""The ingestion spool: arrays parked on disk, the folder removed when done or after a kill."""
import gc
import subprocess
import sys

import numpy as np

from vicokd.data.spool import SPOOL_NAME, ArraySpool
from vicokd.datasets.staging import host_name


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
