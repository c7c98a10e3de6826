"""Simulated and real datasets: a run refuses a folder of the other origin, naming it and the fix."""
import pytest

from vicokd.data.origin import SIMULATION_MARKER, DatasetOriginError, check_dataset_origin
from vicokd.simulation.generate import check_real_dataset


@pytest.fixture
def real(tmp_path):
    (tmp_path / "real" / "Home1").mkdir(parents=True)
    return tmp_path / "real"


@pytest.fixture
def simulated(tmp_path):
    (tmp_path / "simulated" / "Home1").mkdir(parents=True)
    (tmp_path / "simulated" / SIMULATION_MARKER).write_text("{}")
    return tmp_path / "simulated"


def test_each_origin_is_accepted_by_its_own_setting(real, simulated):
    check_dataset_origin(real, simulated=False)
    check_dataset_origin(simulated, simulated=True)


def test_a_real_run_refuses_a_simulated_folder(simulated):
    with pytest.raises(DatasetOriginError) as error:
        check_dataset_origin(simulated, simulated=False)
    message = str(error.value)
    assert message.startswith(f"{simulated} holds a simulated dataset ({SIMULATION_MARKER})")
    assert "Point ingestion.dataset_root at the real recordings" in message
    with pytest.raises(DatasetOriginError, match="holds a simulated dataset"):
        check_real_dataset(simulated, ["Home1"])  # the simulation node with simulation off


def test_a_simulated_run_refuses_a_folder_the_simulator_did_not_write(real):
    with pytest.raises(DatasetOriginError) as error:
        check_dataset_origin(real, simulated=True)
    message = str(error.value)
    assert message.startswith(f"{real} holds no {SIMULATION_MARKER}")
    assert "set simulation.enabled: false" in message


@pytest.mark.parametrize("simulated, fix", [(True, "Run the simulation first"),
                                            (False, "Put the recordings there")])
def test_a_missing_folder_names_the_fix_for_its_setting(tmp_path, simulated, fix):
    with pytest.raises(DatasetOriginError, match=fix) as error:
        check_dataset_origin(tmp_path / "absent", simulated)
    assert str(error.value).startswith(str(tmp_path / "absent"))
