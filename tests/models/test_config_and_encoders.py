import copy

import pytest
import torch
from transformers import ASTConfig, ASTModel

from vicokd.models import build_model, parse_model_config
from vicokd.models.encoders import AudioEncoder, crop_audio_positions, pool_tokens


@pytest.mark.parametrize("env", ["base", "test", "paper"])
def test_every_environment_parses(model_parameters, env):
    config = parse_model_config(model_parameters(env))
    assert config.num_classes == 16
    assert config.audio_encoder.max_length == 40


def test_paper_config_names_pretrained_encoders(model_parameters):
    config = parse_model_config(model_parameters("paper"))
    assert config.visual_encoder.pretrained and config.audio_encoder.pretrained
    assert (config.visual_encoder.image_size, config.visual_encoder.patch_size) == (224, 32)


def test_unknown_keys_and_backbones_are_refused(test_config):
    with pytest.raises(ValueError, match=r"temporal.layrs\n  Extra inputs are not permitted"):
        parse_model_config({**test_config, "temporal": {"layrs": 2}})
    with pytest.raises(ValueError, match="backbone"):
        parse_model_config({**test_config, "backbone": "resnet"})


def test_missing_checkpoint_says_how_to_provide_it_offline(test_config, tmp_path):
    missing = str(tmp_path / "no-such-vit")
    config = {
        **test_config,
        "visual_encoder": {**test_config["visual_encoder"], "pretrained": missing},
    }
    with pytest.raises(FileNotFoundError) as error:
        build_model(config, with_audio=False)
    message = str(error.value)
    assert missing in message and "hf download" in message
    assert "conf/paper/parameters_model.yml" in message


def test_frozen_encoders_get_no_gradient(test_config):
    config = copy.deepcopy(test_config)
    config["visual_encoder"]["trainable"] = False
    config["audio_encoder"]["trainable"] = False
    model = build_model(config, with_audio=True)
    frames = torch.randint(0, 256, (1, 2, 3, 3, 64, 64), dtype=torch.uint8)
    model(frames, torch.randn(1, 2, 3, 40, 128)).sequence_logits.sum().backward()
    assert all(p.grad is None for p in model.visual_encoder.vit.parameters())
    assert all(p.grad is None for p in model.audio_encoder.ast.parameters())
    assert model.cross_attention.attention.in_proj_weight.grad is not None


def test_audio_chunks_are_padded_or_cropped_to_max_length(test_config):
    torch.manual_seed(0)
    encoder = parse_model_config(test_config).audio_encoder
    audio = AudioEncoder(encoder, dim=8).eval()
    chunk = torch.randn(3, 40, 128)
    short = chunk[:, :30]
    padded = torch.cat([short, torch.zeros(3, 10, 128)], dim=1)
    torch.testing.assert_close(audio(short), audio(padded))
    longer = torch.cat([chunk, torch.randn(3, 5, 128)], dim=1)
    torch.testing.assert_close(audio(longer), audio(chunk))


def test_cropped_position_grid_keeps_the_first_time_positions():
    torch.manual_seed(0)
    config = ASTConfig(
        max_length=100,
        num_mel_bins=32,
        patch_size=16,
        frequency_stride=8,
        time_stride=10,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
    )
    full = ASTModel(config).eval()
    torch.nn.init.normal_(full.embeddings.position_embeddings)
    cropped = copy.deepcopy(full)
    crop_audio_positions(cropped, 40)
    freq_out, time_out = full.embeddings.get_shape(full.config)  # 3 x 9
    new_time_out = (40 - 16) // 10 + 1  # 3
    chunk = torch.randn(2, 40, 32)
    long = torch.cat([chunk, torch.zeros(2, 60, 32)], dim=1)
    reference = full.embeddings(long)[:, 2:].reshape(2, freq_out, time_out, 16)[:, :, :new_time_out]
    mine = cropped.embeddings(chunk)
    assert cropped.config.max_length == 40
    torch.testing.assert_close(mine[:, 2:].reshape(2, freq_out, new_time_out, 16), reference)
    torch.testing.assert_close(mine[:, :2], full.embeddings(long)[:, :2])


def test_pool_tokens_takes_the_cls_token_or_the_mean_of_all_tokens():
    tokens = torch.arange(2 * 3 * 4, dtype=torch.float32).view(2, 3, 4)
    assert torch.equal(pool_tokens(tokens, "cls"), tokens[:, 0])
    expected = torch.stack([tokens[n].sum(0) / 3 for n in range(2)])
    assert torch.allclose(pool_tokens(tokens, "mean"), expected)
    with pytest.raises(ValueError, match="pooling"):
        pool_tokens(tokens, "max")


def test_a_linear_visual_projection_gives_teacher_and_student_visual_features_of_their_own(test_config):
    """On one frozen encoder of width ``dim``, ``projection: auto`` is the identity: teacher and
    student F^V are equal, so Eq. 7's two terms coincide and ModalKD's visual term is 0. With
    ``projection: linear`` each model projects with its own trainable Linear and they differ."""
    frozen = copy.deepcopy(test_config)
    frozen["visual_encoder"]["trainable"] = False
    assert frozen["visual_encoder"]["hidden_size"] == frozen["dim"]
    frames = torch.randint(0, 256, (1, 2, 3, 3, 64, 64), dtype=torch.uint8)
    audio = torch.randn(1, 2, 3, 40, 128)

    def teacher_and_student(projection):
        config = {**frozen, "visual_encoder": {**frozen["visual_encoder"], "projection": projection}}
        torch.manual_seed(0)
        teacher = build_model(config, with_audio=True).eval()
        student = build_model(config, with_audio=False).eval()
        student.visual_encoder.vit.load_state_dict(teacher.visual_encoder.vit.state_dict())
        return teacher(frames, audio), student(frames), student

    teacher, student, model = teacher_and_student("auto")
    assert isinstance(model.visual_encoder.project, torch.nn.Identity)
    torch.testing.assert_close(teacher.f_visual, student.f_visual)
    attn_gap = (teacher.f_attn - student.f_attn).pow(2).sum(-1).mean()
    torch.testing.assert_close((teacher.f_av - student.f_av).pow(2).sum(-1).mean(), attn_gap)

    teacher, student, model = teacher_and_student("linear")
    assert isinstance(model.visual_encoder.project, torch.nn.Linear)
    assert model.visual_encoder.project.weight.requires_grad
    assert (teacher.f_visual - student.f_visual).abs().max() > 1e-3
    attn_gap = (teacher.f_attn - student.f_attn).pow(2).sum(-1).mean()
    assert not torch.isclose((teacher.f_av - student.f_av).pow(2).sum(-1).mean(), attn_gap)
