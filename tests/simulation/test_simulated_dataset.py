"""The written dataset: layout, decodable mp4 files, annotation schema, determinism, folder rules."""
import json

import av
import numpy as np
import pytest

from vicokd.simulation.generate import (
    MARKER,
    SimulationSettings,
    TargetFolderError,
    check_real_dataset,
    simulate_dataset,
)
from vicokd.simulation.script import SIMULATED_CLASSES as CLASSES
from vicokd.simulation.truth import TRUTH_COLUMNS

NUM_VIEWS = 5  # cameras of every simulated home

ANNOTATIONS = {"Home1": ["all_labels.json", "test.json", "train.json"],
               "Home2": ["test_data.json", "train_data.json"]}


def records(root, home):
    names = ANNOTATIONS[home]
    files = {n: json.loads((root / home / n).read_text()) for n in names}
    return files


def test_mp4_files_decode_with_the_requested_video_and_audio(tiny_dataset, tiny_settings):
    root, _ = tiny_dataset
    paths = sorted(root.glob("Home*/*/*-View*-Part*.mp4"))
    assert len(paths) == 2 * tiny_settings.sequences_per_home * NUM_VIEWS
    with av.open(str(paths[0])) as c:
        video = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(paths[0])) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        audio = list(c.decode(audio=0))
    assert len(video) == tiny_settings.duration * tiny_settings.fps
    assert video[0].shape == (tiny_settings.height, tiny_settings.width, 3)
    assert {f.sample_rate for f in audio} == {16000}
    assert audio[0].layout.nb_channels == 1
    assert abs(sum(f.samples for f in audio) - tiny_settings.duration * 16000) <= 1024


def test_annotation_files_follow_the_public_schema(tiny_dataset, tiny_settings):
    root, _ = tiny_dataset
    for home in ("Home1", "Home2"):
        files = records(root, home)
        assert sorted(p.name for p in (root / home).glob("*.json")) == ANNOTATIONS[home]
        train_test = [r for n, rs in files.items() if n != "all_labels.json" for r in rs]
        assert len(train_test) == tiny_settings.sequences_per_home
        urls = {r["video_url_1"] for r in train_test}
        assert len(urls) == tiny_settings.sequences_per_home
        for r in train_test:
            assert sorted(r) == sorted([f"video_url_{k}" for k in range(1, 6)] + ["tricks"])
            for k in range(1, 6):
                assert (root / home / r[f"video_url_{k}"]).is_file()
                assert f"-View{k}-Part" in r[f"video_url_{k}"]
            for t in r["tricks"]:
                assert set(t) == {"start", "end", "labels"}
                assert 0 <= t["start"] <= t["end"] <= tiny_settings.duration
                assert set(t["labels"]) <= set(CLASSES)
    ids = [r["video_url_1"].split("/")[1].split("-")[0] for r in records(root, "Home1")["all_labels.json"]]
    assert len(set(ids)) < len(ids)  # ids repeat across sessions and parts


def test_truth_table_columns_and_boxes(tiny_dataset, tiny_settings):
    _, truth = tiny_dataset
    assert tuple(truth.columns) == TRUTH_COLUMNS
    assert len(truth) == 2 * tiny_settings.sequences_per_home * NUM_VIEWS * tiny_settings.duration * tiny_settings.fps
    seen = truth[truth["visible"]]
    assert len(seen) > 0 and truth["visible"].mean() < 1
    boxes = seen[["x1", "y1", "x2", "y2"]].to_numpy()
    assert ((boxes >= 0) & (boxes <= 1)).all()
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    assert truth.loc[~truth["visible"], ["x1", "y1", "x2", "y2"]].isna().all().all()
    assert {a for row in truth["actions"] for a in row} <= set(CLASSES)


def first_frames(root):
    with av.open(str(root / "Home2" / "01" / "00-View3-Part1.mp4")) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def annotation_bytes(root):
    return [(root / "Home2" / n).read_bytes() for n in ANNOTATIONS["Home2"]]


def test_same_seed_gives_identical_files_and_frames(tiny_dataset, tiny_settings, tmp_path):
    root, truth = tiny_dataset
    same = simulate_dataset(tmp_path / "same", ["Home2"], tiny_settings, seed=3)
    other = simulate_dataset(tmp_path / "other", ["Home2"], tiny_settings, seed=4)
    assert annotation_bytes(tmp_path / "same") == annotation_bytes(root)
    assert np.array_equal(first_frames(tmp_path / "same"), first_frames(root))
    assert same.equals(truth[truth["home"] == "Home2"].reset_index(drop=True))
    assert annotation_bytes(tmp_path / "other") != annotation_bytes(root)
    assert not np.array_equal(first_frames(tmp_path / "other"), first_frames(root))
    assert not other.equals(same)


SMALL = SimulationSettings(sequences_per_home=1, duration=2.0, fps=5, width=32, height=24, sessions=1,
                           crf=20)


def test_refuses_a_folder_it_did_not_write_and_touches_nothing(tmp_path):
    root = tmp_path / "real"
    (root / "Home1").mkdir(parents=True)
    (root / "Home1" / "notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(TargetFolderError, match=str(root)):
            simulate_dataset(root, ["Home1"], SMALL, seed=0, overwrite=overwrite)
    assert (root / "Home1" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real"]  # no staging left behind


def test_reuses_same_settings_and_replaces_only_with_overwrite(tmp_path):
    root = tmp_path / "sim"
    simulate_dataset(root, ["Home1"], SMALL, seed=0)
    marker_time = (root / MARKER).stat().st_mtime_ns
    simulate_dataset(root, ["Home1"], SMALL, seed=0)
    assert (root / MARKER).stat().st_mtime_ns == marker_time
    with pytest.raises(TargetFolderError, match="overwrite"):
        simulate_dataset(root, ["Home1"], SMALL, seed=1)
    simulate_dataset(root, ["Home1"], SMALL, seed=1, overwrite=True)
    assert json.loads((root / MARKER).read_text())["seed"] == 1
    (root / "Home1" / "extra.csv").write_text("x")
    with pytest.raises(TargetFolderError, match="extra.csv"):
        simulate_dataset(root, ["Home1"], SMALL, seed=2, overwrite=True)
    assert (root / "Home1" / "extra.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sim"]


def test_real_dataset_check_names_missing_homes(tmp_path):
    (tmp_path / "Home1").mkdir()
    check_real_dataset(tmp_path, ["Home1"])
    with pytest.raises(FileNotFoundError, match="Home2"):
        check_real_dataset(tmp_path, ["Home1", "Home2"])


def same_truth(a, b) -> bool:
    """Equal truth tables (``actions`` compared as lists: read back from parquet they are arrays)."""
    return (a.drop(columns="actions").equals(b.drop(columns="actions"))
            and [list(x) for x in a["actions"]] == [list(x) for x in b["actions"]])


def files_and_inodes(root, home):
    return {p.relative_to(root).as_posix(): p.stat().st_ino for p in (root / home).rglob("*")
            if p.is_file()}


def test_a_dataset_of_more_homes_serves_a_one_home_run_and_a_missing_home_is_added(tmp_path):
    root = tmp_path / "sim"
    both = simulate_dataset(root, ["Home1", "Home2"], SMALL, seed=0)
    marker = (root / MARKER).read_text()
    home2 = files_and_inodes(root, "Home2")
    one = simulate_dataset(root, ["Home1"], SMALL, seed=0)  # the README's one-home run
    assert (root / MARKER).read_text() == marker and files_and_inodes(root, "Home2") == home2
    assert same_truth(one, both[both["home"] == "Home1"].reset_index(drop=True))

    home1 = files_and_inodes(root, "Home1")
    three = simulate_dataset(root, ["Home1", "Home3"], SMALL, seed=0)  # Home3 is missing: added
    assert files_and_inodes(root, "Home1") == home1  # the same files, not written again
    assert files_and_inodes(root, "Home2") == home2  # a home this run does not ask for is kept
    written = json.loads((root / MARKER).read_text())
    assert written["homes"] == ["Home1", "Home2", "Home3"]
    assert set(written["files"]) == {p.relative_to(root).as_posix() for p in root.rglob("*")
                                     if p.is_file()} - {MARKER}
    alone = simulate_dataset(tmp_path / "alone", ["Home3"], SMALL, seed=0)  # per-home streams
    assert same_truth(three[three["home"] == "Home3"].reset_index(drop=True), alone)
    assert ((root / "Home3" / "all_labels.json").read_bytes()
            == (tmp_path / "alone" / "Home3" / "all_labels.json").read_bytes())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alone", "sim"]  # no staging left behind


def test_other_settings_name_every_home_and_overwrite_keeps_them_all(tmp_path):
    root = tmp_path / "sim"
    simulate_dataset(root, ["Home1", "Home2"], SMALL, seed=0)
    with pytest.raises(TargetFolderError) as error:
        simulate_dataset(root, ["Home1"], SMALL, seed=1)
    message = str(error.value)
    assert "Home1, Home2" in message and "another folder" in message
    assert "delete" not in message
    simulate_dataset(root, ["Home1"], SMALL, seed=1, overwrite=True)
    written = json.loads((root / MARKER).read_text())
    assert written["seed"] == 1 and written["homes"] == ["Home1", "Home2"]
    assert (root / "Home2" / "train_data.json").is_file()


def test_a_pretraining_home_gets_its_own_number_of_sequences_and_another_number_is_not_reused(tmp_path):
    settings = SMALL.model_copy(update={"sequences_per_home": 2, "sequences_per_extra_home": 1})
    root = tmp_path / "sim"
    truth = simulate_dataset(root, ["Home1", "Home3"], settings, seed=0, extra_homes=["Home3"])
    assert truth.groupby("home")["sequence_id"].nunique().to_dict() == {"Home1": 2, "Home3": 1}
    assert len(json.loads((root / "Home3" / "all_labels.json").read_text())) == 1
    assert json.loads((root / MARKER).read_text())["sequences"] == {"Home1": 2, "Home3": 1}
    wider = simulate_dataset(tmp_path / "wider", ["Home3"], settings, seed=0)  # evaluated: 2
    assert same_truth(truth[truth["home"] == "Home3"].reset_index(drop=True),
                      wider[wider["sequence_id"] == wider["sequence_id"].iloc[0]].reset_index(drop=True))
    simulate_dataset(root, ["Home1"], settings, seed=0)  # a home it holds as asked: reused
    with pytest.raises(TargetFolderError, match="Home3"):  # Home3 evaluated now: 2 sequences, not 1
        simulate_dataset(root, ["Home3"], settings, seed=0)
    assert json.loads((root / MARKER).read_text())["sequences"] == {"Home1": 2, "Home3": 1}
