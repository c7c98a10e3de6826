"""The same seeds give the same figures anywhere: `kedro run --env test` from empty data folders in
two project folders, as two separate processes, reports identical tables (simulation, detector,
masks, encoders, every model and every report on the way)."""
import json
import os
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
#: Columns that name one particular run of a model (a fresh id per run), not what it measured.
RUN_IDS = ("model_version",)


def _table(project: Project, name: str) -> pd.DataFrame:
    table = pd.read_csv(project.data / "08_reporting" / name)
    return table.drop(columns=[c for c in RUN_IDS if c in table.columns])


def test_two_folders_from_empty_data_report_identical_tables(tmp_path):
    projects = [Project.copy_of_repository(tmp_path / name) for name in ("here", "elsewhere")]
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "HF_HUB_OFFLINE": "1", "YOLO_OFFLINE": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)  # each folder tracks to its own data/test/mlflow.db
    runs = [subprocess.Popen([str(KEDRO), "run", "--env", "test"], cwd=project.path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for project in projects]  # side by side: two processes, two cores
    for run in runs:
        output, _ = run.communicate(timeout=900)
        assert run.returncode == 0, output[-3000:]
    first, second = projects
    for name in TABLES:
        expected = _table(first, name)
        assert not expected.empty, name
        pd.testing.assert_frame_equal(_table(second, name), expected, check_exact=True, obj=name)
    for name in RECORDS:
        records = [json.loads((project.data / "08_reporting" / name).read_text()) for project in projects]
        if name == "mask_quality.json":  # the detector's training time is the one thing that may differ
            for record in records:
                record["detector"].pop("seconds")
        assert records[0] == records[1], name
