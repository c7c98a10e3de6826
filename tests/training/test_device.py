import copy

import pytest
import torch

from project_parameters import random_model_config
from vicokd.models import build_model
from vicokd.training.device import (
    enable_gradient_checkpointing,
    resolve_accelerator,
    training_precision,
)


def test_accelerator_resolution():
    assert resolve_accelerator("cpu") == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_accelerator("auto") == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_accelerator("cuda")


def test_mixed_precision_on_cuda_only():
    assert training_precision("cuda", "bf16-mixed") == "bf16-mixed"
    assert training_precision("cpu", "bf16-mixed") == "32-true"


def calls_of(module):
    """A list that grows by one at every forward call of ``module``."""
    calls = []
    module.register_forward_hook(lambda *_: calls.append(1))
    return calls


def test_gradient_checkpointing_recomputes_trainable_encoders_to_the_same_gradients():
    config = random_model_config("test")
    torch.manual_seed(0)
    checkpointed = build_model(config, with_audio=True)
    plain = copy.deepcopy(checkpointed)
    assert enable_gradient_checkpointing(checkpointed) == ["visual_encoder.vit", "audio_encoder.ast"]
    size, mels = checkpointed.visual_encoder.image_size, checkpointed.audio_encoder.num_mel_bins
    generator = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (1, 5, 2, 3, size, size), dtype=torch.uint8, generator=generator)
    audio = torch.randn(1, 5, 2, 40, mels, generator=generator)
    forwards = {}
    for name, model in (("checkpointed", checkpointed), ("plain", plain)):
        layer = next(m for m in model.visual_encoder.vit.modules() if type(m).__name__ == "ViTLayer")
        forwards[name] = calls_of(next(layer.children()))  # a module inside the checkpointed layer
        model.train()(frames, audio).sequence_logits.sum().backward()
    # the checkpointed layer runs again in backward, to recompute what it did not keep
    assert (len(forwards["checkpointed"]), len(forwards["plain"])) == (2, 1)
    for (name, value), (_, reference) in zip(checkpointed.named_parameters(),
                                             plain.named_parameters()):
        torch.testing.assert_close(value.grad, reference.grad, msg=name)


def test_gradient_checkpointing_leaves_frozen_encoders_alone():
    config = random_model_config("test")
    config["visual_encoder"]["trainable"] = False
    student, teacher = build_model(config, with_audio=False), build_model(config, with_audio=True)
    assert enable_gradient_checkpointing(student) == []
    assert enable_gradient_checkpointing(teacher) == ["audio_encoder.ast"]
    assert teacher.audio_encoder.ast.is_activation_checkpointing
    assert not teacher.visual_encoder.vit.is_activation_checkpointing
