"""The same seeds give the same figures anywhere, and nothing is done twice: `kedro run --env test`
from empty data folders in two project folders, as two separate processes, reports identical tables
(simulation, detector, masks, encoders, every model and every report on the way). Then, side by
side again, one folder runs again unchanged and retrains nothing, and the other relabels one Home1
training trick and retrains exactly the models that learn from it."""
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
from synthetic_project import Project

KEDRO = Path(sys.executable).with_name("kedro")
TABLES = ("model_metrics.csv", "table1_methods.csv", "table2_seeds.csv", "table3_teacher.csv",
          "table4_ablations.csv", "per_class_ap.csv", "dataset_statistics.csv", "split_class_counts.csv",
          "human_centric_share.csv")
RECORDS = ("mask_quality.json", "simulation_overlap.json")
#: The tables of the reporting stage (split_class_counts.csv is stratification's, written every run).
REPORTS = tuple(name for name in TABLES if name != "split_class_counts.csv")
#: Columns that name one particular run of a model (minted when it finished training), not what it
#: measured.
RUN_IDS = ("model_version",)
#: The relabelled trick: the only CloseCurtain of a Home1 training sequence (the splits stay).
RELABELLED = ("Home1", "02/00-View1-Part1.mp4", "CloseCurtain", "Eat")
#: What the change run runs: everything up to the models, not the reports.
UP_TO_THE_MODELS = "ingestion,stratification,masking,pretraining,features,teacher,distill"


def _table(project: Project, name: str, keep_run_ids: bool = False) -> pd.DataFrame:
    table = pd.read_csv(project.data / "08_reporting" / name)
    return table if keep_run_ids else table.drop(columns=[c for c in RUN_IDS if c in table.columns])


def _record(project: Project, name: str) -> dict:
    return json.loads((project.data / name).read_text())


def _kedro_runs(*commands: tuple[Project, list[str]]) -> list[str]:
    """``kedro run --env test <args>`` in each project, side by side (two processes, sharing the
    cores this test process may use: one under ``pytest -n``); returns their output."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "HF_HUB_OFFLINE": "1", "YOLO_OFFLINE": "1",
           "COLUMNS": "250"}  # one log line per message
    env.pop("MLFLOW_TRACKING_URI", None)  # each folder tracks to its own data/test/mlflow.db
    runs = [subprocess.Popen([str(KEDRO), "run", "--env", "test", *args], cwd=project.path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for project, args in commands]
    outputs = []
    for run in runs:
        output, _ = run.communicate(timeout=900)
        assert run.returncode == 0, output[-3000:]
        outputs.append(output)
    return outputs


def _tracked_runs(project: Project) -> int:
    """How many MLflow runs the project's tracking database holds (the Kedro runs' own and one per
    model trained)."""
    with sqlite3.connect(project.data / "mlflow.db") as database:
        return database.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


def _model_versions(project: Project) -> dict[str, str]:
    """``<run>/<supervision>/<home>/seed<k> -> model_version`` of every trained model's history."""
    root = project.data / "07_model_output" / "histories"
    return {str(path.relative_to(root).with_suffix("")): pd.read_csv(path)["model_version"].iloc[0]
            for path in sorted(root.rglob("*.csv"))}


def _features_stamp(project: Project) -> tuple[str, str]:
    """The fingerprint and the ingestion id of the live visual feature cache."""
    store = project.data / "04_feature" / "visual_features"
    index = json.loads((store / (store / "CURRENT").read_text() / "index.json").read_text())
    return index["fingerprint"], index["ingestion_id"]


def _relabel(project: Project) -> None:
    home, url, old, new = RELABELLED
    path = project.data / "01_raw" / "simulated" / home / "all_labels.json"
    records = json.loads(path.read_text())
    (record,) = [r for r in records if r["video_url_1"] == url]
    (trick,) = [t for t in record["tricks"] if t["labels"] == [old]]
    trick["labels"] = [new]
    path.write_text(json.dumps(records))


def test_identical_reports_anywhere_and_reruns_that_redo_only_what_changed(tmp_path):
    projects = [Project.copy_of_repository(tmp_path / name) for name in ("here", "elsewhere")]
    outputs = _kedro_runs(*((project, []) for project in projects))
    assert all("Reporting: writing the reports (no record" in output for output in outputs)
    first, second = projects
    for name in TABLES:
        expected = _table(first, name)
        assert not expected.empty, name
        pd.testing.assert_frame_equal(_table(second, name), expected, check_exact=True, obj=name)
    for name in RECORDS:
        records = [_record(project, f"08_reporting/{name}") for project in projects]
        if name == "mask_quality.json":  # the detector's training time is the one thing that may differ
            for record in records:
                record["detector"].pop("seconds")
        assert records[0] == records[1], name

    # side by side: `here` runs again unchanged, `elsewhere` after one relabelled training trick
    versions = {project.path.name: _model_versions(project) for project in projects}
    tables = {name: _table(first, name, keep_run_ids=True) for name in TABLES}
    splits = pd.read_parquet(second.data / "03_primary" / "splits.parquet")
    features = _features_stamp(second)
    saliency = _current(first, "07_model_output/figure4_saliency")
    tracked = _tracked_runs(first)
    written = {name: (first.data / "08_reporting" / name).stat().st_mtime_ns for name in REPORTS}
    _relabel(second)
    again, changed = _kedro_runs((first, []), (second, ["--pipelines", UP_TO_THE_MODELS]))

    # nothing changed: nothing decoded, trained or computed again, the same reports
    assert _record(first, "08_reporting/ingestion_report.json")["reused"] is True
    assert _record(first, "06_models/person_detector.json")["reused"] is True
    assert all(encoder["reused"] for encoder in _record(first, "06_models/encoders.json").values())
    assert "afresh" not in again and "Resuming" not in again
    # every model handed back from disk: no training job, no prediction, no MLflow run of a model
    reused = re.findall(r"(\d+) of (\d+) models reused \(.*\), (\d+) to train", again)
    assert reused and all(int(n) == int(of) and int(left) == 0 for n, of, left in reused)
    assert sum(int(n) for n, _, _ in reused) == len(versions["here"])
    assert not re.search(r"Training \S+ \S+: |MLflow run '", again)
    assert _tracked_runs(first) == tracked + 1  # the Kedro run's own
    assert _model_versions(first) == versions["here"]
    assert _current(first, "07_model_output/figure4_saliency") == saliency  # no Grad-CAM again
    said = [line for line in again.splitlines() if "Reporting: " in line]
    assert len(said) == 1 and "nothing it reads has changed" in said[0], said  # the reports kept
    assert {name: (first.data / "08_reporting" / name).stat().st_mtime_ns for name in REPORTS} == written
    for name in TABLES:  # model versions included: the same models, republished as they were
        pd.testing.assert_frame_equal(_table(first, name, keep_run_ids=True), tables[name], obj=name)

    # one relabelled trick: ingestion names the file; the splits, detector, encoders and features
    # stay; the Home1 models learn from the labels (or from a teacher that does) and retrain
    report = _record(second, "08_reporting/ingestion_report.json")
    assert report["reused"] is False
    assert report["changed_inputs"] == ["annotation files: 1 changed (Home1/all_labels.json)"]
    pd.testing.assert_frame_equal(pd.read_parquet(second.data / "03_primary" / "splits.parquet"),
                                  splits)
    assert _record(second, "06_models/person_detector.json")["reused"] is True
    assert all(encoder["reused"] for encoder in _record(second, "06_models/encoders.json").values())
    assert _features_stamp(second) == (features[0], report["ingestion_id"])  # relinked, not recomputed
    after = _model_versions(second)
    assert after.keys() == versions["elsewhere"].keys()
    retrained = {model for model, version in after.items() if version != versions["elsewhere"][model]}
    assert retrained == {model for model in after if "/Home1/" in model}
    assert any(model.startswith("teacher/AV_F/Home1") for model in retrained)
    assert {model.split("/")[1] for model in retrained} == {"AV_F", "V_F", "V_S"}
    # each retrained model says what changed: the labels it learns from, or its teacher
    changes = dict(re.findall(r"Training \S+/runs/(\S+) afresh: .*\(changed: ([^)]*)\)", changed))
    assert changes.keys() == retrained
    assert "data.labels" in changes["student/V_S/Home1/seed0"]
    assert "teacher" in changes["vicokd/V_S/Home1/seed0"]


def _current(project: Project, store: str) -> str:
    """The live generation of an array store without a table."""
    return (project.data / store / "CURRENT").read_text()
