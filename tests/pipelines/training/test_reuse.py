"""Nothing stale, nothing lost: a run is reused only while its inputs are unchanged, and a partial
run adds to or replaces only its own slice (on copies of the trained project)."""
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic_project import HOMES, Project, as_ingested

from vicokd.training import runs as training_runs


def copy_of(project: Project, target) -> Project:
    shutil.copytree(project.path, target, symlinks=True)
    return Project(target)


def not_called(*args, **kwargs):
    raise AssertionError(f"a training job started: {args[1:]}")


def checkpoint(project: Project, name: str, key: str = "Home1/seed0") -> dict:
    return project.load(name)[key]()


def published_files(project: Project, run: str, supervision: str) -> dict[Path, bytes]:
    """The bytes of every checkpoint, history and prediction file ``run`` published at
    ``supervision``."""
    folders = (f"06_models/{run}/{supervision}", f"07_model_output/histories/{run}/{supervision}",
               f"07_model_output/predictions/{run}/{supervision}")
    return {path: path.read_bytes() for folder in folders
            for path in sorted((project.data / folder).rglob("*.*"))}


def test_a_finished_run_is_reused_and_changed_labels_retrain_it(trained_project, inputs, tmp_path,
                                                                caplog, monkeypatch):
    project = copy_of(trained_project, tmp_path / "project")
    before = checkpoint(project, "teacher_model_AV_F")["metadata"]
    files = published_files(project, "teacher", "AV_F")
    with monkeypatch.context() as patched, caplog.at_level(logging.INFO, logger="vicokd.training"):
        patched.setattr(training_runs, "train_model", not_called)  # no job starts
        project.run(["teacher"], namespaces=["teacher"])
    assert "teacher AV_F: 2 of 2 models reused (finished and published with the same inputs), " \
           "0 to train" in caplog.messages
    assert published_files(project, "teacher", "AV_F") == files  # left as they were

    # one published file of another training (a restored history): that model alone runs its job,
    # which finds its run folder finished and publishes all three files again, in its version
    history = project.load("teacher_history_AV_F")["Home1/seed0"]()
    project.save({"teacher_history_AV_F": {"Home1/seed0": history.assign(model_version="older")}})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vicokd.training"):
        project.run(["teacher"], namespaces=["teacher"])
    assert "teacher AV_F: 1 of 2 models reused (finished and published with the same inputs), " \
           "1 to train" in caplog.messages
    assert any("Home1/seed0 is complete (1 epochs): reused" in m for m in caplog.messages)
    republished = project.load("teacher_history_AV_F")["Home1/seed0"]()
    assert set(republished["model_version"]) == {before["model_version"]}
    reused = checkpoint(project, "teacher_model_AV_F")["metadata"]
    assert reused["model_version"] == before["model_version"]

    # corrected annotations: one training sequence gets another frame label, re-ingested
    splits = inputs["splits"].set_index("sequence_id")["split"]
    changed = next(sid for sid in splits.index if sid.startswith("Home1") and splits[sid] == "train")
    labels = {**inputs["frame_labels"], changed: np.roll(inputs["frame_labels"][changed], 1, axis=1)}
    project.save(as_ingested({**inputs, "frame_labels": labels}))
    project.run(["features"])  # the cache follows the new ingestion
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vicokd.training.loop"):
        project.run(["teacher"], namespaces=["teacher"])
    afresh = [m for m in caplog.messages if "afresh" in m and "Home1" in m]
    assert afresh and "data.frame_labels" in afresh[0]
    retrained = checkpoint(project, "teacher_model_AV_F")["metadata"]
    assert retrained["fingerprint"] != before["fingerprint"]
    assert retrained["model_version"] != before["model_version"]


def test_a_one_home_one_method_run_keeps_every_other_result(trained_project, tmp_path):
    project = copy_of(trained_project, tmp_path / "project")
    other = {name: checkpoint(project, name, "Home2/seed0")["metadata"]["model_version"]
             for name in ("vicokd_model_V_S", "vicokd_model_V_F", "cokd_model_V_S")}
    before_home1 = checkpoint(project, "vicokd_model_V_S")["metadata"]["model_version"]
    project.run(["distill"], runtime_params={"ingestion": {"homes": ["Home1"]},
                                             "training": {"epochs": 2}},
                namespaces=["vicokd"], tags=["V_S"])
    after = checkpoint(project, "vicokd_model_V_S")["metadata"]
    assert after["model_version"] != before_home1 and after["home"] == "Home1"
    for name, version in other.items():  # other home, supervision and method untouched
        assert checkpoint(project, name, "Home2/seed0")["metadata"]["model_version"] == version
    project.run(["reporting"])
    metrics = pd.read_csv(project.data / "08_reporting/model_metrics.csv")
    assert set(metrics["home"]) == set(HOMES)
    vicokd = metrics[(metrics["run"] == "vicokd") & (metrics["supervision"] == "V_S")]
    assert vicokd.set_index("home")["model_version"].to_dict()["Home1"] == after["model_version"]
    summary = (project.data / "08_reporting/summary.md").read_text()
    assert "Every run of the run table has predictions for every home and seed." in summary


def test_figure4_refuses_a_checkpoint_of_another_version_than_its_predictions(trained_project,
                                                                             tmp_path):
    project = copy_of(trained_project, tmp_path / "project")
    restored = checkpoint(project, "teacher_model_AV_F")  # e.g. an older seed0.pt put back
    published = restored["metadata"]["model_version"]
    restored["metadata"]["model_version"] = "0123456789abcdef-20260101T000000000000Z-00000000"
    project.save({"teacher_model_AV_F": {"Home1/seed0": restored}})
    with pytest.raises(Exception, match="ModelVersionError|model version") as error:
        project.run(["reporting"])
    message = str(error.value)
    assert str(Path("06_models") / "teacher" / "AV_F" / "Home1" / "seed0.pt") in message
    assert published in message and restored["metadata"]["model_version"] in message
