"""Fixtures of the training tests (the tiny model and clips live in training_helpers.py)."""
import pytest
from training_helpers import RandomClips, TinyModel


@pytest.fixture
def clips():
    return RandomClips(12)


@pytest.fixture
def tiny_model():
    """The :class:`TinyModel` class (call it with ``with_audio=``)."""
    return TinyModel

