"""The command line as a user types it: `kedro run` (Kedro's click command, in-process, in a copy of
the project) with the dry runner of tests/dry_runner.py, which hands nothing to train but records
what each node would get; `python -m vicokd` (the `vicokd` script's function) in a process of its
own."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from kedro.framework.cli.cli import KedroCLI

import vicokd
from dry_runner import DryRunner
from pipelines.synthetic_project import Project
from vicokd.cli import LIST_HINT
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


def test_a_parameter_error_is_its_message_and_a_failed_exit(project):
    result = kedro(project, "run", "--env", "test", "--params", "runs.teacher.training.epochs=-1", *DRY)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # reported by click, not raised on
    assert ("Error: Parameter validation failed:\n- Parameter 'runs.teacher.training.epochs': "
            "Input should be greater than 0 (got -1)") in result.output
    assert "- 'runs.teacher' is defined in " in result.output
    assert not DryRunner.inputs.get("teacher.train_AV_F")  # no node was reached


def test_a_list_with_commas_is_refused_with_the_form_that_works(project):
    result = kedro(project, "run", "--params", "seeds=[3,4,5]")
    assert result.exit_code == 2
    assert "Item `4` must contain a key and a value" in result.output
    assert LIST_HINT in result.output


def test_python_m_vicokd_reports_a_parameter_error_without_a_traceback(project):
    source = str(Path(vicokd.__file__).parents[1])  # this checkout's package
    with project.inside():
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
            source, os.environ.get("PYTHONPATH")]))}
        result = subprocess.run([sys.executable, "-m", "vicokd", "--env", "test", "--params", "seed=abc"],
                                cwd=project.path, env=env, capture_output=True, text=True, timeout=600,
                                check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "- Parameter 'seed': 1 validation error for int" in output
    assert "Traceback" not in output and "❱" not in output  # neither Python's nor rich's
