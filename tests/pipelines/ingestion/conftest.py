"""A two-home dataset in the real layout (one corrupt view), written with tests/data/fake_home.py."""

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "fake_home", Path(__file__).parents[2] / "data" / "fake_home.py"
)
fake_home = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_home)

GOOD = [
    fake_home.record("01", "00", 1, [{"start": 0.0, "end": 1.0, "labels": ["Sitdown"]}]),
    fake_home.record("01", "00", 2, [{"start": 1.0, "end": 3.0, "labels": ["Drink", "Eat"]}]),
]
BROKEN = fake_home.record("01", "03", 1, [{"start": 0.0, "end": 2.0, "labels": ["Enter"]}])
SHORT = fake_home.record("01", "00", 1, [{"start": 0.0, "end": 1.0, "labels": ["Exit"]}])


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    """Home1 (all_labels.json): two good sequences of 4 s; Home2 (train_data/test_data): a good
    sequence of 2 s and one whose View2 is truncated."""
    root = tmp_path_factory.mktemp("recordings")
    for rec in GOOD:
        fake_home.write_sequence(root / "Home1", rec, n_frames=40)
    fake_home.write_json(root / "Home1" / "all_labels.json", GOOD)
    fake_home.write_sequence(root / "Home2", SHORT, n_frames=20)
    fake_home.write_sequence(root / "Home2", BROKEN, n_frames=40)
    broken = root / "Home2" / BROKEN["video_url_2"]
    broken.write_bytes(broken.read_bytes()[:-200])
    fake_home.write_json(root / "Home2" / "train_data.json", [])
    fake_home.write_json(root / "Home2" / "test_data.json", [SHORT, BROKEN])
    return root
