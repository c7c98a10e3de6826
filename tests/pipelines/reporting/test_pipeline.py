"""The reporting pipeline on the test environment's outputs: teachers and students trained (tiny test
settings, one epoch) on the synthetic stores of tests/pipelines/teacher, then every report checked
against the prediction tables it came from."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from sklearn.metrics import average_precision_score

from teacher.synthetic import HOMES, env_parameters, synthetic_inputs
from vicokd.data.annotations import CLASSES
from vicokd.pipelines.distill import create_pipeline as distill_pipeline
from vicokd.pipelines.reporting import create_pipeline as reporting_pipeline
from vicokd.pipelines.teacher import create_pipeline as teacher_pipeline
from vicokd.settings import CONFIG_LOADER_ARGS

ROOT = Path(__file__).resolve().parents[3]
METHODS = ("student", "logitkd", "modalkd", "dualkd", "cokd", "vicokd")


#: ``data_root`` of the test environment (conf/test/globals.yml).
TEST_DATA_ROOT = "data/test/"


def _relocate(entry, tmp_path: Path):
    if isinstance(entry, dict):
        return {k: _relocate(v, tmp_path) for k, v in entry.items()}
    if isinstance(entry, str) and entry.startswith(TEST_DATA_ROOT):
        # the test environment's tree (globals data_root) moves to tmp_path/data
        return str(tmp_path / "data" / entry[len(TEST_DATA_ROOT):])
    return entry


def _flatten(params: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in params.items():
        out[f"{prefix}{key}"] = value
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
    return out


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """Teacher, distill and reporting run in sequence on the test env's catalog moved under tmp."""
    tmp_path = tmp_path_factory.mktemp("reporting")
    params = env_parameters(tmp_path)
    params["training"]["epochs"] = 1
    params["ingestion"]["homes"] = list(HOMES)
    loader = OmegaConfigLoader(str(ROOT / "conf"), env="test", **CONFIG_LOADER_ARGS)
    catalog = DataCatalog.from_config(_relocate(dict(loader["catalog"]), tmp_path))
    inputs = synthetic_inputs()
    inputs["sequences"] = inputs["sequences"].assign(duration=inputs["sequences"]["n_frames"] / 2.5)
    inputs["mask_quality_table"] = "# Visibility mask quality\n\n| home | F1 |\n|---|---|\n| Home1 | 0.9 |\n"
    inputs["simulation_overlap"] = {home: {"share_seen_by_2_or_more_views": 0.5} for home in HOMES}
    for name, data in inputs.items():
        catalog[name] = MemoryDataset(data, copy_mode="assign")
    for key, value in _flatten(params).items():
        catalog[f"params:{key}"] = MemoryDataset(value, copy_mode="deepcopy")
    SequentialRunner().run(teacher_pipeline() + distill_pipeline() + reporting_pipeline(), catalog)
    return tmp_path, params


def _predictions(tmp_path: Path, model: str) -> pd.DataFrame:
    return pd.read_parquet(tmp_path / f"data/07_model_output/predictions/{model}.parquet")


def _frame_map(predictions: pd.DataFrame, home: str, level: str = "frame") -> float:
    """Macro AP over classes with a positive, by scikit-learn, on the test rows of one home."""
    rows = predictions[(predictions["home"] == home) & (predictions["split"] == "test")
                       & (predictions["level"] == level)]
    targets = rows[[f"target.{c}" for c in CLASSES]].to_numpy()
    scores = rows[[f"score.{c}" for c in CLASSES]].to_numpy()
    present = targets.any(axis=0)
    return 100 * average_precision_score(targets[:, present], scores[:, present], average="macro")


def test_table1_matches_the_predictions(reported):
    tmp_path, _ = reported
    report = tmp_path / "data/08_reporting"
    table = pd.read_csv(report / "table1_methods.csv")
    assert table["method"].tolist() == ["Teacher", *(m for m in ("Student", "LogitKD", "ModalKD", "DualKD",
                                                                 "CoKD", "ViCoKD") for _ in (0, 1))]
    for home in HOMES:
        for model, label in (("vicokd_V_F", "ViCoKD"), ("cokd_V_S", "CoKD"), ("teacher_AV_F", "Teacher")):
            supervision = model.split("_", 1)[1]
            row = table[(table["method"] == label) & (table["supervision"] == supervision)].iloc[0]
            predictions = _predictions(tmp_path, model)
            assert row[f"{home} mAP"] == pytest.approx(_frame_map(predictions, home))
            assert row[f"{home} seq mAP"] == pytest.approx(_frame_map(predictions, home, "sequence"))
        student = _frame_map(_predictions(tmp_path, "student_V_S"), home)
        row = table[(table["method"] == "CoKD") & (table["supervision"] == "V_S")].iloc[0]
        assert row[f"{home} Δ"] == pytest.approx(_frame_map(_predictions(tmp_path, "cokd_V_S"), home) - student)
    markdown = (report / "table1_methods.md").read_text()
    for label in ("Student", "LogitKD", "ModalKD", "DualKD", "CoKD", "ViCoKD"):
        assert f"| {label} |" in markdown
    first_vicokd = table.loc[table["method"] == "ViCoKD", "Home1 mAP"].iloc[0]
    assert f"{first_vicokd:.2f}" in markdown


def test_metrics_per_class_and_other_tables(reported):
    tmp_path, _ = reported
    report = tmp_path / "data/08_reporting"
    metrics = pd.read_csv(report / "model_metrics.csv")
    assert len(metrics) == (2 + 2 * len(METHODS)) * len(HOMES) * 2  # models × homes × levels
    predictions = _predictions(tmp_path, "student_V_F")
    rows = predictions[(predictions["home"] == "Home2") & (predictions["split"] == "test")
                       & (predictions["level"] == "frame")]
    row = metrics[(metrics["model"] == "student_V_F") & (metrics["home"] == "Home2")
                  & (metrics["level"] == "frame")].iloc[0]
    for c in CLASSES:
        if rows[f"target.{c}"].any():
            assert row[f"ap.{c}"] == pytest.approx(100 * average_precision_score(rows[f"target.{c}"], rows[f"score.{c}"]))
        else:
            assert np.isnan(row[f"ap.{c}"])
    teacher = pd.read_csv(report / "table3_teacher.csv")
    assert teacher["method"].tolist() == ["Teacher", "Teacher + VC"]
    assert teacher.loc[1, "Home1 Δ"] == pytest.approx(teacher.loc[1, "Home1 mAP"] - teacher.loc[0, "Home1 mAP"])
    assert "No run produced" in (report / "table4_ablations.md").read_text()  # ablations did not run
    seeds = pd.read_csv(report / "table2_seeds.csv")
    assert (seeds["Home1 n"] == 1).all()
    statistics = pd.read_csv(report / "dataset_statistics.csv")
    assert statistics.groupby("home")["sequences"].sum().to_dict() == {home: 7 for home in HOMES}


def test_figures_and_summary_on_disk(reported):
    tmp_path, params = reported
    report = tmp_path / "data/08_reporting"
    for path in [report / "map_curves.png", *(report / "attention_maps" / f"{h}.png" for h in HOMES)]:
        assert path.stat().st_size > 10_000, path
    summary = (report / "summary.md").read_text()
    assert "## Results" in summary and "| ViCoKD | V_F |" in summary
    assert "- **frames per clip (T)**: 4" in summary and "- **torch**:" in summary
    own = {"table1_methods.md", "table2_seeds.md", "table3_teacher.md", "table4_ablations.md", "per_class_ap.md",
           "model_metrics.csv", "map_curves.png", "attention_maps", "dataset_statistics.md", "training_summary.csv"}
    for title, link in params["reporting"]["links"].items():
        assert f"[{title}]({link})" in summary
        if link in own:
            assert (report / link).exists(), link
