"""vicokd.tracking against a temporary MLflow store; the project's kedro-mlflow configuration."""
import math
import os
from pathlib import Path

import mlflow
import pytest
from kedro_mlflow.config.kedro_mlflow_config import KedroMlflowConfig
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

from vicokd import settings
from vicokd.hooks import ReportArtifactHooks, report_paths
from vicokd.tracking import (
    MlflowModelTracker,
    ModelTracker,
    disable_mlflow_telemetry,
    flatten_params,
    log_report,
    track_model,
)

PROJECT = Path(__file__).resolve().parents[1]

PARAMS = {
    "home": "Home1",
    "seed": 3,
    "recipe": {"supervision": {"frame": 1.0, "sequence": 0.5}, "logit": {}},
    "model": {"backbone": "multitsf", "visual_encoder": {"image_mean": [0.5, 0.5, 0.5]}},
}
FLAT_PARAMS = {
    "home": "Home1",
    "seed": "3",
    "recipe.supervision.frame": "1.0",
    "recipe.supervision.sequence": "0.5",
    "recipe.logit": "{}",
    "model.backbone": "multitsf",
    "model.visual_encoder.image_mean": "[0.5, 0.5, 0.5]",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A SQLite store in a temporary folder: the tracking URI while this module's tests run."""
    root = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        yield root


@pytest.fixture
def experiment(store, request):
    """A fresh experiment per test, its artefacts under the store's folder."""
    client = MlflowClient()
    artifacts = (store / request.node.name).as_uri()
    return client.create_experiment(request.node.name, artifact_location=artifacts)


def fake_training(name, epochs, tracker_params, curve: Path):
    """Stands in for the training loop: the tracker around one model, NaN in epoch 2's test mAP."""
    with track_model(name, tracker_params, tags={"home": "Home1"}) as tracker:
        for epoch in range(1, epochs + 1):
            tracker.log_epoch(epoch, {
                "loss": 1.0 / epoch,
                "loss.two_way": 0.5 / epoch,
                "val_map": 10.0 * epoch,
                "test_seq_map": math.nan if epoch == 2 else 20.0 * epoch,
            })
        tracker.log_artifact(curve)
        tracker.set_tags({"checkpoint": f"data/06_models/runs/{name}/best.pt"})
        return tracker.run_id


def test_each_trained_model_is_a_child_run_with_its_params_and_epoch_history(experiment, tmp_path):
    curve = tmp_path / "curves.png"
    curve.write_bytes(b"\x89PNG fake")
    client = MlflowClient()
    with mlflow.start_run(experiment_id=experiment) as parent:
        run_ids = [
            fake_training(name, 3, {**PARAMS, "name": name}, curve)
            for name in ("teacher/Home1", "vicokd_vf/Home1")
        ]
        assert mlflow.active_run().info.run_id == parent.info.run_id

    children = client.search_runs(
        [experiment], filter_string=f"tags.{MLFLOW_PARENT_RUN_ID} = '{parent.info.run_id}'"
    )
    assert sorted(run.info.run_id for run in children) == sorted(run_ids)
    assert len(client.search_runs([experiment])) == 3  # the parent and its two children
    parent_run = client.get_run(parent.info.run_id)
    assert parent_run.data.metrics == {}  # nothing leaked into the Kedro run's own run
    for run in children:
        name = run.info.run_name
        assert name in ("teacher/Home1", "vicokd_vf/Home1")
        assert run.info.status == "FINISHED"
        assert run.data.params == {**FLAT_PARAMS, "name": name}
        assert run.data.tags["home"] == "Home1"
        assert run.data.tags["checkpoint"] == f"data/06_models/runs/{name}/best.pt"
        history = {
            key: [(m.step, m.value) for m in sorted(client.get_metric_history(run.info.run_id, key),
                                                    key=lambda m: m.step)]
            for key in ("loss", "loss.two_way", "val_map", "test_seq_map")
        }
        assert history["loss"] == [(1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3))]
        assert history["loss.two_way"] == [(1, 0.5), (2, 0.25), (3, pytest.approx(1 / 6))]
        assert history["val_map"] == [(1, 10.0), (2, 20.0), (3, 30.0)]
        assert history["test_seq_map"] == [(1, 20.0), (3, 60.0)]  # the NaN of epoch 2 left out
        assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["curves.png"]
        assert run.data.tags["mlflow.user"] == parent_run.data.tags["mlflow.user"]


def test_the_selected_epoch_is_logged_as_best_metrics_beside_the_last_epoch(experiment):
    """The run list shows a metric's last value: best_* carry the epoch the checkpoint holds."""
    client = MlflowClient()
    history = [{"epoch": 1, "val_seq_map": 60.0, "test_seq_map": 50.0},
               {"epoch": 2, "val_seq_map": 78.0, "test_seq_map": 55.0},
               {"epoch": 3, "val_seq_map": 68.1, "test_seq_map": 57.0}]
    with (mlflow.start_run(experiment_id=experiment),
          track_model("vicokd/V_S/Home1/seed0") as tracker):
        for row in history:
            tracker.log_epoch(row["epoch"], row)
        selected = max(history, key=lambda row: row["val_seq_map"])
        tracker.log_selected(selected["epoch"], {k: v for k, v in selected.items() if k != "epoch"})
    metrics = client.get_run(tracker.run_id).data.metrics  # what the run list shows
    assert metrics["val_seq_map"] == 68.1 and metrics["test_seq_map"] == 57.0  # the last epoch
    assert metrics["best_epoch"] == 2
    assert metrics["best_val_seq_map"] == 78.0 and metrics["best_test_seq_map"] == 55.0
    assert [(m.step, m.value) for m in client.get_metric_history(tracker.run_id,
                                                                 "best_val_seq_map")] == [(2, 78.0)]
    ModelTracker().log_selected(2, {"val_seq_map": 78.0})  # the no-op tracker takes it too


def _reports(folder: Path) -> dict[str, Path]:
    """A summary, a table and a folder of figures, as the reporting pipeline writes them."""
    (folder / "saliency_maps").mkdir(parents=True)
    (folder / "summary.md").write_text("# Summary\n")
    (folder / "table1_methods.md").write_text("| method |\n")
    for home in ("Home1", "Home2"):
        (folder / "saliency_maps" / f"{home}.png").write_bytes(b"\x89PNG fake")
    return {"run_summary": folder / "summary.md", "table1_methods": folder / "table1_methods.md",
            "saliency_maps": folder / "saliency_maps"}


def _artefacts(client: MlflowClient, run_id: str, path: str | None = None) -> list[str]:
    """Every artefact file of a run, with its path."""
    files = []
    for item in client.list_artifacts(run_id, path):
        files += _artefacts(client, run_id, item.path) if item.is_dir else [item.path]
    return sorted(files)


def test_report_files_are_attached_to_the_active_run_as_they_are_saved(experiment, tmp_path):
    reports = _reports(tmp_path / "08_reporting")
    catalog = {
        "_markdown": {"type": "text.TextDataset"},  # a YAML anchor, not a dataset
        **{name: {"type": "text.TextDataset", "filepath": str(path),
                  "metadata": {"kedro-viz": {"layer": "reporting"}}}
           for name, path in reports.items()},
        "model_metrics_elsewhere": {"type": "pandas.CSVDataset",
                                    "filepath": str(tmp_path / "m.csv"),
                                    "metadata": {"kedro-viz": {"layer": "model_output"}}},
    }
    assert report_paths(catalog) == reports
    hooks = ReportArtifactHooks()
    hooks.after_context_created(type("Context", (), {"config_loader": {"catalog": catalog}}))
    client = MlflowClient()
    with mlflow.start_run(experiment_id=experiment) as parent:
        for name in (*reports, "model_metrics_elsewhere", "frames"):
            hooks.after_dataset_saved(name)
    assert _artefacts(client, parent.info.run_id) == [
        "reports/saliency_maps/Home1.png", "reports/saliency_maps/Home2.png",
        "reports/summary.md", "reports/table1_methods.md"]


def test_without_an_active_run_no_report_is_logged_and_no_run_started(experiment, tmp_path):
    reports = _reports(tmp_path)
    assert mlflow.active_run() is None
    assert log_report(reports["run_summary"]) is False
    assert MlflowClient().search_runs([experiment]) == []
    with pytest.raises(FileNotFoundError, match="absent.md"):
        log_report(tmp_path / "absent.md")


def test_the_project_catalog_reports_summary_tables_and_figures():
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(PROJECT / "conf"), env="test",
                                          **settings.CONFIG_LOADER_ARGS)
    paths = report_paths(loader["catalog"])
    expected = {"run_summary": "summary.md", "table1_methods": "table1_methods.md",
                "table1_methods_csv": "table1_methods.csv", "map_curves": "map_curves.png",
                "saliency_maps": "saliency_maps", "attention_maps": "attention_maps"}
    for name, path in expected.items():
        assert paths[name] == Path("data/test/08_reporting") / path
    assert "frames" not in paths and "person_detector" not in paths


def test_training_that_raises_marks_its_run_failed_and_leaves_the_parent_active(experiment):
    client = MlflowClient()
    with mlflow.start_run(experiment_id=experiment) as parent:
        with (
            pytest.raises(RuntimeError, match="diverged"),
            track_model("teacher/Home2", {"seed": 0}) as tracker,
        ):
            tracker.log_epoch(1, {"loss": 2.0})
            raise RuntimeError("diverged")
        assert mlflow.active_run().info.run_id == parent.info.run_id
    assert client.get_run(tracker.run_id).info.status == "FAILED"
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"


def test_without_an_active_run_or_when_disabled_nothing_is_recorded(
    experiment, tmp_path, monkeypatch
):
    client = MlflowClient()
    with mlflow.start_run(experiment_id=experiment):
        disabled = track_model("off", PARAMS, enabled=False)
    assert type(disabled) is ModelTracker
    assert len(client.search_runs([experiment])) == 1  # only the parent

    untouched = tmp_path / "untouched.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{untouched}")
    assert mlflow.active_run() is None
    for tracker in (track_model("library use", PARAMS), disabled):
        assert type(tracker) is ModelTracker
        with tracker as same:
            assert same is tracker and tracker.run_id is None
            tracker.log_params(PARAMS)
            tracker.log_epoch(1, {"loss": 1.0})
            tracker.log_artifact(tmp_path / "absent.png")
            tracker.set_tags({"checkpoint": "x"})
    assert not untouched.exists()



def test_epoch_metrics_reach_mlflow_every_flush_interval_and_when_the_model_ends(
        experiment, monkeypatch):
    client = MlflowClient()
    with mlflow.start_run(experiment_id=experiment):
        with track_model("student/Home1") as tracker:
            tracker.log_epoch(1, {"loss": 3.0})
            tracker.log_epoch(2, {"loss": 2.0})
            assert client.get_metric_history(tracker.run_id, "loss") == []  # buffered
            monkeypatch.setattr("vicokd.tracking.METRICS_FLUSH_S", 0.0)
            tracker.log_epoch(3, {"loss": 1.0})  # the interval has passed: all three are sent
            assert [m.value for m in client.get_metric_history(tracker.run_id, "loss")] == \
                [3.0, 2.0, 1.0]
            monkeypatch.setattr("vicokd.tracking.METRICS_FLUSH_S", 3600.0)
            tracker.log_epoch(4, {"loss": 0.5})
        history = client.get_metric_history(tracker.run_id, "loss")
        assert [(m.step, m.value) for m in history] == [(1, 3.0), (2, 2.0), (3, 1.0), (4, 0.5)]

def test_tracker_refuses_use_outside_its_with_block_and_missing_artefacts(experiment, tmp_path):
    with mlflow.start_run(experiment_id=experiment):
        tracker = track_model("teacher/Home1")
        assert isinstance(tracker, MlflowModelTracker)
        with pytest.raises(RuntimeError, match="outside its `with` block"):
            tracker.log_epoch(1, {"loss": 1.0})
        with tracker, pytest.raises(FileNotFoundError, match="absent.png"):
            tracker.log_artifact(tmp_path / "absent.png")


def test_flatten_params_dots_nested_keys_indexes_lists_of_blocks_and_respects_mlflow_limits(caplog):
    assert flatten_params(PARAMS) == FLAT_PARAMS
    nested_list = {"terms": [{"loss": "kl", "weight": 2}, {"loss": "js"}], "ids": [1, 2]}
    assert flatten_params(nested_list) == {
        "terms.0.loss": "kl", "terms.0.weight": "2", "terms.1.loss": "js", "ids": "[1, 2]",
    }
    assert flatten_params({"views[1]@home": None}) == {"views_1__home": "None"}

    long = flatten_params({"text": "x" * (MAX_PARAM_VAL_LENGTH + 10)})["text"]
    assert len(long) == MAX_PARAM_VAL_LENGTH and long.endswith("...")
    assert "truncated" in caplog.text

    with pytest.raises(ValueError, match="both flatten to 'a.b'"):
        flatten_params({"a.b": 1, "a": {"b": 2}})
    with pytest.raises(ValueError, match="longer than MLflow"):
        flatten_params({"k" * 300: 1})


def test_mlflow_telemetry_is_switched_off_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    disable_mlflow_telemetry()
    assert mlflow.telemetry.get_telemetry_client() is None
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"


@pytest.mark.parametrize(
    ("env", "variable", "uri", "artifacts"),
    [
        ("test", None, "sqlite:///data/test/mlflow.db", "data/test/mlartifacts"),
        ("paper", None, "sqlite:///data/mlflow.db", "data/mlartifacts"),
        ("paper", "http://127.0.0.1:5000", "http://127.0.0.1:5000", "data/mlartifacts"),
    ],
)
def test_kedro_mlflow_config_stores_runs_under_the_data_root_unless_told(
    env, variable, uri, artifacts, monkeypatch
):
    if variable is None:
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", variable)
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(PROJECT / "conf"), env=env, **settings.CONFIG_LOADER_ARGS
    )
    loader.config_patterns["mlflow"] = ["mlflow*", "mlflow*/**", "**/mlflow*"]
    config = KedroMlflowConfig.model_validate(loader["mlflow"])  # unknown keys would raise
    assert config.server.mlflow_tracking_uri == uri
    assert config.tracking.experiment.create_experiment_kwargs.artifact_location == artifacts
    assert config.tracking.params.dict_params.flatten
    assert config.tracking.params.long_params_strategy == "tag"


def test_conf_local_overrides_single_mlflow_keys_to_reach_a_server(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (tmp_path / "base").mkdir()
    for name in ("mlflow.yml", "globals.yml"):
        (tmp_path / "base" / name).write_text((PROJECT / "conf" / "base" / name).read_text())
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "mlflow.yml").write_text(
        "server:\n  mlflow_tracking_uri: http://tracking.example:5000\n"
        "tracking:\n  experiment:\n    create_experiment_kwargs:\n      artifact_location: null\n"
    )
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(tmp_path), **settings.CONFIG_LOADER_ARGS)
    loader.config_patterns["mlflow"] = ["mlflow*", "mlflow*/**", "**/mlflow*"]
    config = KedroMlflowConfig.model_validate(loader["mlflow"])
    assert config.server.mlflow_tracking_uri == "http://tracking.example:5000"
    assert config.tracking.experiment.create_experiment_kwargs.artifact_location is None
    assert config.tracking.experiment.name == "vicokd"  # the rest of base is kept
    assert config.tracking.params.dict_params.flatten
