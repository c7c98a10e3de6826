"""The encoders every model starts from: pretrained once on the pretraining home and reused, and
their feature cache, which a model reads exactly as it would compute it from pixels and audio."""
import contextlib
import logging
import shutil

import numpy as np
import torch
from synthetic_project import HOMES, PRETRAINING_HOMES, Project

from vicokd.models import build_model
from vicokd.training.checkpoints import model_from_checkpoint


def _reuses(caplog) -> list[str]:
    """The training loop's "... is complete (n epochs): reused" messages."""
    return [r.getMessage() for r in caplog.records
            if r.name == "vicokd.training.loop" and r.getMessage().endswith(": reused")]


def _made(record: dict) -> dict:
    """An encoders record without whether this run reused them."""
    return {modality: {k: v for k, v in entry.items() if k != "reused"}
            for modality, entry in record.items()}


def test_pretraining_is_reused_until_its_inputs_change(trained_project, tmp_path, caplog):
    project = Project(tmp_path / "project")
    shutil.copytree(trained_project.path, project.path, symlinks=True)
    record = project.load("encoders")
    assert record["visual"]["made_here"] and record["audio"]["made_here"]
    weights = project.data / "06_models/encoders/visual/model.safetensors"
    before = weights.read_bytes()
    with caplog.at_level(logging.INFO, logger="vicokd.training.loop"):
        project.run(["pretraining"])
    assert len(_reuses(caplog)) == 2  # visual and audio: no epoch trained again
    again = project.load("encoders")
    assert _made(again) == _made(record) and again["visual"]["reused"] and again["audio"]["reused"]
    assert weights.read_bytes() == before
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vicokd.training.loop"):  # the AST's own epochs
        project.run(["pretraining"],
                    runtime_params={"pretraining": {"encoder_training": {"audio": {"epochs": 2}}}})
    reused, = _reuses(caplog)
    assert "pretraining/visual is complete (1 epochs)" in reused  # conf/test: 1 epoch
    retrained = project.load("encoders")
    assert _made(retrained)["visual"] == _made(record)["visual"] and retrained["visual"]["reused"]
    assert retrained["audio"]["fingerprint"] != record["audio"]["fingerprint"]
    assert not retrained["audio"]["reused"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vicokd.training.loop"):
        project.run(["pretraining"], runtime_params={"pretraining": {"frame_step": 2}})
    assert not _reuses(caplog)
    assert project.load("encoders")["visual"]["fingerprint"] != record["visual"]["fingerprint"]


def test_cached_features_give_the_outputs_of_pixels_and_audio(trained_project, inputs):
    visual, audio = trained_project.load("visual_features"), trained_project.load("audio_features")
    assert set(visual) == {sid for sid in inputs["frames"] if sid.split("/")[0] in HOMES}
    assert not set(visual) & {sid for sid in inputs["frames"] if sid.split("/")[0] in PRETRAINING_HOMES}
    sequence_id = min(visual)
    frames = torch.from_numpy(inputs["frames"][sequence_id]).permute(0, 1, 4, 2, 3)[None]  # (1,V,n,3,H,W)
    log_mels = torch.from_numpy(inputs["log_mels"][sequence_id].astype(np.float32))[None]
    cached_visual = torch.from_numpy(np.asarray(visual[sequence_id], np.float32))[None]
    cached_audio = torch.from_numpy(np.asarray(audio[sequence_id], np.float32))[None]
    for name in ("teacher_model_AV_F", "vicokd_model_V_F"):
        checkpoint = trained_project.load(name)["Home1/seed0"]()
        with contextlib.chdir(trained_project.path):
            model = model_from_checkpoint(checkpoint)
        hears = checkpoint["with_audio"]
        with torch.no_grad():
            from_pixels = model(frames, log_mels if hears else None)
            from_cache = model(cached_visual, cached_audio if hears else None)
        for field in ("frame_logits", "sequence_logits", "view_frame_logits", "f_av"):
            torch.testing.assert_close(getattr(from_cache, field), getattr(from_pixels, field),
                                       atol=2e-3, rtol=2e-3, msg=f"{name}.{field}")
    # the cache is the frozen pretrained encoder's output, not a randomly initialised one's
    with contextlib.chdir(trained_project.path):
        pretrained = build_model(trained_project.load("parameters")["model"], with_audio=False)
    embedded = pretrained.embed(frames)[0]
    torch.testing.assert_close(cached_visual, embedded.float(), atol=2e-3, rtol=2e-3)
