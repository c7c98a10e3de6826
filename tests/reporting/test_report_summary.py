import math

import pandas as pd
import pytest

from vicokd.reporting import intervals, summary, tables
from vicokd.reporting.intervals import Model


def test_dataset_statistics_counts_by_hand():
    sequences = pd.DataFrame({
        "sequence_id": ["H/a", "H/b", "H/c"], "home": "H", "n_frames": [10, 20, 30],
        "duration": [3600.0, 1800.0, 7200.0], "labels": [["Eat"], ["Eat", "Drink"], []],
    })
    splits = pd.DataFrame({"sequence_id": ["H/a", "H/b", "H/c"], "home": "H", "split": ["test", "train", "train"]})
    table = summary.dataset_statistics(sequences, splits)
    assert table["split"].tolist() == ["train", "test"]
    train = table.iloc[0]
    assert (train["sequences"], train["frames"], train["hours"], train["labels"]) == (2, 50, 2.5, 2)


def test_dataset_statistics_names_unknown_sequences():
    sequences = pd.DataFrame({"sequence_id": ["H/a"], "home": "H", "n_frames": [1], "duration": [1.0], "labels": [[]]})
    splits = pd.DataFrame({"sequence_id": ["H/a", "H/zz"], "home": "H", "split": ["train", "test"]})
    with pytest.raises(ValueError, match="H/zz"):
        summary.dataset_statistics(sequences, splits)


def test_render_summary_headline_first_then_origin_settings_sections_and_links():
    record = {"generated": "2026-01-02T03:04:05+00:00", "commit": "abc123",
              "machine": {**summary.machine_info(), "platform": "Linux-x", "cpu_count": 2}}
    text = summary.render_summary(
        "**Of 3 claims ...**", record, settings={"epochs": 3, "seeds": "0, 1"},
        sections={"Table 1": "| a |"}, links={"Table 1": "table1_methods.md", "Curves": "map_curves.png"})
    lines = text.splitlines()
    assert lines[:3] == ["# ViCoKD run summary", "", "**Of 3 claims ...**"]
    assert lines[4].startswith("Generated 2026-01-02 03:04 UTC by commit `abc123` on Linux-x (2 CPUs, ")
    assert "**Settings**: epochs 3; seeds 0, 1." in lines
    assert lines[lines.index("## Table 1") + 2] == "| a |"
    assert lines[-1] == "[Table 1](table1_methods.md) · [Curves](map_curves.png)"


def test_code_version_is_the_checkout_commit(tmp_path):
    assert summary.code_version(tmp_path) == "unknown"  # not a git checkout
    version = summary.code_version()
    assert version == "unknown" or len(version.split("+")[0]) == 12


def test_inventory_names_each_missing_slice_with_its_seeds_and_outputs(make_predictions):
    found = {"predictions": {("vicokd", "V_S"): ["Home1/seed0", "Home1/seed1"], ("cokd", "V_S"): [],
                             ("no_fd", "V_S"): ["Home1/seed0", "Home1/seed1"]},
             "history": {("vicokd", "V_S"): ["Home1/seed0", "Home1/seed1", "Home2/seed1"],
                         ("cokd", "V_S"): [], ("no_fd", "V_S"): ["Home1/seed0", "Home1/seed1"]}}
    expected = {("vicokd", "V_S"): ["Home1", "Home2"], ("cokd", "V_S"): ["Home1", "Home2"],
                ("no_fd", "V_S"): ["Home1"]}
    inventory = summary.inventory(expected, [0, 1], found)
    assert list(inventory.columns) == ["run", "supervision", "home", "seed", "predictions", "history"]
    assert len(inventory) == 4 + 4 + 2  # a run of one home expects one home
    assert inventory[inventory["run"] == "vicokd"]["predictions"].tolist() == [True, True, False, False]
    assert inventory[inventory["run"] == "vicokd"]["history"].tolist() == [True, True, False, True]
    text = summary.missing_models(inventory)
    assert text.startswith("6 expected models are not (entirely) on disk")
    assert "- `vicokd` V_S in Home2: seeds 0, 1 (no predictions and no history)" in text
    assert "- `cokd` V_S in Home1: seeds 0, 1 (no predictions and no history)" in text
    assert "no_fd" not in text
    assert "and 1 more (model_inventory.csv)" in summary.missing_models(inventory, shown=2)
    assert "`cokd` V_S in Home2" not in summary.missing_models(inventory, shown=2)
    complete = summary.inventory({("no_fd", "V_S"): ["Home1"]}, [0, 1], found)
    assert summary.missing_models(complete).startswith("Every run of the run table has predictions for every")


def test_outputs_must_share_a_version(make_predictions):
    predictions = make_predictions("vicokd", "V_S", "Home1")
    version = predictions["model_version"].iloc[0]
    summary.check_published_together(predictions, {("vicokd", "V_S", "Home1", 0): version}, "p")
    with pytest.raises(ValueError, match="p: the predictions are of model version .* of version old"):
        summary.check_published_together(predictions, {("vicokd", "V_S", "Home1", 0): "old"}, "p")
    with pytest.raises(ValueError, match="its history is missing"):
        summary.check_published_together(predictions, {}, "p")


def test_best_student_against_the_teacher_per_home(predictions):
    metrics = tables.evaluate_predictions(predictions)
    replicates, _ = intervals.bootstrap(predictions, tables.TABLE_LEVELS, 200, 0.95, seed=0)
    teacher = Model("multitsf", "teacher", "AV_F")
    lines = summary.best_students(metrics, replicates, teacher, digits=1)
    assert [line.split(":")[0] for line in lines] == ["Home1", "Home2"]
    for home, line in zip(("Home1", "Home2"), lines):
        students = metrics[(metrics["group"] == "method") & (metrics["home"] == home)
                           & (metrics["level"] == "sequence")]
        means = students.groupby(["run", "label", "supervision"])["map"].mean()
        (run, label, supervision), best = means.idxmax(), means.max()
        delta = replicates.difference(Model("multitsf", run, supervision), teacher, home, "sequence")
        assert line == (f"{home}: {label} {supervision} {best:.1f} vs "
                        f"{replicates.mean(teacher, home, 'sequence').value:.1f}, Δ "
                        + tables.format_estimate(*delta[:3], 1, signed=True))
    assert summary.best_students(metrics, replicates, None, 1) == []


def test_claims_by_statement_counts_every_verdict():
    table = pd.DataFrame({"claim": ["A > B", "A > B", "C < D", "A > B"],
                          "verdict": ["agrees", "undecided", "missing", "agrees"]})
    counts = summary.claims_by_statement(table)
    assert counts.to_dict("records") == [
        {"claim": "A > B", "agrees": 2, "disagrees": 0, "undecided": 1, "missing": 0},
        {"claim": "C < D", "agrees": 0, "disagrees": 0, "undecided": 0, "missing": 1}]


def test_teacher_check_margin_by_hand():
    training = pd.DataFrame({
        "run": ["teacher", "student", "student"], "teacher": [None, "teacher", "teacher"],
        "supervision": ["AV_F", "V_F", "V_S"], "home": "Home1", "seed": 0,
        "val_seq_map": [60.0, 65.0, 40.0]})
    check = summary.teacher_check(training, "student")
    assert check["margin"].tolist() == [-5.0, 20.0]
    assert check["teacher val mAP"].tolist() == [60.0, 60.0]


def test_teacher_check_line_counts_and_names_where_the_teacher_is_behind():
    check = pd.DataFrame({"home": ["Home1", "Home1", "Home2"], "seed": [0, 1, 0],
                          "supervision": ["V_F", "V_F", "V_S"], "margin": [3.0, -1.25, 7.0]})
    assert summary.teacher_check_line(check, 1).endswith(
        "the teacher beats the plain student in 2 of 3 (home, seed, supervision); not in Home1 seed 1 V_F (-1.2).")
    assert summary.teacher_check_line(check[check["margin"] > 0], 1).endswith(
        "in 2 of 2 (home, seed, supervision); smallest margin Home1 seed 0 V_F (+3.0).")


def test_split_sizes_per_home_in_one_line():
    statistics = pd.DataFrame({"home": ["H1", "H1", "H1", "H2", "H2", "H2"],
                               "split": ["train", "val", "test", "train", "val", "test"],
                               "sequences": [33, 6, 21, 34, 8, 18]})
    assert summary.split_sizes(statistics) == "H1 33/6/21, H2 34/8/18"


def test_training_summary_takes_loss_vc_and_gradient_columns_at_the_selected_epoch():
    identity = {"run": "vicokd", "label": "ViCoKD", "group": "method", "teacher": "teacher",
                "supervision": "V_S", "home": "Home1", "seed": 0, "model_version": "v1"}
    histories = pd.DataFrame([
        {**identity, "epoch": 1, "seconds": 2.0, "val_seq_map": 60.0, "test_seq_map": 70.0,
         "val_map": 40.0, "test_map": 45.0, "loss.view_consistency": 0.5, "vc.active_pair_share": 0.3,
         "grad.view_consistency": 0.2, "grad.view_consistency.share": 0.1},
        {**identity, "epoch": 2, "seconds": 3.0, "val_seq_map": 65.0, "test_seq_map": 50.0,
         "val_map": 41.0, "test_map": 44.0, "loss.view_consistency": 0.4, "vc.active_pair_share": 0.3,
         "grad.view_consistency": 0.3, "grad.view_consistency.share": float("nan")},
    ])
    row = summary.training_summary(histories).iloc[0]
    assert row["best_epoch"] == 2 and row["seconds"] == 5.0  # selected on validation, not test
    assert row["test_seq_map_best_test_epoch_optimistic"] == 70.0
    assert row["loss.view_consistency"] == 0.4 and row["grad.view_consistency"] == 0.3
    assert "grad.view_consistency.share" not in row.index  # NaN at the selected epoch: left out
    scored_once = histories.assign(test_seq_map=[float("nan"), 50.0], test_map=[float("nan"), 44.0])
    row = summary.training_summary(scored_once).iloc[0]  # training.test_every_epoch off
    assert (row["test_seq_map"], row["test_map"]) == (50.0, 44.0)
    assert math.isnan(row["test_seq_map_best_test_epoch_optimistic"])  # no best test epoch to claim
