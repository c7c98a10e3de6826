"""Nothing stale, nothing lost: a run is reused only while its inputs are unchanged, and a partial
run adds to or replaces only its own slice (on copies of the trained project)."""
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic_project import HOMES, Project, as_ingested


def copy_of(project: Project, target) -> Project:
    shutil.copytree(project.path, target, symlinks=True)
    return Project(target)


def checkpoint(project: Project, name: str, key: str = "Home1/seed0") -> dict:
    return project.load(name)[key]()


def test_a_finished_run_is_reused_and_changed_labels_retrain_it(trained_project, inputs, tmp_path, caplog):
    project = copy_of(trained_project, tmp_path / "project")
    before = checkpoint(project, "teacher_model_AV_F")["metadata"]
    with caplog.at_level(logging.INFO, logger="vicokd.training.loop"):
        project.run(["teacher"], namespaces=["teacher"])
    assert any("is complete (1 epochs): reused" in message for message in caplog.messages)
    assert not any("Resuming" in message for message in caplog.messages)
    reused = checkpoint(project, "teacher_model_AV_F")["metadata"]
    assert reused["fingerprint"] == before["fingerprint"]

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
    project.run(["reporting"])
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
