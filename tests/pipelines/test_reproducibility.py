"""The same inputs and seeds give the same figures in another project folder and another process:
`kedro run --env test` of pretraining, features, teachers, students and reporting in a second folder
(a `kedro` subprocess) reports exactly the tables of the session's trained project."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
from synthetic_project import Project, as_ingested

KEDRO = Path(sys.executable).with_name("kedro")
TABLES = ("model_metrics", "table1_methods_csv", "table2_seeds_csv", "table3_teacher_csv",
          "table4_ablations_csv", "per_class_ap_csv")
#: Columns that name a particular run of a model (a fresh id per run), not what it measured.
RUN_IDS = ("model_version",)


def _report(project: Project, name: str) -> pd.DataFrame:
    table = project.load(name)
    return table.drop(columns=[c for c in RUN_IDS if c in table.columns])


def test_a_second_folder_in_another_process_reports_identical_tables(trained_project, inputs, tmp_path):
    first = Project(tmp_path / "first")  # the session's trained project, trained in this process
    shutil.copytree(trained_project.path, first.path, symlinks=True)
    first.run(["reporting"])
    second = Project.copy_of_repository(tmp_path / "elsewhere")
    second.save({**as_ingested(inputs), **{name: first.load(name) for name in
                                           ("mask_quality_table", "simulation_overlap")}})
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "HF_HUB_OFFLINE": "1", "YOLO_OFFLINE": "1"}
    result = subprocess.run(
        [str(KEDRO), "run", "--env", "test", "--pipelines", "pretraining,features,teacher,distill,reporting"],
        cwd=second.path, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name in TABLES:
        expected, again = _report(first, name), _report(second, name)
        assert not expected.empty, name
        pd.testing.assert_frame_equal(again, expected, check_exact=True, obj=name)
