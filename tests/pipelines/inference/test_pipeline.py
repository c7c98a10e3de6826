"""`kedro run --pipelines inference --params inference.recordings=<folder>` on new recordings written
here: the project's simulated videos in both layouts, one short recording, one with a broken view,
one from cameras without microphones; decoded in worker processes as the default environment does."""
import importlib.util
import json
import shutil
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from recorded_project import DATASET_ROOT, RUN

from project_parameters import multisensor_home
from vicokd.data.decoding import decode_view
from vicokd.inference.exported import load_exported
from vicokd.inference.segments import frame_segments
from vicokd.inference.settings import InferenceParameters
from vicokd.pipelines.inference.nodes import find_new_recordings
from vicokd.training.checkpoints import model_from_checkpoint

MSH = multisensor_home()
CLASSES = MSH.classes

_spec = importlib.util.spec_from_file_location("fake_home", Path(__file__).parents[2] / "data" / "fake_home.py")
fake_home = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_home)

T = 4  # conf/test: globals.num_frames
MODEL = {"run": RUN, "supervision": "V_S", "home": None, "seed": 0}  # home null: Home1


@pytest.fixture(scope="module")
def inferred(recorded, tmp_path_factory):
    """Recordings in both layouts (one annotated, one shorter than T, one with a corrupt view, one
    whose views have no audio stream) and the inference pipeline run on them, decoding in two
    worker processes."""
    data = recorded.data
    splits = pd.read_parquet(data / "03_primary/splits.parquet")
    test = sorted(splits.loc[(splits["home"] == "Home1") & (splits["split"] == "test"), "sequence_id"])
    root = tmp_path_factory.mktemp("new_recordings")
    home = data / DATASET_ROOT / "Home1"

    def views(sequence_id: str) -> list[Path]:
        _, session, stem = sequence_id.split("/")
        video_id, part = stem.split("-Part")
        return [home / session / f"{video_id}-View{k}-Part{part}.mp4" for k in range(1, 6)]

    annotated = root / "Home1" / test[0].split("/")[1]  # <home>/<session>/<id>-View<k>-Part<p>.mp4
    annotated.mkdir(parents=True)
    for path in views(test[0]):
        shutil.copy(path, annotated / path.name)
    shutil.copy(home / "all_labels.json", root / "Home1" / "all_labels.json")
    for folder, source in (("porch", test[1]), ("broken", test[1])):
        (root / folder).mkdir()
        for k, path in enumerate(views(source), 1):
            shutil.copy(path, root / folder / f"View{k}.mp4")
    (root / "broken" / "View2.mp4").write_bytes(b"\x00" * 200)  # corrupt
    for k in range(1, 6):  # the porch's video without its audio track: cameras without microphones
        _copy_video_only(root / "porch" / f"View{k}.mp4", root / "mute" / f"View{k}.mp4")
    for k in range(1, 6):  # 1 s at 5 fps: 3 frames at 2.5 FPS, fewer than T
        fake_home.write_view(root / "short" / f"cam-View{k}.mp4", 5, 5, fake_home.view_colour(k))
    with pytest.MonkeyPatch.context() as patch:  # two decoding processes under `make test` too
        patch.setattr("vicokd.processes.usable_cores", lambda: 2)
        recorded.run(["inference"], {"inference": {"recordings": str(root), "model": MODEL},
                                     "ingestion": {"num_workers": 2}})
    return data, root, test[0]


def _copy_video_only(source: Path, target: Path) -> None:
    """``source``'s video stream, packets copied unchanged, as an mp4 without any audio stream."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(source)) as reader, av.open(str(target), "w") as writer:
        video = writer.add_stream_from_template(reader.streams.video[0])
        for packet in reader.demux(reader.streams.video[0]):
            if packet.dts is not None:  # the demuxer's final flush packet carries nothing
                packet.stream = video
                writer.mux(packet)
    with av.open(str(target)) as written:
        assert len(written.streams.video) == 1 and not written.streams.audio


def _checkpoint(data: Path) -> dict:
    return torch.load(data / "06_models" / RUN / "V_S" / "Home1" / "seed0.pt", weights_only=True)


def test_every_good_recording_is_processed_and_the_broken_one_named(inferred):
    data, root, sequence_id = inferred
    report = json.loads((data / "08_reporting/inference_report.json").read_text())
    assert [r["recording"] for r in report["processed"]] == [sequence_id, "mute", "porch", "short"]
    assert report["left_out"] == [{"recording": "broken", "file": str(root / "broken" / "View2.mp4"),
                                   "problem": report["left_out"][0]["problem"]}]
    assert report["left_out"][0]["problem"].startswith("unreadable or corrupt mp4")
    assert report["model"] == f"{RUN}/V_S/Home1/seed0"
    assert not (data / "07_model_output/inference/broken").exists()
    for name in (sequence_id, "mute", "porch", "short"):
        with Image.open(data / "08_reporting/inference" / f"{name}.png") as picture:
            assert min(picture.size) > 200
    assert [r["annotated"] for r in report["processed"]] == [True, False, False, False]


def test_views_without_audio_are_scored_as_the_same_views_with_audio(inferred):
    """The student hears nothing: the porch's pixels without their audio tracks get its scores."""
    data, _, _ = inferred
    mute, porch = (pd.read_parquet(data / "07_model_output/inference" / name / "frame_scores.parquet")
                   for name in ("mute", "porch"))
    assert len(mute) == len(porch) > T and set(mute["recording"]) == {"mute"}
    pd.testing.assert_frame_equal(mute.drop(columns="recording"), porch.drop(columns="recording"))
    assert (data / "07_model_output/inference/mute/segments.csv").is_file()


def test_frame_scores_cover_every_frame_at_its_time(inferred):
    data, _, sequence_id = inferred
    sequences = pd.read_parquet(data / "02_intermediate/sequences.parquet").set_index("sequence_id")
    for name, n_frames in ((sequence_id, sequences.loc[sequence_id, "n_frames"]), ("short", 3)):
        table = pd.read_parquet(data / "07_model_output/inference" / name / "frame_scores.parquet")
        assert list(table.columns) == ["recording", "frame", "time", *CLASSES]
        assert len(table) == n_frames and set(table["recording"]) == {name}
        np.testing.assert_allclose(table["time"], np.arange(n_frames) / 2.5)
        assert table[list(CLASSES)].to_numpy().min() >= 0 and table[list(CLASSES)].to_numpy().max() <= 1
    assert n_frames < T < sequences.loc[sequence_id, "n_frames"]  # one shorter than T, one longer


def test_a_recording_shorter_than_t_is_one_clip_of_repeated_frames(inferred):
    data, root, _ = inferred
    frames = np.stack([decode_view(path, (32, 32), sample_fps=MSH.sample_fps).frames for path in sorted((root / "short").glob("*.mp4"))])
    clip = torch.from_numpy(frames[:, [0, 1, 1, 2]]).permute(0, 1, 4, 2, 3)[None]  # T = 4 of 3 frames
    with torch.no_grad():
        s = model_from_checkpoint(_checkpoint(data))(clip).frame_logits.sigmoid()[0].numpy()
    expected = np.stack([s[0], (s[1] + s[2]) / 2, s[3]])  # frame 1 twice: averaged
    table = pd.read_parquet(data / "07_model_output/inference/short/frame_scores.parquet")
    np.testing.assert_allclose(table[list(CLASSES)].to_numpy(), expected, atol=1e-5)


def test_segments_come_from_the_thresholds_stored_with_the_model(inferred):
    data, _, sequence_id = inferred
    calibration = json.loads((data / "06_models/calibrations" / RUN / "V_S/Home1/seed0.json").read_text())
    checkpoint = _checkpoint(data)
    splits = pd.read_parquet(data / "03_primary/splits.parquet")
    assert calibration["model_version"] == checkpoint["metadata"]["model_version"]
    assert calibration["validation_sequences"] == sorted(
        splits.loc[(splits["home"] == "Home1") & (splits["split"] == "val"), "sequence_id"])
    thresholds = np.array([calibration["thresholds"][c] for c in CLASSES])
    for name in (sequence_id, "porch", "short"):
        folder = data / "07_model_output/inference" / name
        scores = pd.read_parquet(folder / "frame_scores.parquet")[list(CLASSES)].to_numpy()
        segments = pd.read_csv(folder / "segments.csv")
        pd.testing.assert_frame_equal(segments, frame_segments(scores, thresholds, CLASSES, 2.5),
                                      check_dtype=False)
        for row in segments.itertuples(index=False):
            # frames first..last, each standing for 0.4 s centred on it: all at or above the
            # class's threshold, the frames just before and after below it
            c = CLASSES.index(row[0])
            first = round(row.start * 2.5 + 0.5) if row.start > 0 else 0
            last = round(row.end * 2.5 - 0.5)
            assert (scores[first:last + 1, c] >= thresholds[c]).all()
            assert first == 0 or scores[first - 1, c] < thresholds[c]
            assert last == len(scores) - 1 or scores[last + 1, c] < thresholds[c]


def test_the_exported_student_gives_the_pipelines_scores(inferred):
    data, root, _ = inferred
    student = load_exported(data / "06_models/exported" / RUN / "V_S/Home1/seed0.pt2")
    frames = np.stack([decode_view(root / "porch" / f"View{k}.mp4", (32, 32),
                                   sample_fps=MSH.sample_fps).frames for k in range(1, 6)])
    table = pd.read_parquet(data / "07_model_output/inference/porch/frame_scores.parquet")
    np.testing.assert_allclose(student.frame_scores(frames), table[list(CLASSES)].to_numpy(), atol=1e-5)
    assert student.metadata["thresholds"] == json.loads(
        (data / "06_models/calibrations" / RUN / "V_S/Home1/seed0.json").read_text())["thresholds"]


def test_the_recordings_parameter_is_required_and_checked(tmp_path):
    settings = {"model": MODEL, "window": {"frame_step": None, "overlap": 0.5, "batch_size": 4},
                "threshold_candidates": [0.5], "export": False, "parity_tolerance": 1e-5, "num_threads": 1,
                "accelerator": "cpu"}
    with pytest.raises(ValueError, match=r"'inference.recordings' is not set"):
        find_new_recordings(InferenceParameters(recordings=None, **settings), multisensor_home())
    with pytest.raises(FileNotFoundError, match="recordings folder is missing"):
        find_new_recordings(InferenceParameters(recordings=str(tmp_path / "none"), **settings),
                            multisensor_home())
