import errno
import multiprocessing
import os
import re
from pathlib import Path

import pytest
import torch
from kedro.io import DatasetError, Version

from vicokd.datasets.staging import DiskFullError, host_name
from vicokd.datasets.torch_checkpoint import (
    CheckpointError,
    LazyCheckpoint,
    TorchCheckpointDataset,
    read_torch_file,
    write_torch_file,
)


def checkpoint(value: float):
    return {
        "config": {"dim": 4, "image_size": [32, 32]},
        "with_audio": True,
        "state_dict": {"w": torch.full((2, 2), value)},
        "metadata": {"home": "Home1", "best_epoch": 2, "val_map": 51.5},
    }


def test_versioned_round_trip_of_checkpoints_per_home(tmp_path):
    path = str(tmp_path / "teacher.pt")
    first = TorchCheckpointDataset(path, version=Version(None, "2024-01-01T00.00.00.000Z"))
    first.save({"Home1": checkpoint(1.0), "Home2": checkpoint(2.0)})
    second = TorchCheckpointDataset(path, version=Version(None, "2024-01-02T00.00.00.000Z"))
    second.save({"Home1": checkpoint(3.0)})

    latest = TorchCheckpointDataset(path, version=Version(None, None)).load()
    assert set(latest) == {"Home1"}
    assert torch.equal(latest["Home1"]["state_dict"]["w"], torch.full((2, 2), 3.0))
    pinned = TorchCheckpointDataset(path, version=Version("2024-01-01T00.00.00.000Z", None)).load()
    assert pinned["Home2"]["metadata"] == {"home": "Home1", "best_epoch": 2, "val_map": 51.5}
    assert pinned["Home2"]["config"] == {"dim": 4, "image_size": [32, 32]}
    assert sorted(p.name for p in (tmp_path / "teacher.pt").iterdir()) == [
        "2024-01-01T00.00.00.000Z", "2024-01-02T00.00.00.000Z"
    ]


def test_unversioned_single_checkpoint(tmp_path):
    dataset = TorchCheckpointDataset(str(tmp_path / "m.pt"))
    assert not dataset.exists()
    dataset.save(checkpoint(1.0))
    assert dataset.exists()
    assert dataset.load()["with_audio"] is True


def test_malformed_data_is_refused_and_nothing_written(tmp_path):
    dataset = TorchCheckpointDataset(str(tmp_path / "m.pt"))
    with pytest.raises(DatasetError, match="state_dict"):
        dataset.save({"Home1": {"weights": torch.zeros(1)}})
    assert not (tmp_path / "m.pt").exists()


def test_missing_and_corrupt_files_give_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        TorchCheckpointDataset(str(tmp_path / "absent.pt")).load()
    (tmp_path / "bad.pt").write_text("not a checkpoint")
    with pytest.raises(DatasetError, match="bad.pt is not a PyTorch checkpoint.*Retrain the model"):
        TorchCheckpointDataset(str(tmp_path / "bad.pt")).load()


def damaged(tmp_path, kind: str):
    """A ``last.pt`` as a stopped writer, a wrong copy or a hostile file would leave it."""
    path = tmp_path / kind / "last.pt"
    path.parent.mkdir()
    torch.save({"epoch": 3, "model": {"w": torch.zeros(1000)}}, path)
    whole = path.read_bytes()
    path.write_bytes({"truncated": whole[: len(whole) // 2], "empty": b"",
                      "garbage": b"<html>502 Bad Gateway</html>"}[kind])
    return path


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("truncated", "is truncated"),
        ("empty", r"is empty \(0 bytes\)"),
        ("garbage", "is not a PyTorch checkpoint"),
    ],
)
def test_unreadable_files_name_the_path_and_the_fix(tmp_path, kind, problem):
    path = damaged(tmp_path, kind)
    with pytest.raises(CheckpointError) as error:
        read_torch_file(path, "resume")
    message = str(error.value)
    assert message.startswith(f"Checkpoint {path} ")
    assert re.search(problem, message)
    assert "delete it and that run restarts from its first epoch" in message
    assert "weights_only" not in message
    with pytest.raises(CheckpointError, match="Retrain the model .* or restore the file"):
        read_torch_file(path, "model")


def test_a_torch_file_with_code_objects_is_refused_without_running_them(tmp_path):
    path = tmp_path / "best.pt"
    torch.save({"hook": os.getcwd}, path)
    with pytest.raises(CheckpointError, match="holds objects other than tensors") as error:
        read_torch_file(path, "model")
    assert "weights_only" not in str(error.value)


def _write_many(path: str, value: float) -> None:
    torch.set_num_threads(1)  # a forked child must not enter the parent's OpenMP pool: it would hang
    for _ in range(30):  # with one shared staging name, 2 × 30 writes of this size clash every time
        write_torch_file({"w": torch.full((100_000,), value)}, path)


def test_concurrent_writers_of_one_file_never_clash(tmp_path):
    path = str(tmp_path / "last.pt")
    context = multiprocessing.get_context("fork")  # the children start with torch imported
    writers = [context.Process(target=_write_many, args=(path, v), daemon=True) for v in (1.0, 2.0)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    for writer in writers:
        if writer.is_alive():
            writer.kill()
    assert [writer.exitcode for writer in writers] == [0, 0]
    assert read_torch_file(path, "resume")["w"][0].item() in (1.0, 2.0)
    assert os.listdir(tmp_path) == ["last.pt"]  # no staging file left behind


def test_a_killed_writers_staging_file_is_swept_by_the_next_write(tmp_path):
    child = multiprocessing.get_context("fork").Process(target=os.getpid)
    child.start()
    child.join()
    stale = tmp_path / f".last.pt.{host_name()}.{child.pid}.0123abcd.tmp"
    stale.write_bytes(b"PK\x03\x04 half")
    write_torch_file({"epoch": 1}, tmp_path / "last.pt")
    assert os.listdir(tmp_path) == ["last.pt"]


def test_a_full_disk_is_named_with_the_path_and_the_old_file_is_kept(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    write_torch_file({"epoch": 1}, path)

    def no_space(data, file, *args, **kwargs):
        Path(file).write_bytes(b"PK\x03\x04 partly written")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", no_space)
    with pytest.raises(DiskFullError, match=rf"^Disk full: writing {path} failed with [\d.]+ \S+ "
                       r"free on its filesystem \(OSError: \[Errno 28\] No space left on device\)"):
        write_torch_file({"epoch": 2}, path)
    monkeypatch.undo()
    assert read_torch_file(path, "resume") == {"epoch": 1}
    assert os.listdir(tmp_path) == ["last.pt"]  # the staging file is removed


def test_a_checkpoints_metadata_is_read_from_its_header_and_its_weights_when_asked(
        tmp_path, monkeypatch):
    dataset = TorchCheckpointDataset(str(tmp_path / "seed0.pt"))
    dataset.save(checkpoint(1.0))
    assert (tmp_path / "seed0.pt.header").is_file()
    reads = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: reads.append(a[0]) or real_load(*a, **k))
    loaded = dataset.load()
    assert loaded["metadata"] == checkpoint(1.0)["metadata"] and loaded["with_audio"] is True
    assert loaded["config"] == {"dim": 4, "image_size": [32, 32]}
    assert reads == [tmp_path / "seed0.pt.header"]  # the weights are not read for the metadata
    assert torch.equal(loaded["state_dict"]["w"], torch.full((2, 2), 1.0))
    assert reads == [tmp_path / "seed0.pt.header", tmp_path / "seed0.pt"]
    assert set(loaded) == {"config", "with_audio", "state_dict", "metadata"}


def test_a_file_its_header_does_not_describe_is_read_whole(tmp_path):
    """An older checkpoint copied over the file (another model version) is read as it is."""
    path = tmp_path / "seed0.pt"
    dataset = TorchCheckpointDataset(str(path))
    dataset.save(checkpoint(1.0))
    older = checkpoint(2.0)
    older["metadata"] = {**older["metadata"], "model_version": "older"}
    torch.save(older, tmp_path / "older.pt")
    os.replace(tmp_path / "older.pt", path)  # the header of the newer one stays beside it
    loaded = dataset.load()
    assert loaded["metadata"]["model_version"] == "older"
    assert torch.equal(loaded["state_dict"]["w"], torch.full((2, 2), 2.0))
    again = dataset.load()  # read whole once, the file now has its own header
    assert isinstance(again, LazyCheckpoint) and again["metadata"]["model_version"] == "older"


def test_a_header_keeps_the_exact_types_of_the_metadata(tmp_path):
    """Hugging Face configs in the metadata map integer class ids to names: the header keeps them."""
    dataset = TorchCheckpointDataset(str(tmp_path / "seed0.pt"))
    odd = checkpoint(3.0)
    odd["metadata"] = {**odd["metadata"], "id2label": {0: "Eat", 1: "Cook"}}
    dataset.save(odd)
    loaded = dataset.load()
    assert isinstance(loaded, LazyCheckpoint) and loaded["metadata"]["id2label"] == {0: "Eat", 1: "Cook"}
