"""Array stores: lazy per-key loading, generations swapped in whole, stale staging swept."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kedro.io import DatasetError

from vicokd.datasets import ArrayStore, ArrayStoreDataset, StampedArrays
from vicokd.datasets.staging import host_name, staging_path, sweep_stale


def dead_pid() -> int:
    """The id of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def stale_staging(folder: Path, name: str) -> Path:
    """A staging folder as left by a killed writer on this host."""
    path = folder / f".{name}.{host_name()}.{dead_pid()}.0123abcd.tmp"
    path.mkdir(parents=True)
    (path / "partial.npy").write_bytes(b"\x93NUMPY")
    return path


def test_round_trip_is_a_lazy_read_only_mapping(tmp_path):
    dataset = ArrayStoreDataset(str(tmp_path / "frames"))
    assert not dataset.exists()
    arrays = {"Home1/01/00-Part1": np.arange(6).reshape(2, 3), "Home2/01/00-Part1": np.ones(4)}
    dataset.save({"Home1/01/00-Part1": arrays["Home1/01/00-Part1"],
                  "Home2/01/00-Part1": lambda: arrays["Home2/01/00-Part1"]})
    store = dataset.load()
    assert isinstance(store, ArrayStore) and dataset.exists()
    assert sorted(store) == sorted(arrays) and len(store) == 2
    assert isinstance(store["Home1/01/00-Part1"], np.memmap)  # read lazily, one key at a time
    np.testing.assert_array_equal(store["Home1/01/00-Part1"], arrays["Home1/01/00-Part1"])
    np.testing.assert_array_equal(store["Home2/01/00-Part1"], np.ones(4))
    assert store.ingestion_id is None
    with pytest.raises(KeyError, match="not in the array store"):
        store["Home3/01/00-Part1"]
    assert not hasattr(store, "__setitem__")


def test_a_new_save_replaces_the_generation_and_deletes_the_old(tmp_path):
    dataset = ArrayStoreDataset(str(tmp_path / "masks"))
    dataset.save({"a": np.zeros(2)})
    first = dataset.load().path
    dataset.save({"b": np.ones(3)})
    second = dataset.load()
    assert list(second) == ["b"] and second.path != first
    assert not first.exists()
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == sorted(
        ["CURRENT", second.path.name]
    )


def test_an_interrupted_save_leaves_the_previous_store_and_no_staging(tmp_path):
    dataset = ArrayStoreDataset(str(tmp_path / "masks"))
    dataset.save({"a": np.arange(3)})
    before = sorted(p.name for p in (tmp_path / "masks").iterdir())

    def failing():
        raise OSError("disk full")

    with pytest.raises(Exception, match="disk full"):
        dataset.save({"a": np.arange(5), "b": failing})
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == before
    np.testing.assert_array_equal(dataset.load()["a"], np.arange(3))


def test_stale_staging_of_a_killed_writer_is_swept_at_the_next_save(tmp_path):
    folder = tmp_path / "masks"
    stale = stale_staging(folder, "20260101T000000000000Z-00000000")
    live = staging_path(folder / "20260101T000000000001Z-00000000")  # this process: alive
    live.mkdir()
    other_host = folder / f".x.{host_name()}-elsewhere.{dead_pid()}.0123abcd.tmp"
    other_host.mkdir()
    ArrayStoreDataset(str(folder)).save({"a": np.zeros(1)})
    assert not stale.exists()
    assert live.exists() and other_host.exists()  # a live writer, another host's writer


def test_sweep_can_be_limited_to_one_target_name(tmp_path):
    mine = stale_staging(tmp_path, "vicokd-spool")
    theirs = stale_staging(tmp_path, "something-else")
    assert sweep_stale(tmp_path, "vicokd-spool") == [mine]
    assert theirs.exists()


def test_a_store_that_was_never_written_says_so(tmp_path):
    with pytest.raises(DatasetError, match="never written"):
        ArrayStoreDataset(str(tmp_path / "absent")).load()


def test_staging_names_differ_per_writer(tmp_path):
    names = {staging_path(tmp_path / "last.pt").name for _ in range(50)}
    assert len(names) == 50
    assert all(f".{os.getpid()}." in name for name in names)


def test_a_store_of_the_old_flat_layout_asks_to_be_rewritten(tmp_path):
    (tmp_path / "index.json").write_text('{"a": "a.npy"}')
    with pytest.raises(DatasetError, match="older version of vicokd"):
        ArrayStore(tmp_path)


def never(*_):
    raise AssertionError("the store computed arrays it already holds")


def test_a_fingerprinted_save_already_held_computes_nothing(tmp_path):
    dataset = ArrayStoreDataset(str(tmp_path / "features"))
    dataset.save(StampedArrays({"a": lambda: np.arange(3)}, "ingestion-1", "fp-1"))
    first = dataset.load()
    assert (first.ingestion_id, first.fingerprint) == ("ingestion-1", "fp-1")
    dataset.save(StampedArrays({"a": never}, "ingestion-1", "fp-1"))
    assert dataset.load().path == first.path  # the same generation, untouched

    # the same arrays for another ingestion (e.g. only labels changed): stamped anew, hard-linked
    dataset.save(StampedArrays({"a": never}, "ingestion-2", "fp-1"))
    restamped = dataset.load()
    assert restamped.path != first.path and restamped.ingestion_id == "ingestion-2"
    assert restamped.fingerprint == "fp-1"
    np.testing.assert_array_equal(restamped["a"], np.arange(3))
    assert (restamped.path / "a.npy").stat().st_nlink == 1  # the old generation is deleted
    assert sorted(p.name for p in (tmp_path / "features").iterdir()) == sorted(
        ["CURRENT", restamped.path.name])

    dataset.save(StampedArrays({"a": lambda: np.ones(2)}, "ingestion-2", "fp-2"))  # other inputs
    np.testing.assert_array_equal(dataset.load()["a"], np.ones(2))


def test_saves_without_fingerprint_are_always_written(tmp_path):
    dataset = ArrayStoreDataset(str(tmp_path / "masks"))
    dataset.save(StampedArrays({"a": np.zeros(2)}, "ingestion-1"))
    first = dataset.load().path
    dataset.save(StampedArrays({"a": np.ones(2)}, "ingestion-1"))
    assert dataset.load().path != first and dataset.load()["a"].tolist() == [1, 1]


def test_an_index_without_fingerprint_still_loads(tmp_path):
    (tmp_path / "index.json").write_text('{"ingestion_id": null, "arrays": {}}')
    assert ArrayStore(tmp_path).fingerprint is None
