"""The project trained from real recordings (tests/pipelines/recorded_project.py)."""
import pytest
from recorded_project import recorded_project


@pytest.fixture(scope="session")
def recorded(tmp_path_factory):
    return recorded_project(tmp_path_factory)
