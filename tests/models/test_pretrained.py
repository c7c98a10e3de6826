"""Encoders load Hugging Face checkpoints from local folders, offline, through build_model."""

import copy

import huggingface_hub
import pytest
import torch
import torch.nn.functional as F
from transformers import (
    ASTConfig,
    ASTForAudioClassification,
    ASTModel,
    ViTConfig,
    ViTForImageClassification,
    ViTModel,
)

from vicokd.models import build_model


def _vit_config() -> ViTConfig:
    return ViTConfig(
        image_size=32,
        patch_size=16,
        hidden_size=24,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=48,
    )


def _ast_config() -> ASTConfig:
    """A checkpoint with a longer position grid than our 40-frame chunks: frequency positions
    (128 - 16) // 32 + 1 = 4, time positions (100 - 16) // 24 + 1 = 4 (for 40 frames: 2)."""
    return ASTConfig(
        max_length=100,
        num_mel_bins=128,
        patch_size=16,
        frequency_stride=32,
        time_stride=24,
        hidden_size=40,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=48,
    )


FREQ, TIME, TIME_40 = 4, 4, 2


def _with_checkpoints(config: dict, visual: str | None = None, audio: str | None = None) -> dict:
    config = copy.deepcopy(config)
    config["visual_encoder"]["pretrained"] = visual
    config["audio_encoder"]["pretrained"] = audio
    return config


def _randomise(model: torch.nn.Module) -> torch.nn.Module:
    """Draw every weight from N(0, 1), so a default-initialised encoder cannot match by chance."""
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_()
    return model


def _assert_same_weights(loaded: torch.nn.Module, saved: dict, skip: tuple[str, ...] = ()):
    state = loaded.state_dict()
    assert set(state) <= set(saved)
    for name, tensor in state.items():
        if name not in skip:
            assert torch.equal(tensor, saved[name]), name


@pytest.mark.parametrize("checkpoint_class", [ViTModel, ViTForImageClassification])
def test_vit_checkpoint_weights_arrive_and_frames_are_resized_to_its_size(
    test_config, tmp_path, checkpoint_class
):
    """Frames of 64 px reach a 32-px checkpoint resized; an image-classification checkpoint (as
    on the hub) gives its ViT body."""
    saved = _randomise(checkpoint_class(_vit_config()))
    saved.save_pretrained(tmp_path / "vit")
    body = saved if checkpoint_class is ViTModel else saved.vit
    model = build_model(_with_checkpoints(test_config, visual=str(tmp_path / "vit")), False)
    encoder = model.visual_encoder
    _assert_same_weights(encoder.vit, body.state_dict())
    assert encoder.image_size == 32 and encoder.embedding_size == 24
    frames = torch.randint(0, 256, (3, 3, 64, 64), dtype=torch.uint8)
    pixels = F.interpolate(frames / 255.0, size=(32, 32), mode="bilinear", antialias=True)
    with torch.no_grad():
        tokens = body.eval()(pixel_values=(pixels - 0.5) / 0.5).last_hidden_state
        torch.testing.assert_close(encoder.eval().embed(frames), tokens.mean(1))


@pytest.mark.parametrize("checkpoint_class", [ASTModel, ASTForAudioClassification])
def test_ast_checkpoint_weights_arrive_with_the_position_grid_cut_to_our_chunks(
    test_config, tmp_path, checkpoint_class
):
    saved = _randomise(checkpoint_class(_ast_config()))
    saved.save_pretrained(tmp_path / "ast")
    body = saved if checkpoint_class is ASTModel else saved.audio_spectrogram_transformer
    model = build_model(_with_checkpoints(test_config, audio=str(tmp_path / "ast")), True)
    ast = model.audio_encoder.ast
    positions_name = "embeddings.position_embeddings"
    _assert_same_weights(ast, body.state_dict(), skip=(positions_name,))
    assert ast.config.max_length == 40 and model.audio_encoder.embedding_size == 40
    old = body.state_dict()[positions_name][0]  # (2 + 4·4, H): 2 special tokens, then f-major
    new = ast.state_dict()[positions_name][0]
    assert new.shape == (2 + FREQ * TIME_40, 40)
    assert torch.equal(new[:2], old[:2])
    for f in range(FREQ):
        for t in range(TIME_40):
            assert torch.equal(new[2 + f * TIME_40 + t], old[2 + f * TIME + t]), (f, t)
    frames = torch.zeros(1, 1, 1, 3, 64, 64, dtype=torch.uint8)
    assert model(frames, torch.randn(1, 1, 1, 40, 128)).frame_logits.shape == (1, 1, 16)


def test_a_folder_without_weights_is_refused_with_the_way_to_provide_them(test_config, tmp_path):
    folder = tmp_path / "vit-without-weights"
    _vit_config().save_pretrained(folder)  # config.json only
    with pytest.raises(FileNotFoundError) as error:
        build_model(_with_checkpoints(test_config, visual=str(folder)), False)
    message = str(error.value)
    assert str(folder) in message and "model.visual_encoder" in message
    assert "hf download" in message and "save_pretrained" in message


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache, offline."""
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_a_hub_name_in_the_local_cache_loads_offline(test_config, hub_cache, tmp_path):
    """The layout ``hf download`` leaves in the cache: snapshots/<commit>/ and refs/main."""
    saved = _randomise(ViTModel(_vit_config()))
    repo = hub_cache / "models--vicokd-tests--tiny-vit"
    commit = "0" * 40
    saved.save_pretrained(repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    model = build_model(_with_checkpoints(test_config, visual="vicokd-tests/tiny-vit"), False)
    _assert_same_weights(model.visual_encoder.vit, saved.state_dict())


def test_an_uncached_hub_name_offline_is_refused_with_the_way_to_provide_it(test_config, hub_cache):
    name = "vicokd-tests/no-such-ast"
    with pytest.raises(FileNotFoundError) as error:
        build_model(_with_checkpoints(test_config, audio=name), True)
    message = str(error.value)
    assert name in message and "model.audio_encoder" in message
    assert f"hf download {name} --local-dir data/06_models/pretrained/no-such-ast" in message
