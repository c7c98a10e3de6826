import json

import numpy as np
import pytest

from data.fake_home import record
from vicokd.data.annotations import CLASSES, RecordingError, frame_labels, parse_record, read_home


def test_parse_record_builds_id_from_session_id_and_part():
    spec = parse_record(
        record("03", "07", 2, [{"start": 1, "end": 2, "labels": ["Eat", "Drink"]}]),
        "Home1",
        "x.json",
    )
    assert spec.sequence_id == "Home1/03/07-Part2"
    assert spec.view_paths == tuple(f"Home1/03/07-View{v}-Part2.mp4" for v in range(1, 6))
    assert spec.labels == ("Drink", "Eat")  # class order


@pytest.mark.parametrize(
    ("tricks", "problem"),
    [
        ([{"start": 0, "end": 1, "labels": ["Dance"]}], "unknown label"),
        ([{"start": 2, "end": 1, "labels": ["Eat"]}], "start <= end"),
        ([{"start": -1, "end": 1, "labels": ["Eat"]}], "start <= end"),
        ([{"end": 1, "labels": ["Eat"]}], "malformed trick"),
    ],
)
def test_parse_record_rejects_bad_tricks_naming_the_file(tricks, problem):
    with pytest.raises(RecordingError, match=problem) as error:
        parse_record(record("01", "00", 1, tricks), "Home1", "Home1/all_labels.json")
    assert error.value.path == "Home1/all_labels.json"


def test_parse_record_rejects_views_of_different_sequences():
    bad = record("01", "00", 1, [])
    bad["video_url_3"] = "01/00-View3-Part2.mp4"
    with pytest.raises(RecordingError, match="different sequences"):
        parse_record(bad, "Home1", "a.json")


def test_frame_labels_boundaries_follow_the_rounding_rule():
    # Sitdown 0.5-1.3 s → round(1.25)=1 .. round(3.25)=3; Eat 1.7-3.0 s → round(4.25)=4 .. round(7.5)=8
    tricks = [
        {"start": 0.5, "end": 1.3, "labels": ["Sitdown"]},
        {"start": 1.7, "end": 3.0, "labels": ["Eat"]},
    ]
    labels = frame_labels(tricks, 7)
    assert labels.shape == (7, len(CLASSES)) and labels.dtype == np.uint8
    sit, eat = CLASSES.index("Sitdown"), CLASSES.index("Eat")
    assert labels[:, sit].tolist() == [0, 1, 1, 1, 0, 0, 0]
    assert labels[:, eat].tolist() == [0, 0, 0, 0, 1, 1, 1]  # clipped at the last frame
    assert labels.sum() == 6


def test_read_home_merges_train_and_test_files_when_there_is_no_all_labels(tmp_path):
    home = tmp_path / "Home2"
    home.mkdir()
    first, second = record("01", "00", 1, []), record("02", "00", 1, [])
    (home / "train_data.json").write_text(json.dumps([first]))
    (home / "test_data.json").write_text(json.dumps([second, first]))
    specs, problems = read_home(tmp_path, "Home2")
    assert [(s.sequence_id, s.dataset_split) for s in specs] == [
        ("Home2/01/00-Part1", "train"),
        ("Home2/02/00-Part1", "test"),
    ]
    assert problems == []


def test_read_home_without_annotations_names_the_folder(tmp_path):
    (tmp_path / "Home3").mkdir()
    with pytest.raises(RecordingError, match="no all_labels.json") as error:
        read_home(tmp_path, "Home3")
    assert error.value.path.endswith("Home3")
