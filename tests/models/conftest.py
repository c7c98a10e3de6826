from pathlib import Path

import pytest
import torch
from kedro.config import OmegaConfigLoader

from vicokd.settings import CONFIG_LOADER_ARGS

CONF = Path(__file__).resolve().parents[2] / "conf"


def _model_parameters(env: str) -> dict:
    """The ``model:`` parameters of an environment, merged over conf/base as Kedro does."""
    loader = OmegaConfigLoader(str(CONF), env=None if env == "base" else env, **CONFIG_LOADER_ARGS)
    return loader["parameters"]["model"]


@pytest.fixture
def model_parameters():
    """Loader of the ``model:`` block of an environment: ``model_parameters("paper")``."""
    return _model_parameters


@pytest.fixture
def test_config() -> dict:
    return _model_parameters("test")


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    """(B=2, V=5, T=8, 64 px) uint8 frames and (B, V, T, 40, 128) log-mel chunks."""
    generator = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (2, 5, 8, 3, 64, 64), dtype=torch.uint8, generator=generator)
    audio = torch.randn(2, 5, 8, 40, 128, generator=generator)
    return frames, audio
