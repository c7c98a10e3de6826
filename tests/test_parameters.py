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
from kedro.config import OmegaConfigLoader
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.validation import ParameterValidationError
from omegaconf import OmegaConf

from pipelines.synthetic_project import Project
from vicokd import configuration
from vicokd.data.ingest import IngestionParameters
from vicokd.data.splitting import StratificationParameters
from vicokd.losses.terms import FeatureName
from vicokd.parameters import one_line_list
from vicokd.simulation.generate import SimulationParameters, SimulationSettings
from vicokd.training.run_table import RunSpec


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
    assert base["ingestion"].settings.image_size == (64, 64)  # conf/base/globals.yml
    assert test["ingestion"].settings.image_size == (32, 32)  # conf/test/globals.yml
    assert test["simulation"].settings == SimulationSettings(
        sequences_per_home=10, duration=6.0, fps=5, width=64, height=48, sessions=2, crf=20)
    assert test["simulation"].extra_homes == ["Home3"]  # ${pretraining.homes}
    assert paper["simulation"].enabled is False
    assert paper["stratification"].test_size == 0.3


#: (--params, the key the error names, the key whose sources it lists, what it says)
BAD_VALUES = [
    ("training.epochs=ten", "training", "training", "epochs\n  Input should be a valid integer"),
    ("ingestion.homes=Home1++Home2", "ingestion", "ingestion",
     "homes\n  Value error, 'Home1++Home2' has an empty item"),
    ("seeds=3-x", "seeds", "seeds", "'3-x' is not a list of integers: write one (4), a range (3-5)"),
    ("seeds=5-3", "seeds", "seeds", "'5-3': the range 5-3 is empty"),
    ("seed=abc", "seed", "seed", "Input should be a valid integer"),
    ("simulation.overwrite='false'", "simulation", "simulation",
     "overwrite\n  Input should be a valid boolean"),
    ("simulation.width=65", "simulation", "simulation",
     "width and height must be even for H.264, got 65x48"),
    ("stratification.test_size=1.0", "stratification", "stratification",
     "test_size\n  Input should be less than 1"),
    ("ingestion.strictt=true", "ingestion", "ingestion", "strictt\n  Extra inputs are not permitted"),
    ("runs.teacher.epochs=3", "runs.teacher.epochs", "runs.teacher",
     "Extra inputs are not permitted (got 3)"),
    ("runs.teacher.training.epochs=-1", "runs.teacher.training.epochs", "runs.teacher",
     "Input should be greater than 0 (got -1)"),
]


@pytest.mark.parametrize(("param", "key", "source", "problem"), BAD_VALUES, ids=[c[0] for c in BAD_VALUES])
def test_a_bad_value_names_its_key_and_the_files_and_params_that_set_it(project, param, key, source,
                                                                       problem):
    with pytest.raises(ParameterValidationError) as error:
        parameters(project, "test", param)
    message = str(error.value)
    assert re.search(rf"^- Parameter '{re.escape(key)}(\.\w+)?': ", message, re.MULTILINE), message
    assert problem in message
    assert sources(message, source)[-1] == "--params"
    assert all(source.endswith(".yml") for source in sources(message, source)[:-1])


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
    assert ("- Parameter 'runs.logitkd.recipe.logit.temperatur': Extra inputs are not permitted "
            "(got 2.0)") in message
    assert sources(message, "runs.logitkd") == ["base/parameters_runs.yml", "local/parameters_runs.yml"]


def test_a_top_level_key_no_pipeline_reads_is_an_error(project):
    with pytest.raises(ParameterValidationError, match=r"read by no pipeline:\n- 'foo' \(defined in --params\)"):
        parameters(project, "test", "foo=1")


def test_a_plain_typed_input_is_checked_when_no_model_covers_its_block(project):
    """``features`` reads ``ingestion.homes: list[str]`` and nothing of it validates the whole block."""
    with (pytest.raises(ParameterValidationError) as error,
          session(project, "test", ("ingestion.homes=3",)) as kedro_session):
        kedro_session.run(pipeline_names=["features"])
    message = str(error.value)
    assert "- Parameter 'ingestion.homes': 1 validation error for list[str]" in message
    assert "Input should be a valid list [type=list_type, input_value=3" in message
    assert sources(message, "ingestion.homes") == ["base/parameters_ingestion.yml", "--params"]


def test_a_run_with_a_bad_value_stops_before_any_node(project):
    with (pytest.raises(ParameterValidationError, match="- Parameter 'seed'"),
          session(project, "test", ("seed=abc",)) as kedro_session):
        kedro_session.run(pipeline_names=["simulation"])
    assert not (project.data / "01_raw").exists()


MYKD = """runs:
  mykd:                       # a row that exists only in this environment
    base: vicokd
    label: My KD
    training: {epochs: 3}
"""


def test_a_row_of_an_environment_is_a_namespace_of_that_environment_only(tmp_path):
    """``kedro run --env myexp --namespaces mykd``: the run table is the environment's own, and two
    sessions of different environments in one process each get their own pipelines."""
    project = Project.copy_of_repository(tmp_path)
    (project.path / "conf" / "myexp").mkdir()
    (project.path / "conf" / "myexp" / "parameters_runs.yml").write_text(MYKD)
    for env, has_mykd in (("myexp", True), ("test", False), ("myexp", True)):
        with session(project, env) as kedro_session:
            params = kedro_session.load_context().params
            distill = pipelines["distill"]
            assert ("mykd" in params["runs"]) == has_mykd
            if not has_mykd:
                with pytest.raises(ValueError, match=r"does not contain nodes .*: \['mykd'\]"):
                    distill.filter(node_namespaces=["mykd"])
    assert {node.name for node in distill.filter(node_namespaces=["mykd"]).nodes} == {
        "mykd.train_V_F", "mykd.train_V_S"}
    mykd = params["runs"]["mykd"]
    assert isinstance(mykd, RunSpec)
    assert (mykd.training, mykd.base, mykd.recipe) == ({"epochs": 3}, "vicokd", params["runs"]["vicokd"].recipe)


def test_the_run_table_is_read_and_validated_once_per_session(project, monkeypatch):
    reads, validations = [], []
    read, validate = OmegaConfigLoader.__getitem__, configuration.validate_run_table
    monkeypatch.setattr(OmegaConfigLoader, "__getitem__",
                        lambda loader, key: reads.append(key) or read(loader, key))
    monkeypatch.setattr(configuration, "validate_run_table",
                        lambda *args: validations.append(args) or validate(*args))
    with session(project, "test") as kedro_session:
        context = kedro_session.load_context()
        assert "teacher.train_AV_F" in {node.name for node in pipelines["teacher"].nodes}
        teacher = context.catalog.load("params:runs.teacher")  # as the nodes get it
    assert isinstance(teacher, RunSpec) and teacher.training == {"epochs": 1}
    assert reads.count("parameters") == 1 and len(validations) == 1


def test_a_bad_row_stops_the_run_before_any_node_naming_the_row_that_writes_it(project):
    """teacher_vc inherits the teacher's training block: the error is the teacher's alone."""
    with (pytest.raises(ParameterValidationError) as error,
          session(project, "test", ("runs.teacher.training.epochs=-1",)) as kedro_session):
        kedro_session.run(pipeline_names=["simulation"])
    message = str(error.value)
    assert "- Parameter 'runs.teacher.training.epochs': Input should be greater than 0" in message
    assert sources(message, "runs.teacher") == [
        "base/parameters_runs.yml", "test/parameters_runs.yml", "--params"]
    assert "teacher_vc" not in message
    assert not (project.data / "01_raw").exists()


def test_an_unknown_supervision_level_on_the_command_line_is_named_once(project):
    with pytest.raises(ParameterValidationError) as error:
        parameters(project, "test", "runs.student.supervisions=[V_X]")
    message = str(error.value)
    problems = re.findall(r"^- Parameter '([^']+)': (.*)$", message, re.MULTILINE)
    unknown = "unknown supervision level(s) ['V_X']; supervision_levels has ['AV_F', 'V_F', 'V_S']"
    assert problems == [("runs.student.supervisions", unknown)]  # not again for the rows based on it
    assert sources(message, "runs.student") == ["base/parameters_runs.yml", "--params"]


def test_a_teacher_and_a_baseline_must_be_runs_of_the_table(project):
    with pytest.raises(ParameterValidationError) as error:
        parameters(project, "test", "runs.cokd.teacher=student", "baseline=nobody")
    message = str(error.value)
    assert ("- Parameter 'runs.cokd.teacher': 'student' is not a run of group 'teacher' with one "
            "supervision level") in message
    assert "- Parameter 'baseline': 'nobody' is not a run of the run table" in message
    assert sources(message, "baseline") == ["base/parameters_runs.yml", "--params"]


def test_run_table_overrides_reach_the_pipelines_and_the_nodes_alike(project):
    with session(project, "test", ("runs.student.supervisions=[V_S]",
                                   "runs.logitkd.recipe.logit.temperature=2.0")) as kedro_session:
        catalog = kedro_session.load_context().catalog
        training_nodes = {node.name for node in pipelines["training"].nodes}
        student, logitkd = (catalog.load(f"params:runs.{run}") for run in ("student", "logitkd"))
    # every method is based on the student: each inherits the override
    assert {"student.train_V_S", "logitkd.train_V_S"} <= training_nodes
    assert not {"student.train_V_F", "logitkd.train_V_F"} & training_nodes
    assert "vicokd.train_V_S" in training_nodes and "teacher.train_AV_F" in training_nodes
    assert student.supervisions == logitkd.supervisions == ["V_S"]
    assert logitkd.recipe.logit.temperature == 2.0


@pytest.mark.parametrize(("value", "annotation", "expected"), [
    ("3-5", list[int], [3, 4, 5]),
    ("0-2+7", list[int], [0, 1, 2, 7]),
    (4, list[int], [4]),
    (" 11 + 12 ", list[int], [11, 12]),
    ("Home1+Home2", list[str], ["Home1", "Home2"]),
    ("Home1", list[str] | None, ["Home1"]),
    ("f_attn+f_av", list[FeatureName], ["f_attn", "f_av"]),
    ([0, 2], list[int], [0, 2]),  # a list stays itself
    (None, list[str] | None, None),
    ("3-5", str, "3-5"),  # not a list: left to the type
    ("3-5", tuple[int, int], "3-5"),
])
def test_a_list_on_one_line(value, annotation, expected):
    assert one_line_list(value, annotation) == expected


def test_lists_on_one_line_reach_typed_blocks_and_plain_inputs(project):
    loaded = parameters(project, "test", "seeds=1-2", "ingestion.homes=Home2",
                        "runs.no_fd.homes=Home1+Home2")
    assert loaded["seeds"] == [1, 2]  # a plain list[int] input
    assert loaded["ingestion"].homes == ["Home2"]
    assert loaded["runs"]["no_fd"].homes == ["Home1", "Home2"]


def test_a_row_given_on_the_command_line_is_a_run_of_its_own(project):
    with session(project, "test", ("runs.mykd.base=vicokd",)) as kedro_session:
        mykd = kedro_session.load_context().params["runs"]["mykd"]
        assert {node.name for node in pipelines["distill"].filter(node_namespaces=["mykd"]).nodes} == {
            "mykd.train_V_F", "mykd.train_V_S"}
    assert (mykd.name, mykd.base, mykd.label) == ("mykd", "vicokd", "ViCoKD")
