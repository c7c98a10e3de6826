"""Finding recordings in both layouts, and decoding them with ingestion's code, bad views reported."""
import shutil

import numpy as np
import pytest

from conftest import fake_home
from project_parameters import multisensor_home
from vicokd.data.annotations import RecordingError
from vicokd.data.ingest import IngestionSettings
from vicokd.inference.evaluation import read_labelled
from vicokd.inference.recordings import decode_recordings, find_recordings

MSH = multisensor_home()
pytestmark = pytest.mark.usefixtures("two_cores")  # pools of two processes under `make test` too
TRICKS = [{"start": 0.4, "end": 1.2, "labels": ["Drink"]}]


def _settings(workers: int, with_audio: bool = True) -> IngestionSettings:
    return IngestionSettings(dataset=MSH, image_size=(16, 24), sample_rate=16000, num_mel_bins=128,
                             with_audio=with_audio, time_tolerance=0.4, view_length_tolerance=1.0,
                             strict=False,
                             num_workers=workers)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Five views of 10 frames at 5 fps (2 s, 5 frames at 2.5 FPS) in every layout, some broken."""
    root = tmp_path_factory.mktemp("recordings")
    for view in range(1, 6):
        fake_home.write_view(root / "Home9" / "01" / f"00-View{view}-Part1.mp4", 10, 5, fake_home.view_colour(view))
    for view in range(1, 5):  # Part2 lacks View5
        shutil.copy(root / "Home9" / "01" / f"00-View{view}-Part1.mp4", root / "Home9" / "01" / f"00-View{view}-Part2.mp4")
    fake_home.write_json(root / "Home9" / "all_labels.json", [fake_home.record("01", "00", 1, TRICKS)])
    for view in range(1, 6):
        source = root / "Home9" / "01" / f"00-View{view}-Part1.mp4"
        shutil.copy(source, _mkdir(root / "kitchen") / f"View{view}.mp4")
        if view != 3:  # the hall has no view 3
            shutil.copy(source, _mkdir(root / "hall") / f"cam_view{view}.mp4")
    shutil.copy(root / "kitchen" / "View1.mp4", root / "notes.mp4")
    return root


def _mkdir(path):
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_both_layouts_are_found_with_their_views_in_order(recordings):
    found = find_recordings(recordings, MSH)
    assert [r.name for r in found.recordings] == ["Home9/01/00-Part1", "Home9/01/00-Part2", "kitchen"]
    part1, part2, kitchen = found.recordings
    assert part1.view_paths == tuple(f"Home9/01/00-View{k}-Part1.mp4" for k in range(1, 6))
    assert part2.view_paths[4] == "Home9/01/00-View5-Part2.mp4"  # missing: decoding names it
    assert kitchen.view_paths == tuple(f"kitchen/View{k}.mp4" for k in range(1, 6))
    # the home's annotation file gives Part1 its tricks; Part2 and the kitchen have none
    assert part1.tricks == tuple(TRICKS) and part2.tricks is None and kitchen.tricks is None
    assert [str(p) for p in found.problems] == [(f"{recordings / 'hall'}: no file of view(s) [3] among "
                                               "cam_view1.mp4, cam_view2.mp4, cam_view4.mp4, cam_view5.mp4")]
    assert found.ignored == ["notes.mp4"]


def test_a_folder_of_one_recording_given_directly_is_named_after_itself(recordings):
    assert [(r.name, r.view_paths[0]) for r in find_recordings(recordings / "kitchen", MSH).recordings] == [
        ("kitchen", "View1.mp4")]
    with pytest.raises(FileNotFoundError, match="recordings folder is missing"):
        find_recordings(recordings / "nowhere", MSH)
    with pytest.raises(ValueError, match="holds no .mp4"):
        find_recordings(_mkdir(recordings.parent / "empty_recordings"), MSH)


@pytest.mark.parametrize("workers", [0, 2])
def test_decoding_as_ingestion_with_a_missing_view_reported_and_the_others_kept(recordings, workers):
    found = find_recordings(recordings, MSH)
    results = {r.name: d for r, d in decode_recordings(found.recordings, recordings, _settings(workers))}
    problem = results["Home9/01/00-Part2"]
    assert isinstance(problem, RecordingError)
    assert problem.path == str(recordings / "Home9/01/00-View5-Part2.mp4") and problem.problem == "view file is missing"
    for name in ("Home9/01/00-Part1", "kitchen"):
        frames = results[name].frames
        assert frames.shape == (5, 5, 16, 24, 3) and frames.dtype == np.uint8  # 10 frames at 5 fps, stride 2
        # views in view order: each view's flat grey level
        assert np.abs(frames.mean(axis=(1, 2, 3, 4)) - [fake_home.view_colour(v) for v in range(1, 6)]).max() < 3
    # the annotation's frame labels, as ingestion makes them: Drink on frames round(1.0)..round(3.0)
    assert results["Home9/01/00-Part1"].frame_labels[:, 4].tolist() == [0, 1, 1, 1, 0]


def test_views_without_audio_are_decoded_in_workers_for_a_model_that_hears_none(tmp_path):
    """Cameras without microphones: decoded without audio (as inference of a visual-only student
    decodes) the recording is kept, with no audio features; decoded with audio (as ingestion for the
    teacher decodes) its first view is named as a view without audio."""
    for view in range(1, 6):
        fake_home.write_view(tmp_path / "mute" / f"View{view}.mp4", 10, 5, fake_home.view_colour(view),
                             audio=False)
    found = find_recordings(tmp_path, MSH)
    [(_, silent)] = decode_recordings(found.recordings, tmp_path, _settings(2, with_audio=False))
    assert silent.frames.shape == (5, 5, 16, 24, 3) and silent.audio_features is None
    assert np.abs(silent.frames.mean(axis=(1, 2, 3, 4)) - [fake_home.view_colour(v) for v in range(1, 6)]).max() < 3
    [(_, refused)] = decode_recordings(found.recordings, tmp_path, _settings(2, with_audio=True))
    assert isinstance(refused, RecordingError) and refused.kind == "no_audio"
    assert refused.path == str(tmp_path / "mute" / "View1.mp4")


def test_evaluation_of_a_model_that_hears_none_keeps_a_sequence_with_a_view_without_audio(tmp_path):
    records = [fake_home.record(session, "00", 1, TRICKS) for session in ("01", "02")]
    fake_home.write_sequence(tmp_path / "Home9", records[0], n_frames=10, fps=5)
    fake_home.write_sequence(tmp_path / "Home9", records[1], n_frames=10, fps=5, silent_view=3)
    fake_home.write_json(tmp_path / "Home9" / "all_labels.json", records)
    visual = read_labelled(tmp_path, ["Home9"], _settings(0, with_audio=False))
    assert visual.table["sequence_id"].tolist() == ["Home9/01/00-Part1", "Home9/02/00-Part1"]
    assert visual.left_out == [] and visual.log_mels == {}
    assert visual.frames["Home9/02/00-Part1"].shape == (5, 5, 16, 24, 3)
    heard = read_labelled(tmp_path, ["Home9"], _settings(0, with_audio=True))
    assert heard.table["sequence_id"].tolist() == ["Home9/01/00-Part1"]
    assert heard.log_mels["Home9/01/00-Part1"].shape[:2] == (5, 5)  # (V, n, L, mel bins)
    assert heard.left_out == [{"file": str(tmp_path / "Home9/02/00-View3-Part1.mp4"),
                               "problem": "no audio stream (every view needs its audio)"}]
