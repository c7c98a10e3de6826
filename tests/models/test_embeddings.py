"""The embeddings API a feature cache uses: embed once, run the rest of the model on the cache."""

import copy

import pytest
import torch

from vicokd.models import build_model

B, V, T = 2, 3, 4


def _config(test_config: dict, trainable: bool = True) -> dict:
    """The test model with encoder widths that differ from ``dim`` (so the projections act)."""
    config = copy.deepcopy(test_config)
    config["visual_encoder"].update(hidden_size=24, trainable=trainable)
    config["audio_encoder"].update(hidden_size=40, trainable=trainable)
    return config


@pytest.fixture
def inputs():
    generator = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (B, V, T, 3, 64, 64), dtype=torch.uint8, generator=generator)
    return frames, torch.randn(B, V, T, 40, 128, generator=generator)


def test_embedding_sizes_are_the_encoder_widths(test_config):
    config = _config(test_config)
    assert build_model(config, with_audio=True).embedding_sizes == {"visual": 24, "audio": 40}
    assert build_model(config, with_audio=False).embedding_sizes == {"visual": 24}


@pytest.mark.parametrize("backbone", ["multitsf", "multiasl"])
@pytest.mark.parametrize("with_audio", [True, False])
def test_float16_embeddings_give_the_outputs_of_pixels_and_audio(
    test_config, inputs, backbone, with_audio
):
    frames, audio = inputs
    torch.manual_seed(0)
    model = build_model({**_config(test_config), "backbone": backbone}, with_audio).eval()
    with torch.no_grad():
        reference = model(frames, audio)
        visual, audio_embedding = model.embed(frames, audio)
        assert visual.shape == (B, V, T, 24)
        assert (audio_embedding is None) != with_audio
        if with_audio:
            assert audio_embedding.shape == (B, V, T, 40)
            audio_embedding = audio_embedding.half()
        cached = model.forward_embeddings(visual.half(), audio_embedding)
        exact = model.forward_embeddings(*model.embed(frames, audio))
    for name in ("view_frame_logits", "frame_logits", "sequence_logits", "f_av", "f_fusion"):
        assert torch.equal(getattr(exact, name), getattr(reference, name)), name
        torch.testing.assert_close(
            getattr(cached, name), getattr(reference, name), rtol=2e-3, atol=2e-3
        )
        assert not torch.equal(getattr(cached, name), getattr(reference, name)), name


def test_frozen_encoders_embed_without_a_graph_and_the_projection_still_trains(test_config, inputs):
    frames, audio = inputs
    model = build_model(_config(test_config, trainable=False), with_audio=True)
    visual, audio_embedding = model.embed(frames, audio)
    assert not visual.requires_grad and not audio_embedding.requires_grad
    model.forward_embeddings(visual, audio_embedding).sequence_logits.sum().backward()
    assert model.visual_encoder.project.weight.grad.abs().sum() > 0
    assert model.audio_encoder.project.weight.grad.abs().sum() > 0
    trainable = build_model(_config(test_config), with_audio=True)
    assert all(e.requires_grad for e in trainable.embed(frames, audio))


def test_embeddings_of_the_wrong_shape_are_refused(test_config):
    teacher = build_model(_config(test_config), with_audio=True)
    visual = torch.zeros(B, V, T, 24)
    with pytest.raises(ValueError, match="visual embeddings must be"):
        teacher.forward_embeddings(torch.zeros(B, V, T, 32), torch.zeros(B, V, T, 40))
    with pytest.raises(ValueError, match="needs audio"):
        teacher.forward_embeddings(visual)
    with pytest.raises(ValueError, match="audio embeddings must be"):
        teacher.forward_embeddings(visual, torch.zeros(B, V, T - 1, 40))
