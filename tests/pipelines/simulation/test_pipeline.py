"""The simulation pipeline end to end with the test environment's parameters."""
from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.pandas import ParquetDataset

from project_parameters import multisensor_home
from vicokd.data.description import DatasetDescription, DatasetMismatchError
from vicokd.data.ingest import with_extra_homes
from vicokd.pipelines.simulation import create_pipeline
from vicokd.settings import CONFIG_LOADER_ARGS
from vicokd.simulation.generate import SimulationParameters
from vicokd.simulation.truth import TRUTH_COLUMNS

CONF = Path(__file__).resolve().parents[3] / "conf"


def simulation_parameters(**overrides) -> SimulationParameters:
    """The test environment's ``simulation`` block with ``overrides``, as Kedro hands it to the nodes."""
    params = OmegaConfigLoader(str(CONF), env="test", **CONFIG_LOADER_ARGS)["parameters"]
    return SimulationParameters.model_validate({**params["simulation"], **overrides})


def run_simulation(out: Path, simulation: SimulationParameters, root: Path,
                   dataset: DatasetDescription | None = None,
                   homes: tuple[str, ...] = ("Home1", "Home2")) -> DataCatalog:
    catalog = DataCatalog({
        "params:simulation": MemoryDataset(simulation),
        "params:ingestion.dataset_root": MemoryDataset(str(root)),
        "params:ingestion.homes": MemoryDataset(list(homes)),
        "params:seed": MemoryDataset(0),
        "params:dataset": MemoryDataset(dataset or multisensor_home()),
        "recordings_manifest": JSONDataset(filepath=str(out / "manifest.json")),
        "person_truth": ParquetDataset(filepath=str(out / "truth.parquet")),
        "simulation_overlap": JSONDataset(filepath=str(out / "overlap.json")),
        "simulation_contact_sheet": MatplotlibDataset(filepath=str(out / "sheet.png")),
    })
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def test_simulation_pipeline_writes_dataset_truth_and_reports(tmp_path):
    simulation = simulation_parameters(sequences_per_home=2, sequences_per_extra_home=1, duration=3.0)
    assert simulation.extra_homes == ["Home3"]  # the pretraining home is simulated by default
    catalog = run_simulation(tmp_path / "out", simulation, tmp_path / "data")
    manifest = catalog.load("recordings_manifest")
    assert manifest["simulated"] and manifest["homes"] == ["Home1", "Home2", "Home3"]
    assert manifest["settings"] == {"sequences_per_home": 2, "sequences_per_extra_home": 1,
                                    "duration": 3.0, "fps": 5, "width": 64, "height": 48,
                                    "sessions": 2, "crf": 20}  # conf/test's
    truth = catalog.load("person_truth")
    assert tuple(truth.columns) == TRUTH_COLUMNS
    assert truth.groupby("home")["sequence_id"].nunique().to_dict() == {"Home1": 2, "Home2": 2,
                                                                         "Home3": 1}
    assert len(truth) == (2 + 2 + 1) * 5 * 3.0 * simulation.fps
    assert truth[["x1", "y1", "x2", "y2"]].dropna().stack().between(0, 1).all()
    overlap = catalog.load("simulation_overlap")
    assert set(overlap) == {"Home1", "Home2", "Home3"}
    assert (tmp_path / "out" / "sheet.png").stat().st_size > 1000
    assert len(list((tmp_path / "data").glob("Home*/*/*.mp4"))) == (2 + 2 + 1) * 5


def test_a_one_home_run_uses_the_dataset_of_every_home_as_it_is(tmp_path):
    """The README's `kedro run --params "ingestion.homes=[Home1]"` after a run of both homes."""
    simulation = simulation_parameters(sequences_per_home=1, duration=2.0)
    run_simulation(tmp_path / "out", simulation, tmp_path / "data")
    recordings = {p: p.stat().st_mtime_ns for p in (tmp_path / "data").rglob("*") if p.is_file()}
    catalog = run_simulation(tmp_path / "out", simulation, tmp_path / "data", homes=("Home1",))
    assert catalog.load("recordings_manifest")["homes"] == ["Home1", "Home3"]
    assert set(catalog.load("person_truth")["home"]) == {"Home1", "Home3"}
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "data").rglob("*") if p.is_file()} == recordings


def test_extra_homes_follow_the_ingested_homes_once():
    assert with_extra_homes(["Home1", "Home2"], ["Home3"]) == ["Home1", "Home2", "Home3"]
    assert with_extra_homes(["Home3", "Home1"], ["Home3", "Home2", "Home2"]) == [
        "Home3", "Home1", "Home2"]
    assert with_extra_homes(["Home1"], []) == ["Home1"]


def test_real_data_mode_writes_nothing_and_an_empty_truth(tmp_path):
    for home in ("Home1", "Home2"):
        (tmp_path / "real" / home).mkdir(parents=True)
    real_mode = simulation_parameters(enabled=False)  # extra_homes [Home3]: ignored for real data
    catalog = run_simulation(tmp_path / "out", real_mode, tmp_path / "real")
    assert catalog.load("recordings_manifest")["simulated"] is False
    truth = catalog.load("person_truth")
    assert truth.empty and tuple(truth.columns) == TRUTH_COLUMNS
    assert sorted(p.name for p in (tmp_path / "real").rglob("*")) == ["Home1", "Home2"]
    assert catalog.load("simulation_overlap") == {}


def test_real_data_mode_requires_the_home_folders(tmp_path):
    with pytest.raises(Exception, match="Home1"):
        run_simulation(tmp_path / "out", simulation_parameters(enabled=False), tmp_path / "missing")


def test_the_simulator_refuses_a_dataset_block_other_than_multisensor_home(tmp_path):
    """It simulates MultiSensor-Home's 16 classes and 5 cameras; another class list or number of
    views is an error before anything is written (the same classes in another order are fine)."""
    own = DatasetDescription(classes=["Wave", "Sit", "Eat"], views=3, sample_fps=2.5)
    with pytest.raises(DatasetMismatchError) as error:
        run_simulation(tmp_path / "out", simulation_parameters(sequences_per_home=1),
                       tmp_path / "data", own)
    assert "not simulated ['Sit', 'Wave'], missing ['AdjustAC'" in error.value.problem
    assert "dataset.views is 3, but the simulated homes have Home1: 5, Home2: 5, Home3: 5" in (
        error.value.problem)
    assert "simulation.enabled: false" in error.value.fix
    assert not (tmp_path / "data").exists()
