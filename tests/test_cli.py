"""The command line as a user types it: `kedro run` (Kedro's click command, in-process, in a copy of
the project) with the dry runner of tests/dry_runner.py, which hands nothing to train but records
what each node would get."""
from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from kedro.framework.cli.cli import KedroCLI

from dry_runner import DryRunner
from pipelines.synthetic_project import Project
from vicokd.training.run_table import RunSpec

DRY = ("--runner", "dry_runner.DryRunner")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    """The project's conf/ and an environment ``myexp`` that adds the run ``mykd``."""
    project = Project.copy_of_repository(tmp_path_factory.mktemp("project"))
    (project.path / "conf" / "myexp").mkdir()
    (project.path / "conf" / "myexp" / "parameters_runs.yml").write_text(
        "runs:\n  mykd:\n    base: vicokd\n    label: My KD\n    training: {epochs: 3}\n")
    return project


def kedro(project: Project, *args: str) -> Result:
    """``kedro <args>`` run from the project folder."""
    with project.inside():
        return CliRunner().invoke(KedroCLI(project.path), list(args))


def test_a_row_of_an_environment_runs_as_its_namespace(project):
    result = kedro(project, "run", "--env", "myexp", "--pipelines", "distill", "--namespaces", "mykd",
                   *DRY)
    assert result.exit_code == 0, result.output
    assert set(DryRunner.inputs) == {"mykd.train_V_F", "mykd.train_V_S"}
    mykd = DryRunner.inputs["mykd.train_V_S"]["params:runs.mykd"]
    assert isinstance(mykd, RunSpec) and (mykd.base, mykd.training) == ("vicokd", {"epochs": 3})


def test_lists_written_on_one_line_reach_the_nodes_as_lists(project):
    params = "seeds=3-5,ingestion.homes=Home2+Home1,runs.student.supervisions=V_S"
    result = kedro(project, "run", "--env", "test", "--pipelines", "distill", "--namespaces", "student",
                   "--params", params, *DRY)
    assert result.exit_code == 0, result.output
    assert list(DryRunner.inputs) == ["student.train_V_S"]
    inputs = DryRunner.inputs["student.train_V_S"]
    assert inputs["params:seeds"] == [3, 4, 5]
    assert inputs["params:ingestion.homes"] == ["Home2", "Home1"]
    assert inputs["params:runs.student"].supervisions == ["V_S"]
