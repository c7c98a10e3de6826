"""The teacher pipeline on the test environment: trains both teacher recipes for both homes."""
import pandas as pd
import pytest
import torch
from kedro.runner import SequentialRunner

from teacher.synthetic import HOMES, project_catalog, synthetic_inputs, env_parameters
from vicokd.data.annotations import CLASSES
from vicokd.models import build_model
from vicokd.pipelines.teacher import create_pipeline


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("teacher")
    params = env_parameters(tmp_path)
    catalog = project_catalog(tmp_path, synthetic_inputs(), params)
    SequentialRunner().run(create_pipeline(), catalog)
    return tmp_path, params, catalog


def test_teacher_checkpoints_rebuild_the_models(teacher_run):
    tmp_path, params, catalog = teacher_run
    for name in ("teacher", "teacher_vc"):
        checkpoints = catalog.load(f"{name}_model")
        assert set(checkpoints) == set(HOMES)
        for home, checkpoint in checkpoints.items():
            assert checkpoint["with_audio"] is True
            assert checkpoint["metadata"]["home"] == home
            assert checkpoint["metadata"]["method"] == name
            model = build_model(checkpoint["config"], with_audio=True)
            model.load_state_dict(checkpoint["state_dict"])  # strict: every weight is there
    versions = list((tmp_path / "data/06_models/teacher/teacher_AV_F.pt").iterdir())
    assert len(versions) == 1 and (versions[0] / "teacher_AV_F.pt").is_file()
    vc_recipe = catalog.load("teacher_vc_model")["Home1"]["metadata"]["recipe"]
    assert vc_recipe["view_consistency"]["weight"] == 1.0
    assert catalog.load("teacher_model")["Home1"]["metadata"]["recipe"]["view_consistency"]["weight"] == 0


def test_teacher_history_and_predictions(teacher_run):
    tmp_path, params, catalog = teacher_run
    history = pd.read_csv(tmp_path / "data/07_model_output/histories/teacher_vc_AV_F.csv")
    epochs = params["training"]["epochs"]
    assert len(history) == epochs * len(HOMES)
    assert {"loss.frame", "loss.sequence", "loss.presence", "loss.view_consistency",
            "val_map", "test_map"} <= set(history.columns)
    predictions = pd.read_parquet(tmp_path / "data/07_model_output/predictions/teacher_AV_F.parquet")
    assert set(predictions["split"]) == {"val", "test"}
    assert set(predictions["supervision"]) == {"AV_F"}
    frames = predictions[predictions["level"] == "frame"]
    # 2 val + 2 test clips per home, T frames each
    assert len(frames) == len(HOMES) * 4 * params["training"]["num_frames"]
    scores = frames[[f"score.{c}" for c in CLASSES]].to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    best = catalog.load("teacher_model")["Home2"]["metadata"]
    home2 = history[history["home"] == "Home2"]
    assert best["val_map"] == pytest.approx(home2["val_map"].max())


def test_per_epoch_checkpoints_on_disk(teacher_run):
    tmp_path, params, _ = teacher_run
    for home in HOMES:
        last = torch.load(tmp_path / f"data/06_models/runs/teacher_AV_F/{home}/last.pt",
                          weights_only=True)
        assert last["epoch"] == params["training"]["epochs"]
