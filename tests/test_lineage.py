"""`kedro viz build` works and its lineage graph holds every registered pipeline's nodes and layers."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kedro.framework.project import configure_project, pipelines

PROJECT = Path(__file__).resolve().parents[1]
KEDRO = Path(sys.executable).with_name("kedro")


@pytest.fixture(scope="module")
def viz_build(tmp_path_factory) -> Path:
    """``kedro viz build`` run on a copy of the project's conf (the package is the installed one),
    so the project's own build/ folder is left alone. Returns the build/api folder."""
    root = tmp_path_factory.mktemp("viz")
    shutil.copytree(PROJECT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    (root / "src").mkdir()  # kedro wants the source folder; vicokd itself is imported from the venv
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    result = subprocess.run([str(KEDRO), "viz", "build"], check=False, cwd=root, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root / "build" / "api"


def registered_pipelines() -> dict:
    configure_project("vicokd")
    return dict(pipelines)


def test_viz_graph_holds_every_registered_pipeline_and_node(viz_build):
    registered = registered_pipelines()
    assert "__default__" in registered and len(registered) > 1
    for name, pipeline in registered.items():
        graph = json.loads((viz_build / "pipelines" / name).read_text())
        tasks = {node["full_name"] for node in graph["nodes"] if node["type"] == "task"}
        missing = {node.name for node in pipeline.nodes} - tasks
        assert not missing, f"kedro-viz graph of pipeline {name!r} lacks the nodes {sorted(missing)}"


def test_every_stored_dataset_has_a_layer(viz_build):
    graph = json.loads((viz_build / "main").read_text())
    stored = [node for node in graph["nodes"]
              if node["type"] == "data" and "MemoryDataset" not in (node.get("dataset_type") or "")]
    assert stored, "the graph has no stored dataset"
    unlayered = sorted(node["name"] for node in stored if not node.get("layer"))
    assert not unlayered, f"datasets without `metadata: kedro-viz: layer`: {unlayered}"
    # kedro-viz drops every layer when they are not in one order along the graph (a dataset of a later
    # layer feeding one of an earlier layer)
    assert "reporting" in graph["layers"], (
        f"kedro-viz shows no layers ({graph['layers']}): the layers of the catalog form a cycle")
