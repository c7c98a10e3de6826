"""Ingestion decodes only when what it reads changed, and then says what changed."""

import json
import shutil
from pathlib import Path

import pytest

from vicokd.data import ingest
from vicokd.data.ingestion_inputs import describe_changes
from vicokd.datasets.array_store import generations

from .conftest import GOOD, fake_home
from .test_pipeline import STORES, ingestion_catalog, ingestion_params, run_ingestion


@pytest.fixture
def dataset(tmp_path, recordings) -> Path:
    """A copy of the two-home recordings that a test may change."""
    return Path(shutil.copytree(recordings, tmp_path / "recordings"))


def report(out: Path) -> dict:
    return json.loads((out / "ingestion_report.json").read_text())


def first_file(generation: Path) -> Path:
    index = json.loads((generation / "index.json").read_text())
    return generation / next(iter(index["arrays"].values()))


def test_unchanged_inputs_are_reused_without_decoding(tmp_path, dataset, monkeypatch):
    out = tmp_path / "out"
    params = ingestion_params(dataset)
    run_ingestion(out, params)
    first = report(out)
    before = {name: generations(out / name) for name in STORES}
    assert first["reused"] is False and first["changed_inputs"] == ["no ingestion committed yet"]

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although nothing changed")

    monkeypatch.setattr(ingest, "decode_view", no_decoding)
    run_ingestion(out, params)
    second = report(out)
    assert second["reused"] is True and second["changed_inputs"] == []
    assert {k: v for k, v in second.items() if k not in ("reused", "changed_inputs")} == {
        k: v for k, v in first.items() if k not in ("reused", "changed_inputs")}
    assert {name: generations(out / name) for name in STORES} == before  # the same generations
    table = ingestion_catalog(out, params).load("sequences")
    assert table.attrs["ingestion_id"] == first["ingestion_id"]
    assert table["sequence_id"].tolist() == first["kept_sequences"]


def test_a_relabelled_trick_is_named_and_only_what_follows_labels_is_rewritten(tmp_path, dataset):
    out = tmp_path / "out"
    params = ingestion_params(dataset, homes=["Home1"])
    catalog = run_ingestion(out, params)
    labels_before = catalog.load("frame_labels")["Home1/01/00-Part1"].copy()
    frames_inode = first_file(catalog.load("frames").path).stat().st_ino
    relabelled = [{**GOOD[0], "tricks": [{"start": 0.0, "end": 1.0, "labels": ["Eat"]}]}, GOOD[1]]
    fake_home.write_json(dataset / "Home1" / "all_labels.json", relabelled)

    catalog = run_ingestion(out, params)
    changed = report(out)
    assert changed["reused"] is False
    assert changed["changed_inputs"] == ["annotation files: 1 changed (Home1/all_labels.json)"]
    table = catalog.load("sequences")
    assert table.attrs["ingestion_id"] == changed["ingestion_id"]
    assert list(table["labels"].iloc[0]) == ["Eat"]
    labels = catalog.load("frame_labels")["Home1/01/00-Part1"]
    assert (labels != labels_before).any()
    # the frames were made from the same mp4 files: the new generation links the same files
    frames = catalog.load("frames")
    assert frames.ingestion_id == changed["ingestion_id"]
    assert first_file(frames.path).stat().st_ino == frames_inode
    assert all(len(generations(out / name)) == 1 for name in STORES)  # the older ones deleted


def test_a_changed_mp4_and_a_changed_setting_are_named(tmp_path, dataset):
    out = tmp_path / "out"
    params = ingestion_params(dataset, homes=["Home1"])
    run_ingestion(out, params)
    fake_home.write_view(dataset / "Home1" / GOOD[0]["video_url_3"], 40, 10, grey=7)
    run_ingestion(out, params.model_copy(update={"image_size": [16, 16]}))
    assert report(out)["changed_inputs"] == ["settings: image_size",
                                             "mp4 files: 1 changed (Home1/01/00-View3-Part1.mp4)"]
    frames = ingestion_catalog(out, params).load("frames")
    assert frames["Home1/01/00-Part1"].shape == (5, 10, 16, 16, 3)


def test_a_store_without_the_committed_arrays_is_decoded_again(tmp_path, dataset):
    out = tmp_path / "out"
    params = ingestion_params(dataset, homes=["Home1"])
    run_ingestion(out, params)
    committed = report(out)["ingestion_id"]
    for generation in (out / "log_mels").iterdir():
        shutil.rmtree(generation)
    run_ingestion(out, params)
    again = report(out)
    assert again["reused"] is False and again["ingestion_id"] == committed
    assert again["changed_inputs"] == [f"the store {out / 'log_mels'} lacks its arrays"]
    assert ingestion_catalog(out, params).load("log_mels")["Home1/01/00-Part1"].shape[:2] == (5, 10)


def test_changes_list_counts_and_at_most_five_names():
    before = {"version": 1, "dataset_root": "d", "homes": ["Home1"], "settings": {"strict": False},
              "annotations": {"Home1/all_labels.json": "a"},
              "media": {f"Home1/01/{i:02d}-View1-Part1.mp4": "x" for i in range(7)}}
    after = {**before, "homes": ["Home1", "Home2"], "settings": {"strict": True},
             "annotations": {"Home1/all_labels.json": "a", "Home2/train_data.json": "b"},
             "media": {**{k: "y" for k in before["media"]}, "Home2/01/00-View1-Part1.mp4": "z"}}
    del after["media"]["Home1/01/06-View1-Part1.mp4"]
    assert describe_changes(before, after) == [
        "homes: ['Home1'] -> ['Home1', 'Home2']",
        "settings: strict",
        "annotation files: 1 added (Home2/train_data.json)",
        ("mp4 files: 6 changed (Home1/01/00-View1-Part1.mp4, Home1/01/01-View1-Part1.mp4, "
         "Home1/01/02-View1-Part1.mp4, Home1/01/03-View1-Part1.mp4, Home1/01/04-View1-Part1.mp4, "
         "...); 1 added (Home2/01/00-View1-Part1.mp4); 1 removed (Home1/01/06-View1-Part1.mp4)"),
    ]
    assert describe_changes(before, before) == []
