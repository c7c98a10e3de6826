"""The exported student: same scores as the PyTorch model, and a loader that needs none of the
project's training code."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from project_parameters import random_model_config
from vicokd.inference.export import FrameScorer, example_clip, export_student, save_exported
from vicokd.inference.exported import load_exported
from vicokd.inference.windows import score_recording
from vicokd.models import build_model

#: The parity asked of the exported program: frame scores (probabilities) within this of PyTorch's.
TOLERANCE = 1e-5
VIEWS, T, SIZE = 5, 4, (32, 32)
METADATA = {"model": "student/V_S/Home1/seed0", "classes": [f"c{i}" for i in range(16)], "sample_fps": 2.5,
            "num_frames": T, "frame_step": 2, "hop": 2, "batch_size": 3, "views": VIEWS,
            "image_size": list(SIZE),
            "thresholds": {f"c{i}": 0.5 for i in range(16)}}


@pytest.fixture(scope="module")
def student():
    torch.manual_seed(0)
    return build_model(random_model_config("test"), with_audio=False).eval()


@pytest.fixture(scope="module")
def exported(student, tmp_path_factory):
    """The student exported, written and read back."""
    path = tmp_path_factory.mktemp("exported") / "student.pt2"
    save_exported(export_student(student, METADATA, TOLERANCE), path)
    return path, load_exported(path)


def _recording(n_frames: int, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (VIEWS, n_frames, *SIZE, 3), dtype=np.uint8)


def test_the_exported_program_scores_a_fixed_clip_as_the_pytorch_model(student, exported):
    _, loaded = exported
    clip = example_clip(VIEWS, T, SIZE, clips=3, seed=7)  # not the clip it was traced on
    with torch.no_grad():
        reference = FrameScorer(student)(clip)
        ours = loaded.clip_scores(clip)
    assert ours.shape == reference.shape == (3, T, 16)
    assert (ours - reference).abs().max().item() <= TOLERANCE
    assert loaded.metadata["parity_max_abs_diff"] <= TOLERANCE
    assert {k: loaded.metadata[k] for k in METADATA} == METADATA


@pytest.mark.parametrize("n_frames", [2, 11])  # one window of repeated frames; several windows
def test_a_whole_recording_through_the_loader_matches_pytorch(student, exported, n_frames):
    _, loaded = exported
    frames = _recording(n_frames)
    expected = score_recording(FrameScorer(student), frames, T, 2, 2, 16)
    np.testing.assert_allclose(loaded.frame_scores(frames, batch_size=1), expected, atol=TOLERANCE)
    segments = loaded.segments(expected)
    assert set(segments["class"]) <= set(METADATA["classes"])
    with pytest.raises(ValueError, match=r"\(V, H, W\) = \(5, 32, 32\)"):
        loaded.frame_scores(frames[:, :, :16])


def test_the_loader_runs_without_the_projects_training_code(student, exported, tmp_path):
    path, _ = exported
    frames = _recording(9)
    np.save(tmp_path / "frames.npy", frames)
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np
        from vicokd.inference.exported import load_exported
        student = load_exported({str(path)!r})
        scores = student.frame_scores(np.load({str(tmp_path / 'frames.npy')!r}))
        np.save({str(tmp_path / 'scores.npy')!r}, scores)
        print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('vicokd', 'transformers'))))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [m for m in imported if m.startswith(("vicokd.training", "vicokd.models", "transformers"))]
    assert "vicokd.inference.exported" in imported
    expected = score_recording(FrameScorer(student), frames, T, 2, 2, 16)
    np.testing.assert_allclose(np.load(tmp_path / "scores.npy"), expected, atol=TOLERANCE)


def test_bad_files_and_models_that_hear_are_refused(tmp_path):
    (tmp_path / "broken.pt2").write_bytes(b"not a program")
    with pytest.raises(ValueError, match=r"broken\.pt2 is not an exported program"):
        load_exported(tmp_path / "broken.pt2")
    with pytest.raises(FileNotFoundError, match="missing.pt2"):
        load_exported(tmp_path / "missing.pt2")
    teacher = build_model(random_model_config("test"), with_audio=True)
    with pytest.raises(ValueError, match="visual-only"):
        export_student(teacher, METADATA, TOLERANCE)
