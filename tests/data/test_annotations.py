import json
import math

import numpy as np
import pytest

from data.fake_home import record
from vicokd.data.annotations import CLASSES, RecordingError, frame_labels, parse_record, read_home

SITDOWN = {"start": 0.5, "end": 1.0, "labels": ["Sitdown"]}


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
        ([{"end": 1, "labels": ["Eat"]}], r"trick \[0\] .* lacks start"),
        ([SITDOWN, {"start": math.nan, "end": 1, "labels": ["Eat"]}],
         r"trick \[1\] start is nan, not a finite number"),
        ([{"start": 0, "end": math.inf, "labels": ["Eat"]}], "end is inf, not a finite number"),
        ([{"start": True, "end": 2, "labels": ["Eat"]}], r"start is True \(bool\), not a number"),
        ([{"start": "0.5", "end": 2, "labels": ["Eat"]}], r"start is '0.5' \(str\), not a number"),
        ([{"start": 0, "end": 2, "labels": "Eat"}], "labels 'Eat' is not a list of class names"),
        (["Eat"], r"trick \[0\] is 'Eat', not an object with start, end and labels"),
    ],
)
def test_parse_record_rejects_bad_tricks_naming_file_record_and_problem(tricks, problem):
    with pytest.raises(RecordingError, match=problem) as error:
        parse_record(record("01", "00", 1, tricks), "Home1", "Home1/all_labels.json", index=4)
    assert error.value.path == "Home1/all_labels.json"
    assert error.value.problem.startswith("Home1/01/00-Part1 (record [4]): ")


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("01/00-View1-Part1.mp4", r"record \[2\] is '01/00-View1-Part1.mp4' \(str\), not an object"),
        (None, r"record \[2\] is None \(NoneType\), not an object"),
        ({k: v for k, v in record("01", "00", 1, []).items() if k != "tricks"},
         r"Home1/01/00-Part1 \(record \[2\]\): has no tricks"),
        ({**record("01", "00", 1, []), "tricks": {"start": 0}}, "tricks .* not a list"),
        ({**record("01", "00", 1, []), "video_url_2": 7},
         r"record \[2\] \('01/00-View1-Part1.mp4'\) has no video_url_2"),
    ],
)
def test_parse_record_rejects_malformed_records(bad, problem):
    with pytest.raises(RecordingError, match=problem) as error:
        parse_record(bad, "Home1", "all_labels.json", index=2)
    assert error.value.path == "all_labels.json"


def test_parse_record_keeps_an_explicitly_empty_trick_list():
    spec = parse_record(record("01", "00", 1, []), "Home1", "x.json")
    assert spec.tricks == () and spec.labels == ()


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
    (home / "test_data.json").write_text(json.dumps([second]))
    specs, problems, notes, records = read_home(tmp_path, "Home2")
    assert [(s.sequence_id, s.dataset_split) for s in specs] == [
        ("Home2/01/00-Part1", "train"),
        ("Home2/02/00-Part1", "test"),
    ]
    assert problems == [] and notes == [] and records == 2


def test_read_home_names_a_second_record_of_a_sequence_and_keeps_the_first(tmp_path):
    home = tmp_path / "Home1"
    home.mkdir()
    first = record("01", "00", 1, [SITDOWN])
    other_tricks = record("01", "00", 1, [{"start": 0.0, "end": 2.0, "labels": ["Eat"]}])
    (home / "all_labels.json").write_text(
        json.dumps([first, record("02", "00", 1, []), first, other_tricks])
    )
    specs, problems, _, records = read_home(tmp_path, "Home1")
    assert [(s.sequence_id, s.labels) for s in specs] == [
        ("Home1/01/00-Part1", ("Sitdown",)),
        ("Home1/02/00-Part1", ()),
    ]
    assert records == 4
    source = str(home / "all_labels.json")
    assert [(p.path, p.kind, p.problem) for p in problems] == [
        (
            source,
            "duplicate_record",
            (f"Home1/01/00-Part1 (record [2]): a second record of this sequence; it repeats "
            f"record [0] of {source}, which is kept"),
        ),
        (
            source,
            "duplicate_record",
            (f"Home1/01/00-Part1 (record [3]): a second record of this sequence; it has other "
            f"tricks than record [0] of {source}, which is kept"),
        ),
    ]


def test_a_sequence_in_both_split_files_is_a_duplicate_naming_both_files(tmp_path):
    home = tmp_path / "Home2"
    home.mkdir()
    (home / "train_data.json").write_text(json.dumps([record("01", "00", 1, [SITDOWN])]))
    (home / "test_data.json").write_text(json.dumps([record("01", "00", 1, [])]))
    specs, problems, _, _ = read_home(tmp_path, "Home2")
    assert [(s.sequence_id, s.dataset_split) for s in specs] == [("Home2/01/00-Part1", "train")]
    assert [(p.path, p.kind) for p in problems] == [
        (str(home / "test_data.json"), "duplicate_record")
    ]
    assert f"record [0] of {home / 'train_data.json'}, which is kept" in problems[0].problem


def test_read_home_without_annotations_names_the_folder(tmp_path):
    (tmp_path / "Home3").mkdir()
    with pytest.raises(RecordingError, match="no all_labels.json") as error:
        read_home(tmp_path, "Home3")
    assert error.value.path.endswith("Home3")


def test_read_home_leaves_out_malformed_records_and_keeps_the_rest(tmp_path):
    good = record("01", "00", 1, [SITDOWN])
    no_tricks = {k: v for k, v in record("01", "01", 1, []).items() if k != "tricks"}
    nan_time = record("01", "02", 1, [{"start": math.nan, "end": 1.0, "labels": ["Eat"]}])
    labels_string = record("01", "03", 1, [{"start": 0, "end": 1, "labels": "Eat"}])
    home = tmp_path / "Home1"
    home.mkdir()
    # json.dumps writes NaN as the bare token NaN, which json.loads reads back as float('nan')
    (home / "all_labels.json").write_text(
        json.dumps([good, "oops", no_tricks, nan_time, labels_string])
    )
    specs, problems, notes, _ = read_home(tmp_path, "Home1")
    assert [spec.sequence_id for spec in specs] == ["Home1/01/00-Part1"]
    assert notes == []
    assert [problem.path for problem in problems] == [str(home / "all_labels.json")] * 4
    messages = [problem.problem for problem in problems]
    assert messages[0].startswith("record [1] is 'oops' (str)")
    assert messages[1].startswith("Home1/01/01-Part1 (record [2]): has no tricks")
    assert messages[2] == (
        "Home1/01/02-Part1 (record [3]): trick [0] start is nan, not a finite number of seconds"
    )
    assert messages[3] == (
        "Home1/01/03-Part1 (record [4]): trick [0] labels 'Eat' is not a list of class names"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "annotation file is empty"),
        ("  \n", "annotation file is empty"),
        ("[{", "annotation file is not valid JSON"),
        ('{"tricks": []}', "annotation file holds a dict, not a list of records"),
    ],
)
def test_read_home_leaves_out_an_unreadable_file_and_reads_the_others(tmp_path, content, problem):
    home = tmp_path / "Home2"
    home.mkdir()
    (home / "train_data.json").write_text(content)
    (home / "test_data.json").write_text(json.dumps([record("02", "00", 1, [SITDOWN])]))
    specs, problems, notes, _ = read_home(tmp_path, "Home2")
    assert [(s.sequence_id, s.dataset_split) for s in specs] == [("Home2/02/00-Part1", "test")]
    assert [(p.path, p.problem.split(" (")[0]) for p in problems] == [
        (str(home / "train_data.json"), problem)
    ]
    assert notes == []


def test_read_home_notes_a_file_without_records(tmp_path):
    home = tmp_path / "Home2"
    home.mkdir()
    (home / "train_data.json").write_text("[]")
    (home / "test_data.json").write_text("[]")
    specs, problems, notes, _ = read_home(tmp_path, "Home2")
    assert specs == [] and problems == []
    assert [(note.path, note.problem) for note in notes] == [
        (str(home / "train_data.json"), "annotation file holds no records"),
        (str(home / "test_data.json"), "annotation file holds no records"),
    ]


def test_read_home_reads_files_that_start_with_a_utf8_bom(tmp_path):
    """Windows editors save JSON with a byte order mark; the records are read as without it."""
    home = tmp_path / "Home1"
    home.mkdir()
    with_bom = b"\xef\xbb\xbf" + json.dumps([record("01", "00", 1, [SITDOWN])]).encode()
    (home / "all_labels.json").write_bytes(with_bom)
    (home / "train.json").write_bytes(with_bom)
    specs, problems, notes, _ = read_home(tmp_path, "Home1")
    assert [(s.sequence_id, s.dataset_split, s.labels) for s in specs] == [
        ("Home1/01/00-Part1", "train", ("Sitdown",))
    ]
    assert problems == [] and notes == []


def _with_channels(rec: dict) -> dict:
    """``rec`` as the real Home2 files write it: every segment carries ``"channel": 0``."""
    return {**rec, "tricks": [{**trick, "channel": 0} for trick in rec["tricks"]]}


def test_real_home2_files_all_labels_beside_the_split_files_and_channel_keys(tmp_path):
    """Records come from all_labels.json, split membership from train_data/test_data.json; the
    segments' extra "channel" key is ignored; no record counts as a duplicate."""
    home = tmp_path / "Home2"
    home.mkdir()
    train = _with_channels(record("01", "00", 1, [SITDOWN]))
    test = _with_channels(record("02", "00", 1, [{"start": 1.0, "end": 2.5, "labels": ["Eat"]}]))
    unlisted = _with_channels(record("03", "00", 2, []))
    (home / "all_labels.json").write_text(json.dumps([train, test, unlisted]))
    (home / "train_data.json").write_text(json.dumps([train]))
    (home / "test_data.json").write_text(json.dumps([test]))
    specs, problems, notes, records = read_home(tmp_path, "Home2")
    assert problems == [] and notes == [] and records == 3
    assert [(s.sequence_id, s.dataset_split, s.labels, s.tricks) for s in specs] == [
        ("Home2/01/00-Part1", "train", ("Sitdown",), (SITDOWN,)),
        ("Home2/02/00-Part1", "test", ("Eat",), ({"start": 1.0, "end": 2.5, "labels": ["Eat"]},)),
        ("Home2/03/00-Part2", None, (), ()),
    ]
    labels = frame_labels(specs[1].tricks, 8)
    assert labels[:, CLASSES.index("Eat")].tolist() == [0, 0, 1, 1, 1, 1, 1, 0]  # 2.5..6.25 → 2..6
