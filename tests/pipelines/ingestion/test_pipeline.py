"""The ingestion pipeline on a tiny dataset with the test environment's parameters."""

import gc
import json
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset

from project_parameters import multisensor_home
from vicokd.data.annotations import RecordingError
from vicokd.data.ingest import IngestionParameters
from vicokd.data.origin import SIMULATION_MARKER, DatasetOriginError
from vicokd.datasets import ArrayStoreDataset, CommittedIngestionDataset, SequenceTableDataset
from vicokd.datasets.array_store import generations
from vicokd.pipelines.ingestion import create_pipeline
from vicokd.settings import CONFIG_LOADER_ARGS

from .conftest import SHORT, fake_home

CONF = Path(__file__).resolve().parents[3] / "conf"
STORES = ("frames", "log_mels", "frame_labels")


@pytest.fixture(autouse=True)
def spool_dir(tmp_path, monkeypatch) -> Path:
    """The system temporary directory, where ingestion spools its arrays, for this test alone."""
    folder = tmp_path / "system_tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


class DiskFullStore(ArrayStoreDataset):
    """An array store whose save fails, as a full disk or a killed process would stop it."""

    def _save(self, arrays) -> None:
        raise OSError(f"No space left on device: {self._path}")


class DiskFullTable(SequenceTableDataset):
    def _save(self, data) -> None:
        raise OSError(f"No space left on device: {self._filepath}")


def ingestion_params(root: Path, **overrides) -> IngestionParameters:
    """The test environment's ``ingestion`` block reading ``root``, with ``overrides``, as Kedro
    hands it to the node."""
    params = OmegaConfigLoader(str(CONF), env="test", **CONFIG_LOADER_ARGS)["parameters"][
        "ingestion"
    ]
    return IngestionParameters.model_validate({**params, "dataset_root": str(root), **overrides})


def ingestion_catalog(
    out: Path, params: IngestionParameters, failing: str | None = None
) -> DataCatalog:
    """The ingestion datasets as conf/base/catalog_ingestion.yml wires them, under ``out``;
    ``failing`` names a dataset whose save raises."""
    table = str(out / "sequences.parquet")
    store_type = {name: DiskFullStore if name == failing else ArrayStoreDataset for name in STORES}
    table_type = DiskFullTable if failing == "sequences" else SequenceTableDataset
    return DataCatalog(
        {
            "recordings_manifest": MemoryDataset({}),
            "params:ingestion": MemoryDataset(params),
            "params:pretraining.homes": MemoryDataset([]),
            "params:simulation.enabled": MemoryDataset(False),  # real recordings
            "params:dataset": MemoryDataset(multisensor_home()),
            "committed_ingestion": CommittedIngestionDataset(
                table, stores=[str(out / name) for name in STORES]),
            "sequences": table_type(table, stores=[str(out / name) for name in STORES]),
            **{name: store_type[name](str(out / name), table=table) for name in STORES},
            "ingestion_report": JSONDataset(filepath=str(out / "ingestion_report.json")),
        }
    )


@pytest.mark.parametrize("env", ["local", "test"])
def test_the_catalog_ties_each_store_to_the_table_that_commits_it(env):
    catalog = OmegaConfigLoader(str(CONF), env=env, **CONFIG_LOADER_ARGS)["catalog"]
    table = catalog["sequences"]
    assert table["type"] == "vicokd.datasets.SequenceTableDataset"
    assert table["stores"] == [catalog[name]["path"] for name in STORES]
    assert all(catalog[name]["table"] == table["filepath"] for name in STORES)
    assert create_pipeline().nodes[0].outputs[-1] == "sequences"  # saved last: the commit


def run_ingestion(
    out: Path, params: IngestionParameters, failing: str | None = None
) -> DataCatalog:
    catalog = ingestion_catalog(out, params, failing)
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def test_pipeline_writes_table_stores_and_report(tmp_path, recordings, spool_dir):
    catalog = run_ingestion(tmp_path, ingestion_params(recordings))
    sequences = catalog.load("sequences")
    assert sequences["sequence_id"].tolist() == [
        "Home1/01/00-Part1", "Home1/01/00-Part2", "Home2/01/00-Part1"
    ]
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
    ):
        assert column in sequences
    assert sequences["n_frames"].tolist() == [10, 10, 5]  # 40 (20) frames at 10 fps, stride 4
    assert list(sequences["labels"].iloc[1]) == ["Drink", "Eat"]
    assert "has_audio" not in sequences  # a view without audio is left out, never kept silent
    frames, audio, labels = (catalog.load(name) for name in STORES)
    assert sorted(frames) == sorted(audio) == sorted(labels) == sorted(sequences["sequence_id"])
    assert frames["Home1/01/00-Part2"].shape == (5, 10, 32, 32, 3)  # conf/test image_size
    assert audio["Home1/01/00-Part2"].shape == (5, 10, 40, 128)
    assert (
        labels["Home1/01/00-Part2"][:, [4, 5]].T.tolist() == [[0, 0, 1, 1, 1, 1, 1, 1, 1, 0]] * 2
    )  # 1.0-3.0 s → 2..8
    report = json.loads((tmp_path / "ingestion_report.json").read_text())
    stamp = sequences.attrs["ingestion_id"]
    assert report["ingestion_id"] == stamp
    assert {frames.ingestion_id, audio.ingestion_id, labels.ingestion_id} == {stamp}
    assert report["kept"] == 3 and report["native_frames_decoded"] == (40 + 40 + 20) * 5
    assert report["skipped"] == [
        {
            "file": str(recordings / "Home2/01/03-View2-Part1.mp4"),
            "kind": "unreadable_mp4",
            "problem": report["skipped"][0]["problem"],
        }
    ]
    assert report["warnings"] == [
        {"file": str(recordings / "Home2/train_data.json"), "kind": "empty_annotation_file",
         "problem": "annotation file holds no records"},
    ]
    assert report["decode_frames_per_second"] > 0
    gc.collect()
    assert list(spool_dir.iterdir()) == []  # the spool is gone once the stores are written


def test_strict_failure_leaves_no_half_written_output(tmp_path, recordings, spool_dir):
    with pytest.raises(RecordingError, match="03-View2-Part1.mp4"):
        run_ingestion(tmp_path / "fresh", ingestion_params(recordings, strict=True))
    assert not (tmp_path / "fresh").exists() or not any((tmp_path / "fresh").iterdir())
    assert list(spool_dir.iterdir()) == []  # removed at once, not left for the next run
    good = run_ingestion(tmp_path / "kept", ingestion_params(recordings, homes=["Home1"]))
    before = {name: generations(tmp_path / "kept" / name) for name in STORES}
    first = np.array(good.load("frames")["Home1/01/00-Part1"])
    with pytest.raises(RecordingError):
        run_ingestion(tmp_path / "kept", ingestion_params(recordings, strict=True))
    assert {name: generations(tmp_path / "kept" / name) for name in STORES} == before
    assert (np.array(good.load("frames")["Home1/01/00-Part1"]) == first).all()
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == sorted(
        [*STORES, "ingestion_report.json", "sequences.parquet"]
    )


def test_a_home_without_a_usable_sequence_stops_ingestion_before_any_output(tmp_path, spool_dir):
    """Home1 is fine; Home2's only record names no file that exists (lenient mode)."""
    root = tmp_path / "dataset"
    fake_home.write_json(root / "Home1" / "all_labels.json", [SHORT])
    fake_home.write_sequence(root / "Home1", SHORT, n_frames=20)
    fake_home.write_json(root / "Home2" / "test_data.json", [SHORT])
    with pytest.raises(
        RecordingError,
        match=r"Home2: no usable sequence among 1 record: 1 missing view file \(each named",
    ):
        run_ingestion(tmp_path / "out", ingestion_params(root))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert list(spool_dir.iterdir()) == []


@pytest.mark.parametrize("failing", ["log_mels", "frame_labels", "sequences"])
def test_a_run_that_fails_between_saves_leaves_readers_on_the_previous_run(
    tmp_path, recordings, failing
):
    """The issue's case: a second run (other frame size) stopped after some of its saves."""
    home1 = ingestion_params(recordings, homes=["Home1"])
    first = run_ingestion(tmp_path, home1)
    committed = first.load("sequences").attrs["ingestion_id"]
    with pytest.raises(Exception, match="No space left on device"):
        run_ingestion(tmp_path, home1.model_copy(update={"image_size": [16, 16]}), failing=failing)
    reader = ingestion_catalog(tmp_path, home1)
    sequences = reader.load("sequences")
    assert sequences.attrs["ingestion_id"] == committed
    stores = {name: reader.load(name) for name in STORES}
    assert {store.ingestion_id for store in stores.values()} == {committed}
    assert stores["frames"]["Home1/01/00-Part1"].shape == (5, 10, 32, 32, 3)  # not 16 × 16
    assert len(generations(tmp_path / "frames")) == 2  # the failed run's frames, kept aside
    run_ingestion(tmp_path, home1)  # the next good run reuses the committed one and prunes the rest
    assert reader.load("sequences").attrs["ingestion_id"] == committed
    assert all(list(generations(tmp_path / name).values()) == [committed] for name in STORES)


@pytest.mark.parametrize("simulated", [True, False])
def test_ingestion_refuses_a_dataset_of_the_other_origin(tmp_path, recordings, simulated):
    """Real recordings with simulation on, or a simulated folder (its marker) with it off: an
    error naming the folder, and nothing written."""
    root = recordings
    if not simulated:
        root = tmp_path / "simulated"
        shutil.copytree(recordings, root)
        (root / SIMULATION_MARKER).write_text("{}")
    catalog = ingestion_catalog(tmp_path / "out", ingestion_params(root))
    catalog["params:simulation.enabled"] = MemoryDataset(simulated)
    with pytest.raises(DatasetOriginError, match=f"^{re.escape(str(root))} holds"):
        SequentialRunner().run(create_pipeline(), catalog)
    assert not (tmp_path / "out").exists()
