"""Fixtures shared by every test folder."""
import pytest

from project_parameters import load_parameters


@pytest.fixture
def parameters_of():
    """Loader of an environment's parameters: ``parameters_of("paper")["model"]``."""
    return load_parameters
