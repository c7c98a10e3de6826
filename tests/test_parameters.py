"""Parameters are validated before any node runs, strictly, and errors name the key and its source.

Every case goes through a real Kedro session on a copy of the project's conf/, with ``--params``
given as the command line gives them (``OmegaConf.from_dotlist``, as ``kedro run --params`` parses
them).
"""
from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.validation import ParameterValidationError
from omegaconf import OmegaConf

from pipelines.synthetic_project import Project
from vicokd.data.ingest import IngestionParameters
from vicokd.data.splitting import StratificationParameters
from vicokd.simulation.generate import SimulationParameters, SimulationSettings


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project.copy_of_repository(tmp_path_factory.mktemp("project"))


@contextlib.contextmanager
def session(project: Project, env: str | None, params: tuple[str, ...] = ()):
    """A Kedro session of ``env`` (None: base and conf/local) in ``project`` with ``--params``."""
    runtime = OmegaConf.to_container(OmegaConf.from_dotlist(list(params))) if params else None
    with contextlib.chdir(project.path):
        bootstrap_project(project.path)
        with KedroSession.create(project.path, env=env, runtime_params=runtime) as kedro_session:
            yield kedro_session


def parameters(project: Project, env: str | None, *params: str) -> dict[str, Any]:
    """The validated parameters of ``env`` with ``--params``, as every node reads them."""
    with session(project, env, params) as kedro_session:
        return kedro_session.load_context().params


def sources(message: str, key: str) -> list[str]:
    """The sources the error ``message`` lists for ``key``, as paths relative to conf/."""
    line = re.search(rf"^- '{re.escape(key)}' is defined in (.*)$", message, re.MULTILINE)
    assert line, message
    return [re.sub(r".*/conf/", "", source) for source in line.group(1).split(", ")]


def test_the_environments_load_into_typed_blocks(project):
    base, test, paper = (parameters(project, env) for env in (None, "test", "paper"))
    for loaded in (base, test, paper):
        assert isinstance(loaded["ingestion"], IngestionParameters)
        assert isinstance(loaded["simulation"], SimulationParameters)
        assert isinstance(loaded["stratification"], StratificationParameters)
    assert base["ingestion"].homes == ["Home1", "Home2"]
    assert base["ingestion"].image_size == [64, 64]  # conf/base/globals.yml
    assert test["ingestion"].image_size == [32, 32]  # conf/test/globals.yml
    assert base["dataset"].views == 5 and len(base["dataset"].classes) == 16  # MultiSensor-Home
    assert test["simulation"].settings == SimulationSettings(
        sequences_per_home=10, duration=6.0, fps=5, width=64, height=48, sessions=2, crf=20)
    assert test["simulation"].extra_homes == ["Home3"]  # ${pretraining.homes}
    assert paper["simulation"].enabled is False
    assert paper["stratification"].test_size == 0.3


#: (--params, the key the error names, what it says)
BAD_VALUES = [
    ("training.epochs=ten", "training", "epochs\n  Input should be a valid integer"),
    ("ingestion.homes=Home1", "ingestion", "homes\n  Input should be a valid list"),
    ("seed=abc", "seed", "Input should be a valid integer"),
    ("simulation.overwrite='false'", "simulation", "overwrite\n  Input should be a valid boolean"),
    ("simulation.width=65", "simulation", "width and height must be even for H.264, got 65x48"),
    ("stratification.test_size=1.0", "stratification", "test_size\n  Input should be less than 1"),
    ("ingestion.strictt=true", "ingestion", "strictt\n  Extra inputs are not permitted"),
    ("runs.teacher.epochs=3", "runs", "epochs\n  Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("param", "key", "problem"), BAD_VALUES, ids=[c[0] for c in BAD_VALUES])
def test_a_bad_value_names_its_key_and_the_files_and_params_that_set_it(project, param, key, problem):
    with pytest.raises(ParameterValidationError) as error:
        parameters(project, "test", param)
    message = str(error.value)
    assert re.search(rf"^- Parameter '{key}(\.\w+)?': ", message, re.MULTILINE), message
    assert problem in message
    assert sources(message, key)[-1] == "--params"
    assert all(source.endswith(".yml") for source in sources(message, key)[:-1])


def test_every_bad_value_is_reported_at_once(project):
    with pytest.raises(ParameterValidationError) as error:
        parameters(project, "test", "seed=abc", "training.epochs=ten")
    message = str(error.value)
    assert sources(message, "seed") == ["base/parameters.yml", "--params"]
    assert sources(message, "training") == ["base/parameters_training.yml",
                                            "test/parameters_training.yml", "--params"]


def test_a_bad_value_in_a_local_file_names_that_file(tmp_path):
    project = Project.copy_of_repository(tmp_path)
    (project.path / "conf" / "local" / "parameters_ingestion.yml").write_text(
        'ingestion:\n  strict: "false"\n')
    with pytest.raises(ParameterValidationError, match="strict\n  Input should be a valid boolean") as error:
        parameters(project, None)
    assert sources(str(error.value), "ingestion") == ["base/parameters_ingestion.yml",
                                                      "local/parameters_ingestion.yml"]


def test_an_unknown_run_table_key_in_a_file_names_the_run_and_the_file(tmp_path):
    project = Project.copy_of_repository(tmp_path)
    (project.path / "conf" / "local" / "parameters_runs.yml").write_text(
        "runs:\n  logitkd:\n    recipe:\n      logit: {temperatur: 2.0}\n")
    with pytest.raises(ParameterValidationError) as error:
        parameters(project, None)
    message = str(error.value)
    assert "- Parameter 'runs.logitkd': " in message
    assert "recipe.logit.temperatur\n  Extra inputs are not permitted" in message
    assert sources(message, "runs") == ["base/parameters_runs.yml", "local/parameters_runs.yml"]


def test_a_top_level_key_no_pipeline_reads_is_an_error(project):
    with pytest.raises(ParameterValidationError, match=r"read by no pipeline:\n- 'foo' \(defined in --params\)"):
        parameters(project, "test", "foo=1")


def test_a_plain_typed_input_is_checked_when_no_model_covers_its_block(project):
    """``features`` reads ``ingestion.homes: list[str]`` and nothing of it validates the whole block."""
    with (pytest.raises(ParameterValidationError) as error,
          session(project, "test", ("ingestion.homes=Home1",)) as kedro_session):
        kedro_session.run(pipeline_names=["features"])
    message = str(error.value)
    assert "- Parameter 'ingestion.homes': 1 validation error for list[str]" in message
    assert "Input should be a valid list [type=list_type, input_value='Home1'" in message
    assert sources(message, "ingestion.homes") == ["base/parameters_ingestion.yml", "--params"]


def test_a_run_with_a_bad_value_stops_before_any_node(project):
    with (pytest.raises(ParameterValidationError, match="- Parameter 'seed'"),
          session(project, "test", ("seed=abc",)) as kedro_session):
        kedro_session.run(pipeline_names=["simulation"])
    assert not (project.data / "01_raw").exists()
