"""A small dataset in the real MultiSensor-Home layout, written once per test session with PyAV."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.fake_home import record, write_json, write_sequence, write_view

#: Home1 (all_labels.json + train.json/test.json): id 00 in two sessions and two parts.
SITDOWN_DRINK = record(
    "01",
    "00",
    1,
    [
        {"start": 0.5, "end": 1.3, "labels": ["Sitdown"]},
        {"start": 1.7, "end": 3.0, "labels": ["Drink", "UsePhone"]},
    ],
)
READ = record("01", "00", 2, [{"start": 0.0, "end": 3.9, "labels": ["ReadBook"]}])
STAND = record("02", "00", 1, [{"start": 2.0, "end": 4.0, "labels": ["Standup"]}])
UNKNOWN_LABEL = record("02", "01", 1, [{"start": 0.0, "end": 1.0, "labels": ["Dance"]}])
END_BEFORE_START = record("02", "02", 1, [{"start": 2.0, "end": 1.0, "labels": ["Eat"]}])
BEYOND_VIDEO = record("03", "00", 1, [{"start": 1.0, "end": 9.0, "labels": ["Eat"]}])
#: A second record of STAND's sequence, with other tricks (STAND, the first, is kept).
STAND_AGAIN = record("02", "00", 1, [{"start": 0.0, "end": 4.0, "labels": ["Drink"]}])
SILENT = record("03", "01", 1, [{"start": 0.0, "end": 2.0, "labels": ["Clean"]}])
#: Home2 (train_data.json / test_data.json only).
ENTER = record("01", "00", 1, [{"start": 0.0, "end": 1.2, "labels": ["Enter"]}])
CORRUPT = record("01", "01", 1, [{"start": 0.0, "end": 1.0, "labels": ["Exit"]}])
MISSING_VIEW = record("01", "02", 1, [{"start": 0.0, "end": 1.0, "labels": ["Clean"]}])


def write_dataset(root: Path) -> Path:
    """Every view is 40 frames at 10 fps (4 s, 10 frames at 2.5 FPS) unless noted."""
    home1, home2 = root / "Home1", root / "Home2"
    write_sequence(home1, SITDOWN_DRINK, short_view=3)  # View3: 36 frames → 9 at 2.5 FPS
    write_sequence(home1, READ)
    write_sequence(home1, STAND)
    write_sequence(home1, BEYOND_VIDEO)
    write_sequence(home1, SILENT, silent_view=2)  # View2: an mp4 without an audio stream
    every = [
        SITDOWN_DRINK, READ, STAND, UNKNOWN_LABEL, END_BEFORE_START, BEYOND_VIDEO, STAND_AGAIN,
        SILENT,
    ]
    write_json(home1 / "all_labels.json", every)
    write_json(home1 / "train.json", [SITDOWN_DRINK, READ])
    write_json(home1 / "test.json", [STAND])
    write_sequence(home2, ENTER)
    write_sequence(home2, CORRUPT)
    corrupt = home2 / CORRUPT["video_url_4"]
    corrupt.write_bytes(corrupt.read_bytes()[: corrupt.stat().st_size // 2])
    write_sequence(home2, MISSING_VIEW)
    (home2 / MISSING_VIEW["video_url_5"]).unlink()
    write_json(home2 / "train_data.json", [ENTER, MISSING_VIEW])
    write_json(home2 / "test_data.json", [CORRUPT])
    return root


@pytest.fixture(scope="session")
def fake_dataset(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("multisensor_home"))


@pytest.fixture(scope="session")
def one_view(tmp_path_factory) -> Path:
    """A 40-frame, 10 fps view of grey level 120 with a 4 s tone."""
    path = tmp_path_factory.mktemp("view") / "00-View3-Part1.mp4"
    write_view(path, 40, 10, 120)
    return path
