import pytest
import torch

from project_parameters import random_model_config


@pytest.fixture
def model_parameters(parameters_of):
    """Loader of the ``model:`` block of an environment: ``model_parameters("paper")``."""
    return lambda env: parameters_of(env)["model"]


@pytest.fixture
def test_config() -> dict:
    """The test environment's model block, encoders randomly initialised and trainable."""
    return random_model_config("test")


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    """(B=2, V=5, T=8, 64 px) uint8 frames and (B, V, T, 40, 128) log-mel chunks."""
    generator = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (2, 5, 8, 3, 64, 64), dtype=torch.uint8, generator=generator)
    audio = torch.randn(2, 5, 8, 40, 128, generator=generator)
    return frames, audio
