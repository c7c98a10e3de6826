"""The reporting pipeline on the trained project copy (tests/pipelines/conftest.py: teachers and
students trained with the test settings, one epoch, on the synthetic stores), every report checked
against the prediction tables it came from."""
import json
import shutil
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score
from synthetic_project import HOMES, Project

from project_parameters import multisensor_home

CLASSES = multisensor_home().classes

METHODS = ("student", "logitkd", "modalkd", "dualkd", "cokd", "vicokd_paper", "vicokd")
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
    labels = ("Student", "LogitKD", "ModalKD", "DualKD", "CoKD", "ViCoKD (Eq. 10)", "ViCoKD")
    assert table["method"].tolist() == ["Teacher", *(m for m in labels for _ in (0, 1))]
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
    first = table[table["method"] == "ViCoKD"].iloc[0]
    assert (f"| {first['Home1 mAP']:.1f} [{first['Home1 mAP low']:.1f}, {first['Home1 mAP high']:.1f}] |"
            in markdown)  # every mAP with its interval


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
    segments = pd.read_csv(report / "segment_map.csv")  # one row per run, supervision and home
    assert len(segments) == models and list(segments.columns[-4:]) == [
        "mAP@0.3", "mAP@0.5", "mAP@0.7", "mAP mean"]
    values = segments[["mAP@0.3", "mAP@0.5", "mAP@0.7"]]
    assert values.stack().between(0, 100).all()
    np.testing.assert_allclose(segments["mAP mean"], values.mean(axis=1))
    statistics = pd.read_csv(report / "dataset_statistics.csv")
    assert statistics.groupby("home")["sequences"].sum().to_dict()["Home1"] == 7


def test_claims_figures_and_summary_on_disk(reported):
    data, params = reported
    report = data / "08_reporting"
    for path in [report / "map_curves.png", *(report / "attention_maps" / f"{h}.png" for h in HOMES)]:
        assert path.stat().st_size > 10_000, path
    claims = pd.read_csv(report / "claims.csv")
    methods = [m for m in ("LogitKD", "ModalKD", "DualKD", "CoKD", "ViCoKD")]
    assert set(claims["claim"]) >= {"Teacher > Student", *(f"{m} > Student" for m in methods),
                                    "ViCoKD > CoKD", "ViCoKD − CoKD: Home1 > Home2", "w/o FD < ViCoKD",
                                    "Teacher + VC > Teacher"}
    assert set(claims["verdict"]) <= {"agrees", "disagrees", "undecided"}  # nothing is missing
    assert (claims["seeds"] == 1).all()
    summary = (report / "summary.md").read_text()
    lines = summary.splitlines()
    assert len(lines) <= 80
    assert lines[2].startswith(f"**Of {len(claims)} claims of the paper tested, ")
    assert "Best student against the teacher — Home1: " in lines[2]
    assert "| ViCoKD | V_F |" in summary and "T 4;" in summary and "torch" in summary
    assert "Every run of the run table has predictions for every home and seed. Each has its history." in summary
    record = json.loads((report / "report_record.json").read_text())
    assert record["commit"] in summary and record["settings"]["seeds"] == "0"
    own = {"table1_methods.md", "table2_seeds.md", "table3_teacher.md", "table4_ablations.md", "per_class_ap.md",
           "model_metrics.csv", "map_curves.png", "attention_maps", "dataset_statistics.md", "training_summary.csv",
           "claims.md"}
    for title, link in params["reporting"].links.items():
        assert f"[{title}]({link})" in summary
        if link in own:
            assert (report / link).exists(), link


#: Every report the reporting pipeline writes (files and folders of 08_reporting).
REPORTS = ("model_metrics.csv", "model_inventory.csv", "table1_methods.md", "table1_methods.csv",
           "table2_seeds.md", "table2_seeds.csv", "table3_teacher.md", "table3_teacher.csv",
           "table4_ablations.md", "table4_ablations.csv", "per_class_ap.md", "segment_map.md",
           "segment_map.csv", "claims.md", "claims.csv",
           "dataset_statistics.md", "training_summary.csv", "summary.md", "report_record.json",
           "map_curves.png", "human_centric_share.md")


@pytest.fixture(scope="module")
def without_a_slice(reported, trained_project, tmp_path_factory):
    """A copy of the reported project without logitkd V_S in Home2 (predictions, history and
    checkpoints), reported again."""
    project = Project(tmp_path_factory.mktemp("gap") / "project")
    shutil.copytree(trained_project.path, project.path)
    for kind in ("07_model_output/predictions", "07_model_output/histories", "06_models"):
        shutil.rmtree(project.data / kind / "logitkd" / "V_S" / "Home2")
    report = project.data / "08_reporting"
    project.previous = {name: (report / name).stat().st_mtime_ns for name in REPORTS}  # the copied reports
    project.run(["reporting"])
    return project


def test_a_missing_slice_is_named_and_every_report_is_consistent(without_a_slice):
    report = without_a_slice.data / "08_reporting"
    summary = (report / "summary.md").read_text()
    assert "- `logitkd` V_S in Home2: seed 0 (no predictions and no history)" in summary
    inventory = pd.read_csv(report / "model_inventory.csv")
    gap = inventory[(inventory["run"] == "logitkd") & (inventory["supervision"] == "V_S")
                    & (inventory["home"] == "Home2")]
    assert gap[["predictions", "history"]].values.tolist() == [[False, False]]
    metrics = pd.read_csv(report / "model_metrics.csv")
    assert not ((metrics["run"] == "logitkd") & (metrics["supervision"] == "V_S")
                & (metrics["home"] == "Home2")).any()
    for name, columns in (("table1_methods.csv", ["Home2 mAP", "Home2 Δ", "Home2 Δ low"]),
                          ("table2_seeds.csv", ["Home2 mean"])):
        table = pd.read_csv(report / name)
        row = table[(table["method"] == "LogitKD") & (table["supervision"] == "V_S")].iloc[0]
        assert row[columns].isna().all(), name
    assert pd.read_csv(report / "table2_seeds.csv").query("method == 'LogitKD' and supervision == 'V_S'")[
        "Home2 n"].tolist() == [0]
    row = next(line for line in (report / "table1_methods.md").read_text().splitlines()
               if line.startswith("| multitsf | LogitKD | V_S |"))
    assert row.endswith("| 0 | — | — | — | — |")  # Home2: no seed, no figure
    claims = pd.read_csv(report / "claims.csv")
    assert claims.query("claim == 'LogitKD > Student' and home == 'Home2' and supervision == 'V_S'")[
        "verdict"].tolist() == ["missing"]
    assert "1 cannot be tested (a model is missing)" in summary
    for name in REPORTS:  # every report rewritten, none left from the run before the gap
        assert (report / name).stat().st_mtime_ns > without_a_slice.previous[name], name


def test_an_error_while_computing_leaves_every_report_untouched(without_a_slice):
    report = without_a_slice.data / "08_reporting"
    before = {path: (path.stat().st_mtime_ns, path.read_bytes())
              for path in sorted(report.rglob("*")) if path.is_file()}
    with (mock.patch("vicokd.reporting.claims.claims_table", side_effect=RuntimeError("broken claims")),
          pytest.raises(RuntimeError, match="broken claims")):
        without_a_slice.run(["reporting"])
    after = {path: (path.stat().st_mtime_ns, path.read_bytes())
             for path in sorted(report.rglob("*")) if path.is_file()}
    assert after == before
