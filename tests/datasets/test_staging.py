"""A full disk is named: every staged writer reports the path it was writing and the space left,
removes its staging files and leaves what is already on disk as it was."""
import errno
import os
import shutil
from collections import namedtuple
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from kedro.io import DatasetError

from vicokd.datasets import ArrayStoreDataset, SequenceTableDataset, staging
from vicokd.datasets.ingestion_stamp import stamp_table
from vicokd.datasets.staging import DiskFullError, naming_full_disk, staged_folder

Usage = namedtuple("Usage", "total used free")


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def free_space(monkeypatch, free: int) -> None:
    """Pretend every filesystem has ``free`` bytes left."""
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10 * 2**30, 0, free))


def hidden_entries(folder: Path) -> list[str]:
    """Staging entries (dot names) anywhere under ``folder``."""
    return [p.name for p in folder.rglob(".*")]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT], ids=["ENOSPC", "EDQUOT"])
def test_staged_folder_names_the_target_and_the_free_space_and_keeps_the_old_folder(
    tmp_path, monkeypatch, code
):
    target = tmp_path / "encoder"
    with staged_folder(target) as folder:
        (folder / "weights.bin").write_bytes(b"old")
    free_space(monkeypatch, 1536)
    with pytest.raises(DiskFullError) as error, staged_folder(target) as folder:
        (folder / "weights.bin").write_bytes(b"new, partly written")
        raise OSError(code, os.strerror(code))
    assert str(error.value) == (
        f"Disk full: writing {target} failed with 1.5 KiB free on its filesystem (OSError: "
        f"[Errno {code}] {os.strerror(code)}). Free some space there (or point the output "
        "elsewhere) and run again; files written before are untouched."
    )
    assert error.value.errno == errno.ENOSPC and error.value.filename == str(target)
    assert (target / "weights.bin").read_bytes() == b"old"
    assert hidden_entries(tmp_path) == []


def test_an_array_store_generation_write_names_the_store_and_keeps_the_live_generation(
    tmp_path, monkeypatch
):
    store = ArrayStoreDataset(str(tmp_path / "masks"))
    store.save({"s1": np.arange(3)})
    saves = []

    def second_save_fails(path, *args, **kwargs):  # the first array fits, the second does not
        saves.append(path)
        if len(saves) == 2:
            no_space()
        return real_save(path, *args, **kwargs)

    real_save = np.save
    monkeypatch.setattr(np, "save", second_save_fails)
    with pytest.raises(DatasetError, match=rf"Disk full: writing {tmp_path / 'masks'}/\S+ failed "
                       r"with [\d.]+ [KMGT]?i?B free on its filesystem \(OSError: \[Errno 28\]"):
        store.save({"s1": np.ones(3), "s2": np.ones(3)})
    monkeypatch.undo()
    assert store.load()["s1"].tolist() == [0, 1, 2]
    assert hidden_entries(tmp_path) == []
    assert len([p for p in (tmp_path / "masks").iterdir() if p.is_dir()]) == 1


def test_the_sequence_table_save_names_the_parquet_file_and_keeps_the_old_table(
    tmp_path, monkeypatch
):
    path = tmp_path / "sequences.parquet"
    table = SequenceTableDataset(str(path))
    table.save(stamp_table(pd.DataFrame({"sequence_id": ["a"]}), "first"))
    monkeypatch.setattr(pq, "write_table", no_space)
    with pytest.raises(DatasetError, match=rf"Disk full: writing {path} failed"):
        table.save(stamp_table(pd.DataFrame({"sequence_id": ["b"]}), "second"))
    monkeypatch.undo()
    assert table.load()["sequence_id"].tolist() == ["a"]
    assert hidden_entries(tmp_path) == []


def test_a_failed_write_with_no_space_left_is_a_full_disk_whatever_the_writer_says(
    tmp_path, monkeypatch
):
    """np.save on a full disk says "384000 requested and 30656 written" (no errno), torch.save
    "unexpected pos"; with less than NEARLY_FULL_BYTES free, both are a full disk."""
    target = tmp_path / "array.npy"
    free_space(monkeypatch, 4096)
    numpy_says = OSError("384000 requested and 30656 written")
    torch_says = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 5")
    for said in (numpy_says, torch_says):
        with pytest.raises(DiskFullError) as error, naming_full_disk(target):
            raise said
        assert str(error.value).startswith(
            f"Disk full: writing {target} failed with 4.0 KiB free on its filesystem "
            f"({type(said).__name__}: {said})."
        )
        assert error.value.__cause__ is said


def test_other_errors_pass_unchanged(tmp_path, monkeypatch):
    free_space(monkeypatch, staging.NEARLY_FULL_BYTES * 100)
    for error in (OSError("384000 requested and 30656 written"), RuntimeError("unexpected pos"),
                  PermissionError(errno.EACCES, "Permission denied"), ValueError("bad")):
        with pytest.raises(type(error)) as raised, naming_full_disk(tmp_path / "x"):
            raise error
        assert raised.value is error
