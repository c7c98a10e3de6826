"""A checkpoint read for a report must be the model version whose predictions are reported."""
import pandas as pd
import pytest
import torch

from vicokd.datasets import RunPartitionsDataset
from vicokd.training.checkpoints import ModelVersionError, load_published, published_versions


def checkpoint(version: str) -> dict:
    return {"config": {}, "with_audio": False, "state_dict": {"w": torch.zeros(1)},
            "metadata": {"run": "vicokd", "supervision": "V_S", "home": "Home1", "seed": 0,
                         "model_version": version}}


def predictions(version: str) -> pd.DataFrame:
    """Two rows of one model's predictions (or metrics): one model, one version."""
    return pd.DataFrame({"run": ["vicokd"] * 2, "supervision": ["V_S"] * 2, "home": ["Home1"] * 2,
                         "seed": [0, 0], "model_version": [version] * 2, "map": [50.0, 60.0]})


@pytest.fixture
def models(tmp_path) -> RunPartitionsDataset:
    """The ``vicokd_model_V_S`` folder as the catalog's factory makes it, with one checkpoint."""
    dataset = RunPartitionsDataset(path=str(tmp_path / "vicokd" / "V_S"),
                                   dataset="vicokd.datasets.TorchCheckpointDataset",
                                   filename_suffix=".pt")
    dataset.save({"Home1/seed0": checkpoint("abc-20260101")})
    return dataset


def test_the_published_version_loads(models):
    loaded = load_published(models.load()["Home1/seed0"], published_versions(predictions("abc-20260101")))
    assert loaded["metadata"]["model_version"] == "abc-20260101"


def test_another_version_names_the_file_and_both_versions(models, tmp_path):
    with pytest.raises(ModelVersionError) as error:
        load_published(models.load()["Home1/seed0"], published_versions(predictions("abc-20260202")))
    message = str(error.value)
    assert str(tmp_path / "vicokd" / "V_S" / "Home1" / "seed0.pt") in message
    assert "abc-20260101" in message and "abc-20260202" in message


def test_a_checkpoint_without_reported_predictions_is_refused(models):
    with pytest.raises(ModelVersionError, match="no predictions of that model are reported"):
        load_published(models.load()["Home1/seed0"], {})
