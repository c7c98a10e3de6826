"""The reporting pipeline on the trained project copy (tests/pipelines/conftest.py: teachers and
students trained with the test settings, one epoch, on the synthetic stores), every report checked
against the prediction tables it came from."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score
from synthetic_project import HOMES

from project_parameters import multisensor_home

CLASSES = multisensor_home().classes

METHODS = ("student", "logitkd", "modalkd", "dualkd", "cokd", "vicokd")
ABLATIONS = ("no_confw", "no_mask", "kl", "no_fd", "no_ld")


@pytest.fixture(scope="module")
def reported(trained_project):
    """The reporting pipeline run on the trained project."""
    trained_project.run(["reporting"])
    return trained_project.data, trained_project.load("parameters")


def _predictions(data: Path, model: str) -> pd.DataFrame:
    run, supervision = model.rsplit("_", 2)[0], "_".join(model.rsplit("_", 2)[1:])
    folder = data / "07_model_output/predictions" / run / supervision
    return pd.concat([pd.read_parquet(path) for path in sorted(folder.rglob("*.parquet"))])


def _map(predictions: pd.DataFrame, home: str, level: str = "sequence") -> float:
    """Macro AP over classes with a positive, by scikit-learn, on the test rows of one home."""
    rows = predictions[(predictions["home"] == home) & (predictions["split"] == "test")
                       & (predictions["level"] == level)]
    targets = rows[[f"target.{c}" for c in CLASSES]].to_numpy()
    scores = rows[[f"score.{c}" for c in CLASSES]].to_numpy()
    present = targets.any(axis=0)
    return 100 * average_precision_score(targets[:, present], scores[:, present], average="macro")


def test_table1_matches_the_predictions(reported):
    data, _ = reported
    report = data / "08_reporting"
    table = pd.read_csv(report / "table1_methods.csv")
    assert table["method"].tolist() == ["Teacher", *(m for m in ("Student", "LogitKD", "ModalKD", "DualKD",
                                                                 "CoKD", "ViCoKD") for _ in (0, 1))]
    for home in HOMES:
        for model, label in (("vicokd_V_F", "ViCoKD"), ("cokd_V_S", "CoKD"), ("teacher_AV_F", "Teacher")):
            supervision = model.split("_", 1)[1]
            row = table[(table["method"] == label) & (table["supervision"] == supervision)].iloc[0]
            predictions = _predictions(data, model)
            # the headline is sequence level, frame level beside it
            assert row[f"{home} mAP"] == pytest.approx(_map(predictions, home))
            assert row[f"{home} frame mAP"] == pytest.approx(_map(predictions, home, "frame"))
        student = _map(_predictions(data, "student_V_S"), home)
        row = table[(table["method"] == "CoKD") & (table["supervision"] == "V_S")].iloc[0]
        assert row[f"{home} Δ"] == pytest.approx(_map(_predictions(data, "cokd_V_S"), home) - student)
    markdown = (report / "table1_methods.md").read_text()
    for label in ("Student", "LogitKD", "ModalKD", "DualKD", "CoKD", "ViCoKD"):
        assert f"| {label} |" in markdown
    first_vicokd = table.loc[table["method"] == "ViCoKD", "Home1 mAP"].iloc[0]
    assert f"{first_vicokd:.2f}" in markdown


def test_metrics_per_class_and_other_tables(reported):
    data, _ = reported
    report = data / "08_reporting"
    metrics = pd.read_csv(report / "model_metrics.csv")
    models_per_home = 2 + 2 * len(METHODS)  # teachers, methods × V_F/V_S; the ablations in Home1 only
    models = models_per_home * len(HOMES) + 2 * len(ABLATIONS)
    assert len(metrics) == models * 3  # models × levels (incl. pooled frames)
    assert set(metrics.loc[metrics["group"] == "ablation", "home"]) == {"Home1"}
    predictions = _predictions(data, "student_V_F")
    rows = predictions[(predictions["home"] == "Home2") & (predictions["split"] == "test")
                       & (predictions["level"] == "frame")]
    row = metrics[(metrics["run"] == "student") & (metrics["supervision"] == "V_F")
                  & (metrics["home"] == "Home2") & (metrics["level"] == "frame")].iloc[0]
    for c in CLASSES:
        if rows[f"target.{c}"].any():
            assert row[f"ap.{c}"] == pytest.approx(100 * average_precision_score(rows[f"target.{c}"], rows[f"score.{c}"]))
        else:
            assert np.isnan(row[f"ap.{c}"])
    teacher = pd.read_csv(report / "table3_teacher.csv")
    assert teacher["method"].tolist() == ["Teacher", "Teacher + VC"]
    assert teacher.loc[1, "Home1 Δ"] == pytest.approx(teacher.loc[1, "Home1 mAP"] - teacher.loc[0, "Home1 mAP"])
    ablations = pd.read_csv(report / "table4_ablations.csv")
    assert ablations["method"].tolist() == [label for label in ("ViCoKD", "w/o ConfW", "w/o Mask", "JS→KL",
                                                                "w/o FD", "w/o LD") for _ in (0, 1)]
    row = ablations[(ablations["method"] == "w/o FD") & (ablations["supervision"] == "V_S")].iloc[0]
    assert row["Home1 Δ"] == pytest.approx(
        _map(_predictions(data, "no_fd_V_S"), "Home1") - _map(_predictions(data, "vicokd_V_S"), "Home1"))
    assert "Home2 mAP" not in ablations.columns  # the ablations are not trained in Home2
    seeds = pd.read_csv(report / "table2_seeds.csv")
    assert (seeds["Home1 n"] == 1).all()
    statistics = pd.read_csv(report / "dataset_statistics.csv")
    assert statistics.groupby("home")["sequences"].sum().to_dict()["Home1"] == 7


def test_figures_and_summary_on_disk(reported):
    data, params = reported
    report = data / "08_reporting"
    for path in [report / "map_curves.png", *(report / "attention_maps" / f"{h}.png" for h in HOMES)]:
        assert path.stat().st_size > 10_000, path
    summary = (report / "summary.md").read_text()
    assert "## Results" in summary and "| ViCoKD | V_F |" in summary
    assert "- **frames per clip (T)**: 4" in summary and "- **torch**:" in summary
    own = {"table1_methods.md", "table2_seeds.md", "table3_teacher.md", "table4_ablations.md", "per_class_ap.md",
           "model_metrics.csv", "map_curves.png", "attention_maps", "dataset_statistics.md", "training_summary.csv"}
    for title, link in params["reporting"].links.items():
        assert f"[{title}]({link})" in summary
        if link in own:
            assert (report / link).exists(), link
