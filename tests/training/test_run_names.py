"""The names derived from a run (vicokd.training.run_names) are the ones the catalog's factories in
conf/base/catalog_training.yml resolve, for every run and supervision level of the run table."""
from pathlib import Path

import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog

from project_parameters import CONF
from vicokd.configuration import ProjectConfigLoader
from vicokd.settings import CONFIG_LOADER_ARGS
from vicokd.training.run_names import (
    OUTPUT_KINDS,
    dataset_name,
    partition_key,
    partition_name,
    published_name,
    run_folder,
    tracking_name,
)

#: Where the test environment keeps each kind of output (conf/test/globals.yml: data/test).
FOLDERS = {"model": "data/test/06_models", "history": "data/test/07_model_output/histories",
           "predictions": "data/test/07_model_output/predictions"}


@pytest.fixture(scope="module")
def loader() -> ProjectConfigLoader:
    return ProjectConfigLoader(str(CONF), env="test", **CONFIG_LOADER_ARGS)


def test_the_dataset_names_are_the_catalog_factory_patterns():
    entries = yaml.safe_load((CONF / "base" / "catalog_training.yml").read_text())
    patterns = {name for name in entries if "{" in name}
    assert {name("{run}", kind, "{supervision}") for kind in OUTPUT_KINDS
            for name in (dataset_name, published_name)} == patterns


def test_every_output_of_every_run_resolves_to_its_own_folder(loader):
    """Run and level names hold underscores (teacher_vc, no_confw, AV_F): each must still split."""
    catalog = DataCatalog.from_config(loader["catalog"])
    runs = loader["parameters"]["runs"]
    resolved = 0
    for run in runs.values():
        for supervision in run.supervisions:
            for kind in OUTPUT_KINDS:
                dataset = catalog.get(dataset_name(run.name, kind, supervision))
                assert Path(dataset._path) == Path(FOLDERS[kind], run.name, supervision)
                # read back by the run's training node: the same folder, files and file type
                published = catalog.get(published_name(run.name, kind, supervision))
                assert (type(published), published._path, published._filename_suffix,
                        published._dataset_type) == (type(dataset), dataset._path,
                                                     dataset._filename_suffix, dataset._dataset_type)
                resolved += 1
    assert resolved == 3 * sum(len(run.supervisions) for run in runs.values()) > 3 * len(runs)


def test_a_partition_is_saved_where_its_name_says(loader, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the catalog's paths are relative to the project
    catalog = DataCatalog.from_config(loader["catalog"])
    catalog.save(dataset_name("no_confw", "history", "V_S"),
                 {partition_key("Home1", 0): pd.DataFrame({"epoch": [1]})})
    name = partition_name("no_confw", "history", "V_S", "Home1", 0)
    assert name == "no_confw_history_V_S/Home1/seed0"
    assert (tmp_path / FOLDERS["history"] / "no_confw/V_S/Home1/seed0.csv").is_file()


def test_a_model_run_folder_and_tracking_name(loader):
    checkpoint_dir = loader["parameters"]["training"]["checkpoint_dir"]
    assert run_folder(checkpoint_dir, "vicokd", "V_S", "Home2", 1) == Path(
        "data/test/06_models/runs/vicokd/V_S/Home2/seed1")
    assert tracking_name("vicokd", "V_S", "Home2", 1) == "vicokd/V_S/Home2/seed1"
