"""The pre-flight hook in a Kedro session: before any node, one message with every problem of the
stages that run, and only those."""
import pytest
import torch
from synthetic_project import Project

from vicokd.preflight.problems import PreflightError


@pytest.fixture
def project(tmp_path, monkeypatch) -> Project:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a machine without a GPU
    return Project.copy_of_repository(tmp_path / "project")


def test_a_run_stops_before_any_node_with_every_problem_of_its_stages(project, tmp_path):
    weights = tmp_path / "yolov10n.pt"
    gpu_run = {"training": {"accelerator": "cuda"},
               "masking": {"weights": str(weights), "threshold": 0.5, "device": "cuda"}}
    with pytest.raises(PreflightError) as error:
        project.run(["masking", "teacher"], gpu_run)
    assert str(error.value).startswith("The pre-flight check found 3 problems; nothing has run:")
    assert [problem.what for problem in error.value.problems] == [
        f"masking.weights: {weights} does not exist",
        ("training.accelerator is 'cuda', but no CUDA device is visible "
        "(torch.cuda.is_available() is False)"),
        ("masking.device is 'cuda', but no CUDA device is visible "
        "(torch.cuda.is_available() is False)"),
    ]
    assert not project.data.exists() or not any(project.data.glob("0[3-8]_*"))
    with pytest.raises(PreflightError) as error:  # distillation alone: no masking, no detector
        project.run(["distill"], gpu_run)
    assert [problem.what.split(" is ")[0] for problem in error.value.problems] == [
        "training.accelerator"]
