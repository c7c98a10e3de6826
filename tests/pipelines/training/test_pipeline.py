"""The training template on the test environment: every run of the run table, through Kedro sessions
on a project copy holding the synthetic dataset (tests/pipelines/synthetic_project.py)."""
import contextlib
import shutil
from collections.abc import Mapping

import pandas as pd
import pytest
import torch
import yaml
from kedro.framework.project import pipelines
from synthetic_project import HOMES, Project

from vicokd.data.clips import ClipSources, join_splits
from vicokd.metrics import mean_average_precision
from vicokd.training import runs as training_runs
from vicokd.training.checkpoints import model_from_checkpoint
from vicokd.training.runs import TrainingJob, train_model, train_run

TEACHERS = ("teacher", "teacher_vc")
METHODS = ("student", "logitkd", "modalkd", "dualkd", "cokd", "vicokd_paper", "vicokd")
ABLATIONS = ("no_confw", "no_mask", "kl", "no_fd", "no_ld")
KEYS = {f"{home}/seed0" for home in HOMES}


def partitions(project: Project, run: str, kind: str, supervision: str) -> set[str]:
    """The ``<home>/seed<k>`` partitions of one run's outputs (checkpoints' headers beside them
    are not partitions)."""
    folder, suffix = {"model": ("06_models", ".pt"), "history": ("07_model_output/histories", ".csv"),
                      "predictions": ("07_model_output/predictions", ".parquet")}[kind]
    root = project.data / folder / run / supervision
    return {str(path.relative_to(root).with_suffix("")) for path in root.rglob(f"*{suffix}")}


def test_every_run_of_the_table_is_one_namespace_of_the_template(trained_project):
    with trained_project.session() as session:
        session.load_context()  # the pipelines are those of the session's parameters
        registered = dict(pipelines)
    namespaces = {node.namespace for node in registered["training"].nodes}
    assert namespaces == {*TEACHERS, *METHODS, *ABLATIONS}
    assert {node.name for node in registered["training"].only_nodes_with_namespaces(["vicokd"]).nodes} == {
        "vicokd.train_V_F", "vicokd.train_V_S"}
    assert {n.namespace for n in registered["teacher"].nodes} == set(TEACHERS)
    assert {n.namespace for n in registered["distill"].nodes} == {*METHODS, *ABLATIONS}
    # one node function for every run: the template
    assert {node.func.__name__ for node in registered["training"].nodes} == {"train_models"}
    assert "teacher_model_AV_F" in registered["distill"].inputs()  # read from disk, not trained there


def test_teacher_checkpoints_rebuild_the_models(trained_project):
    for name in TEACHERS:
        checkpoints = trained_project.load(f"{name}_model_AV_F")
        assert set(checkpoints) == KEYS
        for key, load in checkpoints.items():
            checkpoint = load()
            assert checkpoint["with_audio"] is True
            metadata = checkpoint["metadata"]
            assert (metadata["run"], metadata["supervision"], f"{metadata['home']}/seed{metadata['seed']}") == (
                name, "AV_F", key)
            # strict: every weight is there; the checkpoint needs no pretrained folder to rebuild it
            model_from_checkpoint(checkpoint)
    vc = trained_project.load("teacher_vc_model_AV_F")["Home1/seed0"]()["metadata"]["recipe"]
    assert vc["view_consistency"]["weight"] == 1.0
    assert "view_consistency" not in trained_project.load("teacher_model_AV_F")["Home1/seed0"]()["metadata"]["recipe"]


def test_students_distil_the_teacher_on_disk_and_carry_their_identity(trained_project):
    with trained_project.catalog() as catalog:
        _check_students_of_every_run(catalog)


def _check_students_of_every_run(catalog) -> None:
    teacher = catalog.load("teacher_model_AV_F")["Home1/seed0"]()
    for run in (*METHODS, *ABLATIONS):
        for supervision in ("V_F", "V_S"):
            student = catalog.load(f"{run}_model_{supervision}")["Home1/seed0"]()
            assert student["with_audio"] is False
            assert (student["metadata"]["run"], student["metadata"]["supervision"]) == (run, supervision)
            assert student["metadata"]["teacher"] == "teacher"
            home = "Home1" if run in ABLATIONS else "Home2"  # the ablations train in Home1 only
            predictions = catalog.load(f"{run}_predictions_{supervision}")
            assert ("Home2/seed0" in predictions) == (run not in ABLATIONS)
            identity = predictions[f"{home}/seed0"]()[
                ["run", "supervision", "home", "seed", "backbone", "group"]].drop_duplicates()
            assert identity.values.tolist() == [
                [run, supervision, home, 0, "multitsf", "ablation" if run in ABLATIONS else "method"]]
            history = catalog.load(f"{run}_history_{supervision}")[f"{home}/seed0"]()
            assert history["run"].unique().tolist() == [run]
            assert ("loss.frame" in history.columns) == (supervision == "V_F")
    assert student["metadata"]["fingerprint"] != teacher["metadata"]["fingerprint"]


def copy_of(project: Project, target) -> Project:
    shutil.copytree(project.path, target, symlinks=True)
    return Project(target)


def test_an_ablation_added_to_the_parameters_becomes_a_trained_namespace(trained_project, tmp_path):
    project = copy_of(trained_project, tmp_path / "project")
    runs_file = project.path / "conf/base/parameters_runs.yml"
    table = yaml.safe_load(runs_file.read_text())
    table["runs"]["no_vc"] = {"base": "vicokd", "group": "ablation", "label": "w/o VC",
                              "recipe": {"view_consistency": None}}
    runs_file.write_text(yaml.safe_dump(table, sort_keys=False))
    with project.session() as session:
        session.load_context()
        assert {n.name for n in pipelines["distill"].only_nodes_with_namespaces(["no_vc"]).nodes} == {
            "no_vc.train_V_F", "no_vc.train_V_S"}
    project.run(["distill"], namespaces=["no_vc"])
    checkpoint = project.load("no_vc_model_V_S")["Home1/seed0"]()
    assert checkpoint["metadata"]["run"] == "no_vc"
    assert "view_consistency" not in checkpoint["metadata"]["recipe"]  # switched off: absent
    assert checkpoint["metadata"]["recipe"]["feature"]["features"] == ["f_attn", "f_av"]  # vicokd's


def test_tags_namespaces_and_homes_narrow_what_trains(trained_project, tmp_path):
    project = copy_of(trained_project, tmp_path / "project")
    shutil.rmtree(project.data / "06_models/vicokd")
    shutil.rmtree(project.data / "06_models/logitkd")
    project.run(["distill"], runtime_params={"ingestion": {"homes": ["Home1"]}}, tags=["V_S"],
                namespaces=["vicokd"])
    assert partitions(project, "vicokd", "model", "V_S") == {"Home1/seed0"}
    assert not (project.data / "06_models/vicokd/V_F").exists()
    assert not (project.data / "06_models/logitkd").exists()


def test_teacher_of_another_configuration_is_refused(trained_project, tmp_path):
    project = copy_of(trained_project, tmp_path / "project")
    with pytest.raises(ValueError, match=r"another model configuration.*model\.dim"):
        project.run(["distill"], runtime_params={"model": {"dim": 64}}, namespaces=["cokd"], tags=["V_F"])


def test_resume_continues_from_the_saved_epoch(trained_project, tmp_path, monkeypatch):
    project = copy_of(trained_project, tmp_path / "project")
    fit, epochs_run = training_runs.fit, []

    def interrupted_fit(*args, **kwargs):
        def stop(epoch):
            epochs_run.append(epoch)
            raise KeyboardInterrupt

        return fit(*args, on_epoch_end=stop, **kwargs)

    def recorded_fit(*args, **kwargs):
        return fit(*args, on_epoch_end=epochs_run.append, **kwargs)

    options = {"runtime_params": {"training": {"epochs": 2, "checkpoint_every_s": 0},  # every epoch
                                  "ingestion": {"homes": ["Home1"]}},
               "namespaces": ["student"], "tags": ["V_S"]}
    monkeypatch.setattr(training_runs, "fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt):
        project.run(["distill"], **options)
    monkeypatch.setattr(training_runs, "fit", recorded_fit)
    project.run(["distill"], **options)
    assert epochs_run == [1, 2]
    history = project.load("student_history_V_S")["Home1/seed0"]()
    assert list(history["epoch"]) == [1, 2]


class RecordingStore(Mapping):
    """A frame-label store that records every sequence read."""

    def __init__(self, arrays):
        self.arrays, self.read = arrays, set()

    def __getitem__(self, key):
        self.read.add(key)
        return self.arrays[key]

    def __iter__(self):
        return iter(self.arrays)

    def __len__(self):
        return len(self.arrays)


def test_sequence_supervision_reads_no_training_frame_labels(trained_project, inputs, tmp_path):
    with trained_project.catalog() as catalog:
        parameters, visual, audio, encoders, teacher = (catalog.load(name) for name in (
            "parameters", "visual_features", "audio_features", "encoders", "teacher_model_AV_F"))
    store = RecordingStore(inputs["frame_labels"])
    sources = ClipSources(join_splits(inputs["sequences"], inputs["splits"]), visual, audio,
                          inputs["visibility_masks"], inputs["person_confidence"], store,
                          tuple(parameters["dataset"].classes))
    settings = parameters["training"].with_overrides({"checkpoint_dir": str(tmp_path)})
    job = TrainingJob(parameters["runs"]["vicokd"], parameters["supervision_levels"]["V_S"], settings,
                      parameters["model"], "Home1", 0, encoders, teacher["Home1/seed0"]())
    with contextlib.chdir(trained_project.path):  # the model's encoder folders are project-relative
        trained = train_model(sources, job)
    splits = inputs["splits"].set_index("sequence_id")["split"]
    assert store.read  # validation and test frames are still scored frame by frame
    assert {splits[key] for key in store.read} == {"val", "test"}
    assert "loss.frame" not in trained.history.columns
    withheld = sources.withhold_frame_labels().frame_labels
    train_sequence = splits.index[splits == "train"][0]
    with pytest.raises(KeyError, match="withheld"):
        withheld[train_sequence]


def test_the_test_split_is_scored_once_at_the_selected_epoch_unless_asked_every_epoch(
        trained_project, inputs, tmp_path):
    with trained_project.catalog() as catalog:
        parameters, visual, audio, encoders = (catalog.load(name) for name in (
            "parameters", "visual_features", "audio_features", "encoders"))
    sources = ClipSources(join_splits(inputs["sequences"], inputs["splits"]), visual, audio,
                          inputs["visibility_masks"], inputs["person_confidence"],
                          inputs["frame_labels"], tuple(parameters["dataset"].classes))
    trained = {}
    for every_epoch in (False, True):
        settings = parameters["training"].with_overrides(
            {"checkpoint_dir": str(tmp_path / str(every_epoch)), "epochs": 3,
             "test_every_epoch": every_epoch})
        job = TrainingJob(parameters["runs"]["student"], parameters["supervision_levels"]["V_F"],
                          settings, parameters["model"], "Home1", 0, encoders, None)
        with contextlib.chdir(trained_project.path):
            trained[every_epoch] = train_model(sources, job)
    once, every = trained[False], trained[True]
    for name, tensor in every.checkpoint["state_dict"].items():  # scoring the test split trains nothing
        assert torch.equal(once.checkpoint["state_dict"][name], tensor), name
    best = once.checkpoint["metadata"]["best_epoch"]
    assert best == every.checkpoint["metadata"]["best_epoch"]
    at_best = every.history["epoch"] == best
    for key in ("test_seq_map", "test_map"):
        assert every.history[key].notna().all(), key
        assert once.history.loc[~at_best, key].isna().all(), key  # scored at the selected epoch only
        assert once.history.loc[at_best, key].item() == every.history.loc[at_best, key].item()
        assert once.checkpoint["metadata"][key] == every.checkpoint["metadata"][key]
    test = once.predictions[(once.predictions["split"] == "test") & (once.predictions["level"] == "sequence")]
    assert once.checkpoint["metadata"]["test_seq_map"] == pytest.approx(mean_average_precision(
        test[[f"score.{c}" for c in sources.classes]].to_numpy(),
        test[[f"target.{c}" for c in sources.classes]].to_numpy()))
    pd.testing.assert_frame_equal(once.predictions.drop(columns="model_version"),
                                  every.predictions.drop(columns="model_version"))


def test_models_trained_in_worker_processes_equal_those_trained_in_process(trained_project, inputs, tmp_path,
                                                                          monkeypatch, two_cores):
    pools = []
    start_pool = training_runs.worker_pool
    monkeypatch.setattr(training_runs, "worker_pool", lambda *size: pools.append(size) or start_pool(*size))
    with trained_project.catalog() as catalog:
        parameters, visual, audio, encoders = (catalog.load(name) for name in (
            "parameters", "visual_features", "audio_features", "encoders"))
    sources = ClipSources(join_splits(inputs["sequences"], inputs["splits"]), visual, audio,
                          inputs["visibility_masks"], inputs["person_confidence"],
                          inputs["frame_labels"], tuple(parameters["dataset"].classes))
    trained = {}
    for jobs in (1, 2):
        settings = parameters["training"].with_overrides(
            {"checkpoint_dir": str(tmp_path / f"jobs{jobs}"), "parallel_jobs": jobs})
        with contextlib.chdir(trained_project.path):
            trained[jobs] = train_run(sources, parameters["runs"]["student"],
                                      parameters["supervision_levels"]["V_S"], settings,
                                      parameters["model"], HOMES, [0], encoders)
    assert [workers for workers, _ in pools] == [2]  # the second run's jobs, in two processes
    checkpoints = {jobs: checkpoints for jobs, (checkpoints, _, _) in trained.items()}
    assert set(checkpoints[2]) == {f"{home}/seed0" for home in HOMES}
    for key, checkpoint in checkpoints[1].items():
        for name, tensor in checkpoint["state_dict"].items():
            assert torch.equal(checkpoints[2][key]["state_dict"][name], tensor), (key, name)
