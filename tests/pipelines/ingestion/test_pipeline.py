"""The ingestion pipeline on a tiny dataset with the test environment's parameters."""

import json
from pathlib import Path

import numpy as np
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import ParquetDataset

from vicokd.settings import CONFIG_LOADER_ARGS
from vicokd.data.annotations import RecordingError
from vicokd.datasets import ArrayStoreDataset
from vicokd.pipelines.ingestion import create_pipeline

CONF = Path(__file__).resolve().parents[3] / "conf"
STORES = ("frames", "audio_features", "frame_labels")


def ingestion_params(root: Path, **overrides) -> dict:
    params = OmegaConfigLoader(str(CONF), env="test", **CONFIG_LOADER_ARGS)["parameters"][
        "ingestion"
    ]
    return {**params, "dataset_root": str(root), **overrides}


def run_ingestion(out: Path, params: dict) -> DataCatalog:
    catalog = DataCatalog(
        {
            "recordings_manifest": MemoryDataset(
                {"dataset_root": params["dataset_root"], "homes": params["homes"]}
            ),
            "params:ingestion": MemoryDataset(params),
            "sequences": ParquetDataset(filepath=str(out / "sequences.parquet")),
            **{name: ArrayStoreDataset(str(out / name)) for name in STORES},
            "ingestion_report": JSONDataset(filepath=str(out / "ingestion_report.json")),
        }
    )
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def test_pipeline_writes_table_stores_and_report(tmp_path, recordings):
    catalog = run_ingestion(tmp_path, ingestion_params(recordings))
    sequences = catalog.load("sequences")
    assert sequences["sequence_id"].tolist() == ["Home1/01/00-Part1", "Home1/01/00-Part2"]
    for column in (
        "home",
        "session",
        "video_id",
        "part",
        "view_paths",
        "duration",
        "native_fps",
        "n_frames",
        "labels",
        "tricks",
        "has_audio",
    ):
        assert column in sequences
    assert sequences["n_frames"].tolist() == [10, 10]  # 40 frames at 10 fps, stride 4
    assert list(sequences["labels"].iloc[1]) == ["Drink", "Eat"]
    assert list(sequences["has_audio"].iloc[0]) == [True] * 5
    frames, audio, labels = (catalog.load(name) for name in STORES)
    assert sorted(frames) == sorted(audio) == sorted(labels) == sorted(sequences["sequence_id"])
    assert frames["Home1/01/00-Part2"].shape == (5, 10, 32, 32, 3)  # conf/test image_size
    assert audio["Home1/01/00-Part2"].shape == (5, 10, 40, 128)
    assert (
        labels["Home1/01/00-Part2"][:, [4, 5]].T.tolist() == [[0, 0, 1, 1, 1, 1, 1, 1, 1, 0]] * 2
    )  # 1.0-3.0 s → 2..8
    report = json.loads((tmp_path / "ingestion_report.json").read_text())
    assert report["kept"] == 2 and report["native_frames_decoded"] == 2 * 5 * 40
    assert report["skipped"] == [
        {
            "file": str(recordings / "Home2/01/03-View2-Part1.mp4"),
            "problem": report["skipped"][0]["problem"],
        }
    ]
    assert report["decode_frames_per_second"] > 0


def test_strict_failure_leaves_no_half_written_output(tmp_path, recordings):
    with pytest.raises(RecordingError, match="03-View2-Part1.mp4"):
        run_ingestion(tmp_path / "fresh", ingestion_params(recordings, strict=True))
    assert not (tmp_path / "fresh").exists() or not any((tmp_path / "fresh").iterdir())
    good = run_ingestion(tmp_path / "kept", ingestion_params(recordings, homes=["Home1"]))
    before = {name: (tmp_path / "kept" / name / "index.json").read_text() for name in STORES}
    first = np.array(good.load("frames")["Home1/01/00-Part1"])
    with pytest.raises(RecordingError):
        run_ingestion(tmp_path / "kept", ingestion_params(recordings, strict=True))
    assert {
        name: (tmp_path / "kept" / name / "index.json").read_text() for name in STORES
    } == before
    assert (np.array(good.load("frames")["Home1/01/00-Part1"]) == first).all()
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == sorted(
        [*STORES, "ingestion_report.json", "sequences.parquet"]
    )
