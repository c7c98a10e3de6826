"""Acceptance: ingestion of a small dataset in the real layout (both naming conventions, bad inputs)."""

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from data.fake_home import record, view_colour, write_json, write_view
from vicokd.data import ingest
from vicokd.data.annotations import CLASSES, RecordingError
from vicokd.data.decoding import decode_view
from vicokd.data.ingest import IngestionSettings, ingest_dataset

SETTINGS = IngestionSettings(image_size=(16, 20), sample_rate=16000, num_mel_bins=128,
                             with_audio=True, time_tolerance=0.4, view_length_tolerance=0.5, strict=False,
                             num_workers=0)
STRICT = SETTINGS.model_copy(update={"image_size": (8, 8), "strict": True})


@pytest.fixture(scope="module")
def ingested(fake_dataset):
    kept = {}
    records = logging.getLogger("vicokd.data.ingest")
    handler = _ListHandler()
    records.addHandler(handler)
    try:
        report = ingest_dataset(
            fake_dataset,
            ["Home1", "Home2"],
            SETTINGS,
            lambda s: kept.__setitem__(s.row["sequence_id"], s),
        )
    finally:
        records.removeHandler(handler)
    return kept, report, handler.messages


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_keeps_the_good_sequences_with_unique_ids(ingested):
    kept, report, _ = ingested
    assert list(kept) == [
        "Home1/01/00-Part1",
        "Home1/01/00-Part2",
        "Home1/02/00-Part1",
        "Home2/01/00-Part1",
    ]
    assert report.kept == list(kept)


def test_sequence_rows(ingested):
    kept, _, _ = ingested
    first = kept["Home1/01/00-Part1"].row
    assert (first["home"], first["session"], first["video_id"], first["part"]) == (
        "Home1",
        "01",
        "00",
        1,
    )
    assert first["n_frames"] == 9  # View3 has 36 frames at 10 fps → 9 at 2.5 FPS; the others 10
    assert first["native_fps"] == 10.0 and first["duration"] == pytest.approx(3.6)
    assert first["labels"] == ["Drink", "Sitdown", "UsePhone"]
    assert first["view_paths"][3] == "Home1/01/00-View4-Part1.mp4"
    assert json.loads(first["tricks"])[0] == {"start": 0.5, "end": 1.3, "labels": ["Sitdown"]}
    assert (
        first["dataset_split"] == "train"
        and kept["Home1/02/00-Part1"].row["dataset_split"] == "test"
    )
    assert kept["Home1/01/00-Part2"].row["n_frames"] == 10
    assert kept["Home2/01/00-Part1"].row["labels"] == ["Enter"]


def test_arrays_share_the_frame_axis_and_keep_view_order(ingested):
    sequence = ingested[0]["Home1/01/00-Part1"]
    assert sequence.frames.shape == (5, 9, 16, 20, 3) and sequence.frames.dtype == np.uint8
    assert (
        sequence.audio_features.shape == (5, 9, 40, 128)
        and sequence.audio_features.dtype == np.float16
    )
    assert sequence.frame_labels.shape == (9, 16) and sequence.frame_labels.dtype == np.uint8
    grey = sequence.frames.reshape(5, -1).mean(axis=1)
    np.testing.assert_allclose(grey, [view_colour(v) for v in range(1, 6)], atol=4)
    assert all(view.any() for view in sequence.audio_features)  # every view has its audio


def test_frame_labels_at_the_boundaries(ingested):
    labels = ingested[0]["Home1/01/00-Part1"].frame_labels
    sit, drink, phone = (CLASSES.index(c) for c in ("Sitdown", "Drink", "UsePhone"))
    # Sitdown 0.5-1.3 s: frames round(1.25)=1 .. round(3.25)=3; Drink+UsePhone 1.7-3.0 s: 4 .. round(7.5)=8
    assert np.flatnonzero(labels[:, sit]).tolist() == [1, 2, 3]
    assert np.flatnonzero(labels[:, drink]).tolist() == [4, 5, 6, 7, 8]
    assert np.flatnonzero(labels[:, phone]).tolist() == [4, 5, 6, 7, 8]
    assert labels.sum() == 13
    stand = ingested[0]["Home1/02/00-Part1"].frame_labels[:, CLASSES.index("Standup")]
    assert np.flatnonzero(stand).tolist() == [5, 6, 7, 8, 9]  # 2.0-4.0 s, clipped to 10 frames


def test_bad_inputs_are_left_out_with_a_warning_naming_file_and_problem(ingested, fake_dataset):
    _, report, warnings = ingested
    problems = {
        (item["file"], item["problem"].split(":")[0].split(" (")[0]) for item in report.skipped
    }
    corrupt = str(fake_dataset / "Home2/01/01-View4-Part1.mp4")
    missing = str(fake_dataset / "Home2/01/02-View5-Part1.mp4")
    assert (corrupt, "unreadable or corrupt mp4") in problems
    assert (missing, "view file is missing") in problems
    all_labels = str(fake_dataset / "Home1/all_labels.json")
    reasons = [item["problem"] for item in report.skipped if item["file"] == all_labels]
    assert len(reasons) == 4
    silent = str(fake_dataset / "Home1/03/01-View2-Part1.mp4")
    assert [item for item in report.skipped if item["file"] == silent] == [
        {"file": silent, "kind": "no_audio",
         "problem": "no audio stream (every view needs its audio)"}
    ]
    assert any("unknown label(s) ['Dance']" in r for r in reasons)
    duplicate = [item for item in report.skipped if item["kind"] == "duplicate_record"]
    assert duplicate == [
        {
            "file": all_labels,
            "kind": "duplicate_record",
            "problem": "Home1/02/00-Part1 (record [6]): a second record of this sequence; it has "
            f"other tricks than record [2] of {all_labels}, which is kept",
        }
    ]
    assert any("Home1/02/00-Part1 (record [6]): a second record" in m for m in warnings)
    assert any("Home1/02/02-Part1 (record [4]): trick [0] times" in r for r in reasons)
    assert any("Home1/03/00-Part1" in r and "beyond the video" in r for r in reasons)
    assert any(corrupt in message and "corrupt" in message for message in warnings)
    assert len(warnings) == len(report.skipped) == 7
    assert report.warnings == []
    assert report.as_dict()["skipped_by_kind"] == {
        "malformed_record": 2, "duplicate_record": 1, "unreadable_mp4": 1, "missing_view": 1,
        "trick_beyond_video": 1, "no_audio": 1,
    }


def test_strict_mode_raises_on_the_first_bad_sequence(fake_dataset):
    with pytest.raises(RecordingError, match="Home2/01/02-View5-Part1.mp4: view file is missing"):
        ingest_dataset(fake_dataset, ["Home2"], STRICT, lambda s: None)


def test_strict_mode_refuses_a_view_without_audio_naming_its_mp4(fake_dataset, tmp_path):
    silent = record("03", "01", 1, [])
    write_json(tmp_path / "Home1" / "all_labels.json", [silent])
    for view in range(1, 6):  # the fixture's mp4 files, View2 without an audio stream
        (tmp_path / "Home1" / silent[f"video_url_{view}"]).parent.mkdir(exist_ok=True)
        (tmp_path / "Home1" / silent[f"video_url_{view}"]).symlink_to(
            fake_dataset / "Home1" / silent[f"video_url_{view}"]
        )
    with pytest.raises(RecordingError, match=r"Home1/03/01-View2-Part1.mp4: no audio stream"):
        ingest_dataset(tmp_path, ["Home1"], STRICT, lambda s: None)


@pytest.fixture(scope="module")
def cut_views(tmp_path_factory):
    """Home1: three sequences of five 30-frame views at 5 fps (6 s), each with View3 cut to 8, 26
    or 28 frames; their trick ends at 5.5 s, beyond the 8-frame view (1.6 s)."""
    root = tmp_path_factory.mktemp("cut_views")
    tricks = [{"start": 0.0, "end": 5.5, "labels": ["Eat"]}]
    records = [record("01", f"0{i}", 1, tricks) for i in range(3)]
    for rec, cut in zip(records, (8, 26, 28), strict=True):
        for view in range(1, 6):
            path = root / "Home1" / rec[f"video_url_{view}"]
            write_view(path, cut if view == 3 else 30, 5, view_colour(view))
    write_json(root / "Home1" / "all_labels.json", records)
    return root


def test_a_view_cut_short_is_a_media_problem_naming_the_mp4_and_both_lengths(cut_views):
    kept = []
    report = ingest_dataset(cut_views, ["Home1"], SETTINGS, kept.append)
    problem = (
        "the view is {} s long, {}-View1-Part1.mp4 6.00 s: cut short (the views of a sequence "
        "may differ by view_length_tolerance_s = 0.5 s)"
    )
    assert report.skipped == [
        {"file": str(cut_views / "Home1/01/00-View3-Part1.mp4"), "kind": "short_view",
         "problem": problem.format("1.60", "00")},
        {"file": str(cut_views / "Home1/01/01-View3-Part1.mp4"), "kind": "short_view",
         "problem": problem.format("5.20", "01")},
    ]
    # 28 of 30 frames is 0.4 s short, within the tolerance: the shortest view sets the length
    assert [(s.row["sequence_id"], s.row["n_frames"]) for s in kept] == [("Home1/01/02-Part1", 14)]
    with pytest.raises(RecordingError, match=r"01/00-View3-Part1.mp4: the view is 1.60 s long"):
        ingest_dataset(cut_views, ["Home1"], STRICT, lambda s: None)


def test_strict_mode_refuses_a_second_record_of_a_sequence_before_decoding(tmp_path):
    path = tmp_path / "Home1" / "all_labels.json"
    write_json(path, [record("01", "00", 1, []), record("01", "00", 1, [])])  # no mp4 needed
    with pytest.raises(RecordingError, match=r"all_labels.json: Home1/01/00-Part1 \(record \[1\]\): "
                       r"a second record of this sequence; it repeats record \[0\] of .*all_labels"):
        ingest_dataset(tmp_path, ["Home1"], STRICT, lambda s: None)


@pytest.mark.parametrize("settings", [SETTINGS, STRICT], ids=["lenient", "strict"])
def test_a_home_with_an_empty_record_list_stops_ingestion_naming_it(tmp_path, settings):
    write_json(tmp_path / "Home1" / "all_labels.json", [])
    with pytest.raises(RecordingError) as error:
        ingest_dataset(tmp_path, ["Home1"], settings, lambda s: None)
    assert str(error.value).startswith(
        f"{tmp_path / 'Home1'}: no usable sequence among 0 records: 1 empty annotation file"
    )
    assert error.value.kind == "no_usable_sequence"


def test_a_home_whose_records_leave_nothing_stops_before_anything_is_decoded(
    tmp_path, monkeypatch
):
    """Home1's record is good, but nothing may be decoded: Home2, read next, has no usable one."""
    monkeypatch.setattr(ingest, "decode_view", _never_called)
    write_json(tmp_path / "Home1" / "all_labels.json", [record("01", "00", 1, [])])
    bad_label = record("01", "01", 1, [{"start": 0, "end": 1, "labels": ["Dance"]}])
    write_json(tmp_path / "Home2" / "train_data.json", ["oops", bad_label])
    (tmp_path / "Home2" / "test_data.json").write_text("[{")
    with pytest.raises(RecordingError) as error:
        ingest_dataset(tmp_path, ["Home1", "Home2"], SETTINGS, lambda s: None)
    assert str(error.value).startswith(
        f"{tmp_path / 'Home2'}: no usable sequence among 2 records: 1 unreadable annotation "
        "file, 2 malformed records (each named in a warning above)"
    )


def _never_called(*args, **kwargs):
    raise AssertionError("a view was decoded")


def test_a_home_whose_sequences_all_fail_stops_right_after_its_decoding(tmp_path, monkeypatch):
    """Home2 (read first) lists two sequences without mp4 files; Home1, next, is never decoded."""
    decoded = []

    def counting(path, *args, **kwargs):
        decoded.append(Path(path).relative_to(tmp_path).as_posix())
        return decode_view(path, *args, **kwargs)

    monkeypatch.setattr(ingest, "decode_view", counting)
    write_json(tmp_path / "Home2" / "test_data.json", [record("01", "00", 1, []),
                                                       record("01", "01", 1, [])])
    write_json(tmp_path / "Home1" / "all_labels.json", [record("01", "00", 1, [])])
    kept = []
    with pytest.raises(RecordingError) as error:
        ingest_dataset(tmp_path, ["Home2", "Home1"], SETTINGS, kept.append)
    assert str(error.value).startswith(
        f"{tmp_path / 'Home2'}: no usable sequence among 2 records: 2 missing view files"
    )
    assert decoded == ["Home2/01/00-View1-Part1.mp4", "Home2/01/01-View1-Part1.mp4"]
    assert kept == []


def test_malformed_records_never_crash_and_name_the_file(tmp_path, caplog):
    path = tmp_path / "Home1" / "all_labels.json"
    nan_start = record("01", "00", 1, [{"start": float("nan"), "end": 1.0, "labels": ["Eat"]}])
    write_json(path, [nan_start, "oops"])
    with pytest.raises(RecordingError, match="Home1: no usable sequence among 2 records: "
                                             "2 malformed records"):
        ingest_dataset(tmp_path, ["Home1"], SETTINGS, lambda s: None)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        f"Leaving out: {path}: Home1/01/00-Part1 (record [0]): trick [0] start is nan, not a "
        + "finite number of seconds",
        f"Leaving out: {path}: record [1] is 'oops' (str), not an object with video_url_1..5 "
        + "and tricks",
    ]
    with pytest.raises(RecordingError, match=r"all_labels.json: Home1/01/00-Part1 \(record \[0\]\)"):
        ingest_dataset(tmp_path, ["Home1"], STRICT, lambda s: None)
