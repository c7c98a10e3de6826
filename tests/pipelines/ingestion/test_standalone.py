"""`kedro run --pipelines ingestion` on a fresh clone: a real-layout dataset, no simulation output."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import vicokd
from vicokd.data.origin import SIMULATION_MARKER
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
    """The default environment (2 decoding workers, 64 px) with simulation off: its pretraining
    home (Home3, simulated) is not in a real dataset, and Home1 and Home2 are ingested alone."""
    project = fresh_clone(tmp_path / "clone")
    assert not (recordings / "Home3").exists()
    args = ("--pipelines", "ingestion",
            "--params", f"simulation.enabled=false,ingestion.dataset_root={recordings}")
    result = kedro_run(project, *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Pretraining home(s) Home3 not in" in result.stdout + result.stderr
    intermediate = project / "data" / "02_intermediate"
    table = str(intermediate / "sequences.parquet")
    sequences = SequenceTableDataset(table).load()
    assert sequences["sequence_id"].tolist() == [
        "Home1/01/00-Part1", "Home1/01/00-Part2", "Home2/01/00-Part1"
    ]
    frames = ArrayStoreDataset(str(intermediate / "frames"), table=table).load()
    assert frames["Home1/01/00-Part2"].shape == (5, 10, 64, 64, 3)  # conf/base image_size
    for name in STORES:
        assert list(generations(intermediate / name).values()) == [sequences.attrs["ingestion_id"]]
    report = json.loads((project / "data" / "08_reporting" / "ingestion_report.json").read_text())
    assert report["homes"] == ["Home1", "Home2"]
    truncated = str(recordings / "Home2" / "01" / "03-View2-Part1.mp4")
    assert [(entry["file"], entry["kind"]) for entry in report["skipped"]] == [  # with 2 workers
        (truncated, "unreadable_mp4")]
    assert truncated in result.stdout + result.stderr  # named in the log too
    assert not (project / "data" / "01_raw" / "recordings_manifest.json").exists()


def test_the_paper_environment_refuses_a_simulated_dataset_before_any_node(tmp_path, recordings):
    """`kedro run --env paper` where its dataset folder holds the simulator's marker (the demo's
    homes have the real homes' names): the pre-flight check names the folder in a message without
    a traceback, and nothing is ingested."""
    project = fresh_clone(tmp_path / "clone")
    dataset = project / "data" / "01_raw" / "multisensor_home"  # conf/paper's dataset_root
    shutil.copytree(recordings, dataset)
    (dataset / SIMULATION_MARKER).write_text("{}")
    result = kedro_run(project, "--env", "paper", "--pipelines", "ingestion")
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert ("The pre-flight check found 1 problem; nothing has run:\n1. data/01_raw/multisensor_home "
            "holds a simulated dataset (.vicokd-simulation.json), but simulation.enabled is false"
            ) in output, output[-3000:]
    assert "Traceback" not in output and "❱" not in output  # its message alone
    assert not (project / "data" / "02_intermediate").exists()
