"""`kedro run --env paper` holds every setting of PAPER.md's "Settings of the paper" and nothing that
equals conf/base; base and test still load and validate as a Kedro run validates them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from kedro.validation.parameter_validator import ParameterValidator

from project_parameters import CONF, load_parameters
from vicokd.configuration import read_parameter_keys
from vicokd.data.annotations import CLASSES, SAMPLE_FPS
from vicokd.data.splitting import split_sequences
from vicokd.models import build_model
from vicokd.models.config import ModelConfig
from vicokd.pipeline_registry import register_pipelines
from vicokd.training.settings import TrainingSettings

ROOT = CONF.parent
PAPER = CONF / "paper"


@pytest.fixture(scope="module")
def paper() -> dict[str, Any]:
    return load_parameters("paper")


def validated(env: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The parameters of ``env`` as ``kedro run --env <env>`` hands them to the nodes: merged over
    base, run table resolved, no key that no pipeline reads, typed blocks validated."""
    monkeypatch.chdir(ROOT)  # the pipeline registry reads the run table of the working directory
    monkeypatch.setenv("KEDRO_ENV", env)
    registered = register_pipelines()
    raw = load_parameters(env)
    assert not set(raw) - read_parameter_keys(registered.values())
    return ParameterValidator(registered).validate_raw_params(raw)


@pytest.mark.parametrize("env", ["base", "test", "paper"])
def test_every_environment_validates_as_a_kedro_run(env, monkeypatch):
    params = validated(env, monkeypatch)
    assert isinstance(params["training"], TrainingSettings)
    assert isinstance(params["model"], ModelConfig)
    assert params["runs"] and params["supervision_levels"]


def test_paper_clip_frame_rate_and_audio(paper):
    assert paper["training"]["num_frames"] == 70  # T
    assert paper["ingestion"]["image_size"] == [224, 224]
    assert paper["model"]["visual_encoder"]["image_size"] == 224
    assert SAMPLE_FPS == 2.5  # frames sampled at 2.5 FPS (fixed in code)
    audio = paper["ingestion"]["audio"]
    assert audio["sample_rate"] == 16000 and audio["num_mel_bins"] == 128
    assert paper["model"]["audio_encoder"]["num_mel_bins"] == 128
    # one chunk per 2.5-FPS frame at a 10 ms hop: 16000 / 2.5 / 160 = 40 spectrogram frames
    assert paper["model"]["audio_encoder"]["max_length"] == audio["sample_rate"] / SAMPLE_FPS / 160


def test_paper_trains_three_seeds(paper):
    assert paper["seeds"] == [0, 1, 2]  # PAPER.md: run-to-run spread over three seeds


def test_paper_optimiser_and_device(paper):
    training = paper["training"]
    assert (training["batch_size"], training["learning_rate"], training["weight_decay"]) == (12, 1e-4, 5e-4)
    assert training["epochs"] == 100
    assert training["accelerator"] == "cuda" and training["precision"] == "bf16-mixed"
    assert paper["masking"]["device"] == "cuda"
    # Adam and the cosine schedule are the loop's only optimiser and schedule: nothing to set
    assert not {"optimizer", "scheduler", "schedule"} & set(TrainingSettings.model_fields)


def test_every_run_trains_100_epochs_under_paper(paper):
    settings = TrainingSettings.model_validate(paper["training"])
    runs = paper["runs"]
    assert {"teacher", "teacher_vc", "student", "vicokd"} <= set(runs)
    for name, run in runs.items():
        resolved = settings.with_overrides(run.training)
        assert resolved.epochs == 100, name
        assert resolved.fingerprint_fields() == {**settings.fingerprint_fields(), "epochs": 100}, name


def test_base_and_test_keep_their_own_teacher_length():
    base, test = load_parameters("base"), load_parameters("test")
    assert base["runs"]["teacher"].training["epochs"] > base["training"]["epochs"]
    assert base["runs"]["teacher_vc"].training == base["runs"]["teacher"].training
    assert test["runs"]["teacher_vc"].training == {"epochs": 1}


def test_paper_encoders_are_vit_s32_and_ast_from_local_folders(paper):
    model, data_root = paper["model"], "data"
    visual, audio = model["visual_encoder"], model["audio_encoder"]
    assert Path(visual["pretrained"]) == Path(data_root, "06_models/pretrained/vit-small-patch32-224")
    assert Path(audio["pretrained"]) == Path(data_root, "06_models/pretrained/ast-audioset")
    vit = {k: visual[k] for k in ("image_size", "patch_size", "hidden_size", "num_layers", "num_heads", "mlp_dim")}
    assert vit == {"image_size": 224, "patch_size": 32, "hidden_size": 384, "num_layers": 12,
                   "num_heads": 6, "mlp_dim": 1536}
    ast = {k: audio[k] for k in ("num_mel_bins", "patch_size", "frequency_stride", "time_stride",
                                 "hidden_size", "num_layers", "num_heads", "mlp_dim")}
    assert ast == {"num_mel_bins": 128, "patch_size": 16, "frequency_stride": 10, "time_stride": 10,
                   "hidden_size": 768, "num_layers": 12, "num_heads": 12, "mlp_dim": 3072}
    assert model["dim"] == 384


def transformer_parameters(hidden: int, layers: int, mlp: int) -> int:
    """Weights of ``layers`` pre-norm Transformer layers (q, k, v, out projections, MLP, 2 norms)."""
    return layers * (4 * hidden * hidden + 4 * hidden + 2 * hidden * mlp + mlp + hidden + 4 * hidden)


def vit_s32_parameters() -> int:
    """ViT-S/32 at 224 px: patch embedding, CLS, 7×7+1 positions, 12 layers, final norm."""
    hidden = 384
    return (3 * 32 * 32 * hidden + hidden + hidden + (7 * 7 + 1) * hidden
            + transformer_parameters(hidden, 12, 1536) + 2 * hidden)


def ast_base_parameters(max_length: int) -> int:
    """AST base on 128 mel bins × ``max_length`` frames: 16×16 patches at stride 10, CLS and
    distillation tokens, their positions, 12 layers, final norm."""
    hidden = 768
    patches = ((128 - 16) // 10 + 1) * ((max_length - 16) // 10 + 1)
    return (16 * 16 * hidden + hidden + 2 * hidden + (patches + 2) * hidden
            + transformer_parameters(hidden, 12, 3072) + 2 * hidden)


@pytest.mark.parametrize("trainable", [False, True])
def test_one_switch_per_encoder_freezes_or_fine_tunes_it(paper, trainable):
    """Built at the paper's architecture (random init, on the meta device: shapes only)."""
    config = {**paper["model"]}
    for key in ("visual_encoder", "audio_encoder"):
        config[key] = {**config[key], "pretrained": None, "trainable": trainable}
    with torch.device("meta"):
        model = build_model(config, with_audio=True)
    vit, ast = list(model.visual_encoder.vit.parameters()), list(model.audio_encoder.ast.parameters())
    assert {p.requires_grad for p in vit + ast} == {trainable}
    encoders = {id(p) for p in vit + ast}
    rest = [p for p in model.parameters() if id(p) not in encoders]
    assert rest and all(p.requires_grad for p in rest)
    assert sum(p.numel() for p in vit) == vit_s32_parameters()  # 22.5 M
    assert sum(p.numel() for p in ast) == ast_base_parameters(config["audio_encoder"]["max_length"])


def test_paper_uses_the_dataset_splits_and_no_simulation(paper):
    assert paper["stratification"]["use_dataset_splits"] is True
    assert 0 < paper["stratification"]["val_size"] < 1
    assert paper["simulation"]["enabled"] is False


def _leaves(tree: Any, prefix: tuple = ()) -> dict[tuple, Any]:
    if isinstance(tree, dict):
        return {k: v for key, value in tree.items() for k, v in _leaves(value, (*prefix, key)).items()}
    return {prefix: tree}


def _raw(env: str, prefix: str) -> dict[tuple, Any]:
    """Leaves of conf/<env>/<prefix>*.yml as written (interpolations unresolved)."""
    tree: dict[str, Any] = {}
    for path in sorted((CONF / env).glob(f"{prefix}*.yml")):
        tree.update(yaml.safe_load(path.read_text()) or {})
    return _leaves(tree)


@pytest.mark.parametrize("prefix", ["parameters", "globals"])
def test_paper_holds_only_what_differs_from_base(prefix):
    base, paper = _raw("base", prefix), _raw("paper", prefix)
    assert paper
    for key, value in paper.items():
        assert key in base, f"{'.'.join(map(str, key))} is not a setting of conf/base"
        assert value != base[key], f"{'.'.join(map(str, key))} equals conf/base ({value!r})"


def _sequences(rng: np.random.Generator, count: int) -> pd.DataFrame:
    labels = [list(rng.choice(CLASSES, rng.integers(1, 4), replace=False)) for _ in range(count)]
    return pd.DataFrame({"sequence_id": [f"Home1/01/{i:03d}-Part1" for i in range(count)],
                         "home": "Home1", "labels": labels})


def test_dataset_test_files_are_the_test_split_and_validation_comes_from_their_train_part(paper):
    rng = np.random.default_rng(3)
    sequences = _sequences(rng, 120)
    sequences["dataset_split"] = np.where(rng.random(len(sequences)) < 0.3, "test", "train")
    split = paper["stratification"]
    splits = split_sequences(sequences, split["test_size"], split["val_size"], seed=0,
                             use_dataset_splits=split["use_dataset_splits"])
    own = sequences.set_index("sequence_id")["dataset_split"]
    ours = splits.set_index("sequence_id")["split"]
    assert (ours[own == "test"] == "test").all() and (ours[own == "train"] != "test").all()
    val, train_part = (ours == "val").sum(), (own == "train").sum()
    assert abs(val / train_part - split["val_size"]) <= 0.05
    by_id = sequences.set_index("sequence_id")["labels"]
    for name in {c for labels in by_id[own == "train"] for c in labels}:
        assert any(name in by_id[i] for i in ours.index[ours == "train"]), name


def test_a_home_without_dataset_files_is_stratified_7_to_3(paper):
    sequences = _sequences(np.random.default_rng(4), 100)
    sequences["dataset_split"] = None
    split = paper["stratification"]
    splits = split_sequences(sequences, split["test_size"], split["val_size"], seed=0,
                             use_dataset_splits=True)
    assert abs((splits["split"] == "test").mean() - 0.3) <= 0.05
    assert (splits["split"] == "val").any()
