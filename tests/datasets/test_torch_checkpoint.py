import pytest
import torch
from kedro.io import DatasetError, Version

from vicokd.datasets.torch_checkpoint import TorchCheckpointDataset


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
    with pytest.raises(DatasetError, match="bad.pt"):
        TorchCheckpointDataset(str(tmp_path / "bad.pt")).load()
