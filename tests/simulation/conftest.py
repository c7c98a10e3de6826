"""A tiny simulated dataset, generated once for the simulation tests."""
import pytest

from vicokd.simulation.generate import SimulationSettings, simulate_dataset


@pytest.fixture(scope="session")
def tiny_settings():
    return SimulationSettings(sequences_per_home=4, duration=4.0, fps=5, width=64, height=48, sessions=2,
                              crf=20)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, tiny_settings):
    """(root, truth) of a tiny two-home dataset made with seed 3."""
    root = tmp_path_factory.mktemp("sim") / "dataset"
    return root, simulate_dataset(root, ["Home1", "Home2"], tiny_settings, seed=3)
