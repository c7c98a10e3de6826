"""The pre-flight checks: each problem named with its file or key and its fix, in one message."""
import json

import huggingface_hub
import pytest
import torch
from transformers import ViTConfig, ViTModel

from project_parameters import multisensor_home
from vicokd.models import ModelConfig
from vicokd.preflight import checks
from vicokd.preflight.checks import (
    StoreSize,
    check_parameters,
    dataset_problems,
    detector_problems,
    device_problems,
    disk_problems,
    encoder_problems,
    ingestion_bytes,
)
from vicokd.preflight.problems import PreflightError, Problem
from vicokd.preflight.scope import Scope
from vicokd.training.settings import TrainingSettings

MSH = multisensor_home()


@pytest.fixture
def paper_model(parameters_of, tmp_path):
    """The paper's model block with its two checkpoints in ``tmp_path`` (not there yet)."""
    block = parameters_of("paper")["model"]
    for key, folder in (("visual_encoder", "vit"), ("audio_encoder", "ast")):
        block[key] = {**block[key], "pretrained": str(tmp_path / folder)}
    return ModelConfig.model_validate(block)


def test_missing_encoder_weights_name_the_key_the_folder_and_how_to_get_them(paper_model,
                                                                            tmp_path):
    (tmp_path / "ast").mkdir()
    (tmp_path / "ast" / "config.json").write_text("{}")  # a config without weights
    problems = encoder_problems(paper_model, made_here=tmp_path / "encoders")
    assert [p.what for p in problems] == [
        (f"model.visual_encoder.pretrained: {tmp_path / 'vit'} is no folder, nor a model in the "
        "local Hugging Face cache"),
        (f"model.audio_encoder.pretrained: {tmp_path / 'ast'} has no weights (model.safetensors or "
        "pytorch_model.bin)"),
    ]
    assert "`hf download " in problems[0].fix and "model.visual_encoder.pretrained" in problems[0].fix


def test_a_saved_checkpoint_and_the_encoders_made_here_pass(paper_model, tmp_path):
    ViTModel(ViTConfig(image_size=32, patch_size=16, hidden_size=8, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=16)).save_pretrained(tmp_path / "vit")
    problems = encoder_problems(paper_model, made_here=tmp_path / "encoders")
    assert [p.what.split(":")[0] for p in problems] == ["model.audio_encoder.pretrained"]
    made_here = paper_model.model_copy(update={"audio_encoder": paper_model.audio_encoder.model_copy(
        update={"pretrained": str(tmp_path / "encoders" / "audio")})})
    assert encoder_problems(made_here, made_here=tmp_path / "encoders") == []  # pretraining makes it


@pytest.fixture
def cuda_training(parameters_of):
    return TrainingSettings.model_validate({**parameters_of("base")["training"], "accelerator": "cuda"})


def test_a_missing_gpu_is_named_for_training_and_masking(monkeypatch, cuda_training, parameters_of):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    masking = {**parameters_of("paper")["masking"]}  # device: cuda
    problems = device_problems(cuda_training, masking)
    assert [p.what for p in problems] == [
        ("training.accelerator is 'cuda', but no CUDA device is visible "
        "(torch.cuda.is_available() is False)"),
        ("masking.device is 'cuda', but no CUDA device is visible (torch.cuda.is_available() is "
        "False)"),
    ]
    assert "training.accelerator: auto" in problems[0].fix
    assert "masking.device: cpu" in problems[1].fix
    assert device_problems(cuda_training, None)[0] == problems[0]  # masking does not run
    assert device_problems(None, {**masking, "device": "cpu"}) == []


def test_fewer_gpus_than_devices_is_a_problem(monkeypatch, cuda_training):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert device_problems(cuda_training, None) == []
    four = cuda_training.model_copy(update={"devices": 4, "batch_size": 12})
    assert [p.what for p in device_problems(four, None)] == [
        "training.devices is 4, but 1 CUDA device(s) are visible"]


def test_detector_weights_and_real_data_without_them(parameters_of, tmp_path):
    masking = parameters_of("base")["masking"]  # weights null, threshold val: fine when simulated
    assert detector_problems(masking, simulated=True) == []
    real = detector_problems(masking, simulated=False)
    assert [p.what.split(",")[0] for p in real] == [
        "masking.weights is null", "masking.threshold is 'val'"]
    missing = {**parameters_of("paper")["masking"], "weights": str(tmp_path / "yolov10n.pt")}
    assert [p.what for p in detector_problems(missing, simulated=False)] == [
        f"masking.weights: {tmp_path / 'yolov10n.pt'} does not exist"]
    (tmp_path / "yolov10n.pt").write_bytes(b"weights")
    assert detector_problems(missing, simulated=False) == []


def _record(session: str, video: str, labels: list[str]) -> dict:
    urls = {f"video_url_{v}": f"{session}/{video}-View{v}-Part1.mp4" for v in range(1, 6)}
    return {**urls, "tricks": [{"start": 0.0, "end": 1.0, "labels": labels}]}


def test_the_dataset_layout_names_missing_homes_and_homes_left_without_data(tmp_path):
    root = tmp_path / "recordings"
    good, lost = _record("01", "00", ["Drink"]), _record("01", "01", ["Eat"])
    (root / "Home1").mkdir(parents=True)
    (root / "Home1" / "all_labels.json").write_text(json.dumps([good, lost, {"tricks": []}]))
    for view in range(1, 6):
        (root / "Home1" / good[f"video_url_{view}"]).parent.mkdir(exist_ok=True)
        (root / "Home1" / good[f"video_url_{view}"]).touch()
    (root / "Home2").mkdir()
    (root / "Home2" / "test_data.json").write_text(json.dumps([lost]))
    problems, notes = dataset_problems(root, ["Home1", "Home2", "Home3"], simulated=False,
                                       strict=False, dataset=MSH)
    assert [p.what for p in problems] == [
        f"{root / 'Home2'}: no usable sequence among 1 records (1 missing view file)",
        f"{root / 'Home3'}: home folder is missing",
    ]
    assert notes == [(f"{root / 'Home1'}: 2 of 3 records would be left out (1 malformed record, "
                     f"1 missing view file), e.g. {root / 'Home1' / 'all_labels.json'}: record [2] "
                     "has no video_url_1")]
    strict, _ = dataset_problems(root, ["Home1"], simulated=False, strict=True, dataset=MSH)
    assert strict[0].what == notes[0] and "ingestion.strict: false" in strict[0].fix
    simulated, _ = dataset_problems(root, ["Home1"], simulated=True, strict=False, dataset=MSH)
    assert simulated[0].what.endswith("the simulator did not write it, but simulation.enabled is "
                                      "true")


def test_the_store_estimate_is_views_frames_and_bytes_per_frame():
    size = StoreSize(views=5, image_size=(32, 32), chunk_frames=40, num_mel_bins=128, classes=16,
                     sample_fps=2.5)
    per_frame = 5 * (32 * 32 * 3 + 40 * 128 * 2) + 16  # uint8 RGB + float16 log-mels, labels
    assert size.bytes_per_frame == per_frame == 66576
    assert ingestion_bytes(size, [4.0, 2.1]) == (10 + 6) * per_frame  # ceil(s × 2.5) frames


def test_too_little_disk_is_a_problem_unless_an_ingestion_may_be_reused(monkeypatch, tmp_path):
    monkeypatch.setattr(checks.shutil, "disk_usage", lambda folder: type("U", (), {"free": 10**9}))
    assert disk_problems(4 * 10**8, tmp_path / "stores", committed=False) == ([], [])
    problems, notes = disk_problems(6 * 10**8, tmp_path / "stores", committed=False)
    assert len(problems) == 1 and not notes  # the spool and the stores: both on tmp's disk
    assert problems[0].what.startswith(f"ingestion needs about 1.2 GB free on the disk of {tmp_path}")
    problems, notes = disk_problems(6 * 10**8, tmp_path / "stores", committed=True)
    assert not problems and notes[0].endswith("should its inputs have changed since the last "
                                              "ingestion")


def test_one_message_lists_every_problem_with_its_fix():
    error = PreflightError([Problem("a is wrong", "set a"), Problem("b is missing", "add b")])
    assert str(error) == ("The pre-flight check found 2 problems; nothing has run:\n"
                          "1. a is wrong\n   Fix: set a\n2. b is missing\n   Fix: add b")


def test_a_hub_name_passes_only_when_the_local_cache_holds_its_config_and_weights(
        paper_model, tmp_path, monkeypatch):
    """The Hugging Face cache layout: models--<org>--<name>/refs/main -> snapshots/<commit>/."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    snapshot = tmp_path / "hub" / "models--org--tiny-vit" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc123")
    (snapshot / "config.json").write_text("{}")
    by_name = paper_model.model_copy(update={"visual_encoder": paper_model.visual_encoder.model_copy(
        update={"pretrained": "org/tiny-vit"})})
    assert next(p.what for p in encoder_problems(by_name, tmp_path / "encoders")) == (
        "model.visual_encoder.pretrained: org/tiny-vit is no folder, nor a model in the local "
        "Hugging Face cache")  # its config, but no weights
    (snapshot / "model.safetensors").write_bytes(b"weights")
    assert [p.what.split(":")[0] for p in encoder_problems(by_name, tmp_path / "encoders")] == [
        "model.audio_encoder.pretrained"]


@pytest.fixture
def ample_disk(monkeypatch):
    """A terabyte free wherever the checks look, so that the findings do not depend on this disk."""
    monkeypatch.setattr(checks.shutil, "disk_usage", lambda folder: type("U", (), {"free": 10**12}))


def _findings(parameters: dict, tmp_path):
    return check_parameters(Scope(simulation=True, ingestion=True, masking=True, encoders=True,
                                  training=True), parameters, tmp_path / "stores", committed=False)


def test_the_whole_flow_of_the_paper_environment_on_a_bare_cpu_machine(
        parameters_of, monkeypatch, tmp_path, ample_disk):
    """Every problem at once: no dataset, no checkpoints, no detector weights, no GPU; the default
    environment (simulated, CPU) has none."""
    monkeypatch.chdir(tmp_path)  # the environments' relative paths point into an empty folder
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _findings(parameters_of("base"), tmp_path).problems == []
    findings = _findings(parameters_of("paper"), tmp_path)
    assert [p.what.split(" ")[0].rstrip(":") for p in findings.problems] == [
        "data/01_raw/multisensor_home", "model.visual_encoder.pretrained",
        "model.audio_encoder.pretrained", "masking.weights", "training.accelerator",
        "masking.device"]
    assert findings.checked == ["dataset data/01_raw/multisensor_home", "free disk",
                                "encoder checkpoints", "person detector", "device"]


def test_a_class_list_the_model_or_the_simulator_does_not_fit_is_named(parameters_of, tmp_path,
                                                                        monkeypatch, ample_disk):
    """Classes given to the dataset block alone (not as globals): the model keeps 16 outputs, and
    the simulator simulates MultiSensor-Home's classes."""
    monkeypatch.chdir(tmp_path)
    parameters = parameters_of("base")
    parameters["dataset"] = {**parameters["dataset"], "classes": ["Wave", "Sit", "Cook"]}
    problems = _findings(parameters, tmp_path).problems
    assert [p.what.split(",")[0].split(":")[0] for p in problems] == [
        "The simulator writes MultiSensor-Home's recordings", "model.num_classes is 16"]
    assert "`classes` in conf/<env>/globals.yml" in problems[1].fix
