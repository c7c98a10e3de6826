"""The stratification pipeline on a sequence table with the test environment's parameters."""

from pathlib import Path

import numpy as np
import pandas as pd
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset, ParquetDataset
from kedro_datasets.text import TextDataset

from project_parameters import multisensor_home
from vicokd.data.splitting import StratificationParameters
from vicokd.pipelines.stratification import create_pipeline
from vicokd.settings import CONFIG_LOADER_ARGS

CONF = Path(__file__).resolve().parents[3] / "conf"
CLASSES = multisensor_home().classes


def sequence_table(n_per_home: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [
        {
            "sequence_id": f"{home}/0{i % 3}/{i:02d}-Part{1 + i % 2}",
            "home": home,
            "n_frames": 20,
            "labels": list(rng.choice(CLASSES, rng.integers(1, 3), replace=False)),
        }
        for home in ("Home1", "Home2")
        for i in range(n_per_home)
    ]
    return pd.DataFrame(rows)


def run_stratification(out: Path, sequences: pd.DataFrame, seed: int) -> pd.DataFrame:
    params = StratificationParameters.model_validate(
        OmegaConfigLoader(str(CONF), env="test", **CONFIG_LOADER_ARGS)["parameters"]["stratification"]
    )
    catalog = DataCatalog(
        {
            "sequences": MemoryDataset(sequences),
            "params:stratification": MemoryDataset(params),
            "params:seed": MemoryDataset(seed),
            "params:dataset": MemoryDataset(multisensor_home()),
            "splits": ParquetDataset(filepath=str(out / "splits.parquet")),
            "split_class_counts": CSVDataset(
                filepath=str(out / "counts.csv"), save_args={"index": False}
            ),
            "split_class_counts_table": TextDataset(filepath=str(out / "counts.md")),
        }
    )
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog.load("splits")


def test_pipeline_persists_splits_and_counts(tmp_path):
    sequences = sequence_table()
    splits = run_stratification(tmp_path / "a", sequences, seed=1)
    assert list(splits.columns) == ["sequence_id", "home", "split"]
    assert sorted(splits["sequence_id"]) == sorted(sequences["sequence_id"])
    for _, home in splits.groupby("home"):
        assert abs((home["split"] == "test").mean() - 0.3) <= 0.05
    assert splits.equals(run_stratification(tmp_path / "b", sequences, seed=1))
    counts = pd.read_csv(tmp_path / "a" / "counts.csv")
    assert counts.loc[counts["home"] == "all", "sequences"].sum() == len(sequences)
    assert "\n| home | split | sequences |" in (tmp_path / "a" / "counts.md").read_text()
