from datetime import UTC, datetime

import pandas as pd
import pytest

from vicokd.reporting import summary, tables


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


def test_render_summary_lists_runs_settings_machine_and_links(predictions):
    metrics = tables.evaluate_predictions(predictions)
    text = summary.render_summary(
        sections={"Table 1": "| a |"}, settings={"epochs": 3, "seeds": [0, 1]},
        machine=summary.machine_info(), runs=metrics,
        links={"Table 1": "table1_methods.md", "Curves": "map_curves.png"},
        generated=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
    )
    assert "Generated 2026-01-02 03:04 UTC" in text
    assert "- **epochs**: 3" in text and "- **torch**:" in text
    assert "- [Curves](map_curves.png)" in text
    assert "**Home2**, backbone multitsf, seeds 0, 1: Teacher AV_F, Student V_F" in text


def test_inventory_names_what_is_missing_and_outputs_must_share_a_version(make_predictions):
    present = {"Home1/seed0": lambda: None}
    inventory = summary.inventory(
        {"vicokd_predictions_V_S": present, "cokd_predictions_V_S": {}, "no_fd_predictions_V_S": {}},
        {"vicokd_predictions_V_S": ["Home1", "Home2"], "cokd_predictions_V_S": ["Home1", "Home2"],
         "no_fd_predictions_V_S": ["Home1"]}, [0])
    assert inventory["present"].tolist() == [True, False, False, False, False]
    assert inventory["partition"].tolist()[-1] == "Home1/seed0"  # a run of one home expects one home
    text = summary.missing_models(inventory)
    assert "4 expected predictions" in text
    assert "`vicokd_predictions_V_S`: Home2/seed0" in text and "`cokd_predictions_V_S`: Home1/seed0, Home2/seed0" in text
    predictions = make_predictions("vicokd", "V_S", "Home1")
    version = predictions["model_version"].iloc[0]
    summary.check_published_together(predictions, {("vicokd", "V_S", "Home1", 0): version}, "p")
    with pytest.raises(ValueError, match="p: the predictions are of model version .* of version old"):
        summary.check_published_together(predictions, {("vicokd", "V_S", "Home1", 0): "old"}, "p")
    with pytest.raises(ValueError, match="its history is missing"):
        summary.check_published_together(predictions, {}, "p")


def test_teacher_check_margin_by_hand():
    training = pd.DataFrame({
        "run": ["teacher", "student", "student"], "teacher": [None, "teacher", "teacher"],
        "supervision": ["AV_F", "V_F", "V_S"], "home": "Home1", "seed": 0,
        "val_seq_map": [60.0, 65.0, 40.0]})
    check = summary.teacher_check(training, "student")
    assert check["margin"].tolist() == [-5.0, 20.0]
    assert check["teacher val mAP"].tolist() == [60.0, 60.0]
