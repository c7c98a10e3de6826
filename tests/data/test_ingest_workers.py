"""Ingestion with spawned worker processes (as the default and paper environments run it): bad
files are named and their sequences left out exactly as without workers, and a worker that dies
costs only the sequence it was decoding."""

import numpy as np
import pytest

from data import crashing_worker
from data.fake_home import record, write_json, write_sequence
from project_parameters import multisensor_home
from vicokd.data import worker_pool
from vicokd.data.ingest import IngestionSettings, ingest_dataset

LENIENT = IngestionSettings(dataset=multisensor_home(), image_size=(8, 8), sample_rate=16000,
                            num_mel_bins=128, with_audio=True, time_tolerance=0.4,
                            view_length_tolerance=0.5, strict=False, num_workers=0)
TWO_WORKERS = LENIENT.model_copy(update={"num_workers": 2})
TRICKS = [{"start": 0.0, "end": 0.8, "labels": ["Drink"]}]
#: Session 01: good; 02: its View3 kills a worker (crash tests only); 03: View2 truncated;
#: 04: View4 zero bytes; 05: View5 without audio; 06: good.
RECORDS = [record(f"0{session}", "00", 1, TRICKS) for session in range(1, 7)]
pytestmark = pytest.mark.usefixtures("two_cores")  # pools of two processes under `make test` too


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    """Home1 with the six sequences of RECORDS, 10 frames (1 s) per view."""
    root = tmp_path_factory.mktemp("bad_files")
    home = root / "Home1"
    for rec in RECORDS:
        write_sequence(home, rec, n_frames=10, silent_view=5 if rec is RECORDS[4] else None)
    truncated = home / RECORDS[2]["video_url_2"]
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    (home / RECORDS[3]["video_url_4"]).write_bytes(b"")
    write_json(home / "all_labels.json", RECORDS)
    return root


def run(root, settings):
    """The sequences kept (by id) and the report of ingesting Home1 of ``root``."""
    kept = {}
    report = ingest_dataset(
        root, ["Home1"], settings, lambda seq: kept.setdefault(seq.row["sequence_id"], seq)
    )
    return kept, report


def test_bad_files_are_named_and_skipped_with_workers_exactly_as_without(bad_files):
    """The workers hand back the same results and problems as this process makes (strict mode
    raises the first problem as it comes, with or without workers)."""
    alone, alone_report = run(bad_files, LENIENT)
    pooled, pooled_report = run(bad_files, TWO_WORKERS)
    assert list(pooled) == list(alone) == [
        "Home1/01/00-Part1", "Home1/02/00-Part1", "Home1/06/00-Part1"
    ]
    for key, sequence in alone.items():
        assert pooled[key].row == sequence.row
        np.testing.assert_array_equal(pooled[key].frames, sequence.frames)
        np.testing.assert_array_equal(pooled[key].audio_features, sequence.audio_features)
    assert pooled_report.skipped == alone_report.skipped
    assert [(item["file"], item["kind"]) for item in pooled_report.skipped] == [
        (str(bad_files / "Home1/03/00-View2-Part1.mp4"), "unreadable_mp4"),
        (str(bad_files / "Home1/04/00-View4-Part1.mp4"), "unreadable_mp4"),
        (str(bad_files / "Home1/05/00-View5-Part1.mp4"), "no_audio"),
    ]


def test_a_dying_worker_costs_only_its_sequence_and_names_the_file(bad_files, monkeypatch):
    monkeypatch.setattr(worker_pool, "_in_worker", crashing_worker.in_worker_dying_on_fatal_file)
    kept, report = run(bad_files, TWO_WORKERS)
    assert list(kept) == ["Home1/01/00-Part1", "Home1/06/00-Part1"]
    fatal = str(bad_files / "Home1" / crashing_worker.FATAL)
    assert report.skipped[0] == {
        "file": fatal, "kind": "worker_crash",
        "problem": "the decoding worker process died while decoding it (its sequence "
                   "Home1/02/00-Part1 is left out)",
    }
    assert [item["kind"] for item in report.skipped[1:]] == ["unreadable_mp4", "unreadable_mp4",
                                                             "no_audio"]
