"""`kedro run --pipelines ingestion` on a fresh clone: a real-layout dataset, no simulation output."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import vicokd
from vicokd.datasets import ArrayStoreDataset, SequenceTableDataset
from vicokd.datasets.array_store import generations

PROJECT = Path(__file__).resolve().parents[3]
KEDRO = Path(sys.executable).with_name("kedro")
STORES = ("frames", "log_mels", "frame_labels")


def fresh_clone(folder: Path) -> Path:
    """pyproject.toml and conf/ of this project, empty data/ and conf/local/ (the package itself is
    imported from where this test imports it)."""
    shutil.copytree(PROJECT / "conf", folder / "conf", ignore=shutil.ignore_patterns("local"))
    (folder / "conf" / "local").mkdir()
    shutil.copy(PROJECT / "pyproject.toml", folder / "pyproject.toml")
    (folder / "src").mkdir()
    (folder / "data").mkdir()
    return folder


def kedro_run(project: Path, *args: str) -> subprocess.CompletedProcess:
    package_root = str(Path(vicokd.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        # kedro-mlflow, when installed, falls back to a file store without conf/base/mlflow.yml
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run([str(KEDRO), "run", *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


def test_ingestion_alone_reads_a_real_layout_dataset_on_a_fresh_clone(tmp_path, recordings):
    project = fresh_clone(tmp_path / "clone")
    args = ("--pipelines", "ingestion", "--env", "test",  # a real dataset: no pretraining home
            "--params", f"ingestion.dataset_root={recordings},pretraining.homes=[]")
    result = kedro_run(project, *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    intermediate = project / "data" / "test" / "02_intermediate"
    table = str(intermediate / "sequences.parquet")
    sequences = SequenceTableDataset(table).load()
    assert sequences["sequence_id"].tolist() == [
        "Home1/01/00-Part1", "Home1/01/00-Part2", "Home2/01/00-Part1"
    ]
    frames = ArrayStoreDataset(str(intermediate / "frames"), table=table).load()
    assert frames["Home1/01/00-Part2"].shape == (5, 10, 32, 32, 3)
    for name in STORES:
        assert list(generations(intermediate / name).values()) == [sequences.attrs["ingestion_id"]]
    assert not (project / "data" / "test" / "01_raw" / "recordings_manifest.json").exists()
