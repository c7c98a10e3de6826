"""Every trained model of a `kedro run` is one MLflow run, nested under the Kedro run's (read back
with MLflow's client from the trained project's store)."""
import math

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from synthetic_project import HOMES

TEACHERS = ("teacher", "teacher_vc")
METHODS = ("student", "logitkd", "modalkd", "dualkd", "cokd", "vicokd_paper", "vicokd")
ABLATIONS = ("no_confw", "no_mask", "kl", "no_fd", "no_ld")  # trained in Home1 only


def test_one_mlflow_run_per_trained_model_with_metrics_per_epoch(trained_project):
    client = MlflowClient(f"sqlite:///{trained_project.data / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("vicokd")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    children = [run for run in runs if "mlflow.parentRunId" in run.data.tags]
    parents = {run.info.run_id for run in runs} - {run.info.run_id for run in children}
    assert {run.data.tags["mlflow.parentRunId"] for run in children} <= parents
    expected = {f"{run}/AV_F/{home}/seed0" for run in TEACHERS for home in HOMES}
    expected |= {f"{run}/{s}/{home}/seed0" for run in METHODS for s in ("V_F", "V_S") for home in HOMES}
    expected |= {f"{run}/{s}/Home1/seed0" for run in ABLATIONS for s in ("V_F", "V_S")}
    names = [run.info.run_name for run in children]
    assert sorted(names) == sorted(expected)  # one run per trained model, no duplicate
    vicokd = next(run for run in children if run.info.run_name == "vicokd/V_S/Home2/seed0")
    assert vicokd.data.params["run"] == "vicokd" and vicokd.data.params["supervision"] == "V_S"
    assert vicokd.data.params["recipe.view_consistency.divergence"] == "js"
    for metric in ("val_seq_map", "loss.sequence", "loss.view_consistency",
                   "vc.confidence_weight", "vc.active_pair_share", "grad.view_consistency.share",
                   "grad.supervision.head"):
        history = client.get_metric_history(vicokd.info.run_id, metric)
        assert [point.step for point in history] == [1], metric  # one epoch in the test settings
    assert vicokd.data.tags["checkpoint"] == "vicokd_model_V_S/Home2/seed0"
    # the run list's best_* columns are the checkpoint's epoch and scores
    selected = trained_project.load("vicokd_model_V_S")["Home2/seed0"]()["metadata"]
    assert vicokd.data.metrics["best_epoch"] == selected["best_epoch"]
    for key in ("val_seq_map", "test_seq_map", "val_map", "test_map"):
        if math.isfinite(selected[key]):  # MLflow keeps no NaN
            assert vicokd.data.metrics[f"best_{key}"] == pytest.approx(selected[key]), key
    assert all("best_epoch" in run.data.metrics for run in children)
    assert mlflow.active_run() is None
