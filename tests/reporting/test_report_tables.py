import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from project_parameters import multisensor_home
from vicokd.reporting import intervals, tables
from vicokd.reporting.intervals import Model

CLASSES = multisensor_home().classes

SCORES = [f"score.{c}" for c in CLASSES]
TARGETS = [f"target.{c}" for c in CLASSES]


def _sklearn_map(frame: pd.DataFrame) -> float:
    targets, scores = frame[TARGETS].to_numpy(), frame[SCORES].to_numpy()
    present = targets.any(axis=0)
    return 100 * average_precision_score(targets[:, present], scores[:, present], average="macro")


def test_evaluate_matches_sklearn_per_model_level_and_split(predictions):
    metrics = tables.evaluate_predictions(predictions, split="test")
    assert len(metrics) == len(predictions) * 2  # one row per model and level
    for table in predictions.values():
        for level in ("frame", "sequence"):
            rows = table[(table["split"] == "test") & (table["level"] == level)]
            got = metrics[(metrics["run"] == table["run"].iloc[0])
                          & (metrics["supervision"] == table["supervision"].iloc[0])
                          & (metrics["home"] == table["home"].iloc[0])
                          & (metrics["seed"] == table["seed"].iloc[0]) & (metrics["level"] == level)]
            assert len(got) == 1
            assert got["map"].iloc[0] == pytest.approx(_sklearn_map(rows), abs=1e-9)
            assert got["n_rows"].iloc[0] == len(rows)
            first = CLASSES[0]
            expected = 100 * average_precision_score(rows[f"target.{first}"], rows[f"score.{first}"])
            assert got[f"ap.{first}"].iloc[0] == pytest.approx(expected)


def test_class_without_positive_has_nan_ap_and_is_left_out_of_map(make_predictions):
    table = make_predictions("student", "V_F", "Home1", splits=("test",))
    table["target.Drink"] = 0
    metrics = tables.evaluate_predictions({"t": table})
    frame = metrics[metrics["level"] == "frame"].iloc[0]
    assert np.isnan(frame["ap.Drink"])
    present = [frame[f"ap.{c}"] for c in CLASSES if c != "Drink"]
    assert frame["map"] == pytest.approx(np.mean(present))


def test_missing_columns_and_split_raise_with_the_source_name(make_predictions):
    table = make_predictions("student", "V_F", "Home1").drop(columns=["score.Eat", "seed"])
    with pytest.raises(ValueError, match=r"student_table.*score\.Eat"):
        tables.evaluate_predictions({"student_table": table})
    table = make_predictions("student", "V_F", "Home1", splits=("val",))
    with pytest.raises(ValueError, match="only_val.*'test'"):
        tables.evaluate_predictions({"only_val": table})


def _map(metrics, method, supervision, home, level="frame"):
    rows = metrics[(metrics["run"] == method) & (metrics["supervision"] == supervision)
                   & (metrics["home"] == home) & (metrics["level"] == level)]
    return rows["map"].mean()


def _replicates(predictions):
    return intervals.bootstrap(predictions, tables.TABLE_LEVELS, 200, 0.95, seed=0)[0]


def test_methods_table_rows_values_and_delta_to_student(predictions):
    metrics = tables.evaluate_predictions(predictions)
    replicates = _replicates(predictions)
    assert tables.method_runs(metrics) == ["teacher", "student", "vicokd"]
    table = tables.comparison_table(metrics, replicates, tables.method_runs(metrics),
                                    references={"student": "student", "vicokd": "student"})
    assert list(zip(table["run"], table["supervision"])) == [
        ("teacher", "AV_F"), ("student", "V_F"), ("student", "V_S"), ("vicokd", "V_F"), ("vicokd", "V_S")]
    vicokd_vf = table[(table["run"] == "vicokd") & (table["supervision"] == "V_F")].iloc[0]
    assert vicokd_vf["Home1 seeds"] == 2
    vicokd, student = Model("multitsf", "vicokd", "V_F"), Model("multitsf", "student", "V_F")
    for home in ("Home1", "Home2"):
        # the headline is sequence level (the paper's metric), frame level beside it
        seq = _map(metrics, "vicokd", "V_F", home, "sequence")  # mean over both seeds
        assert vicokd_vf[f"{home} mAP"] == pytest.approx(seq)
        # Δ pairs by seed: the student has seed 0 only
        paired = metrics[(metrics["seed"] == 0) & (metrics["home"] == home) & (metrics["level"] == "sequence")]
        assert vicokd_vf[f"{home} Δ"] == pytest.approx(
            _map(paired, "vicokd", "V_F", home, "sequence") - _map(paired, "student", "V_F", home, "sequence"))
        frame = _map(metrics, "vicokd", "V_F", home)
        assert vicokd_vf[f"{home} frame mAP"] == pytest.approx(frame)
        for column, estimate in ((f"{home} mAP", replicates.mean(vicokd, home, "sequence")),
                                 (f"{home} frame Δ", replicates.difference(vicokd, student, home, "frame"))):
            assert (vicokd_vf[column], vicokd_vf[f"{column} low"], vicokd_vf[f"{column} high"]) == pytest.approx(
                estimate[:3])
            assert vicokd_vf[f"{column} low"] <= vicokd_vf[f"{column} high"]
    assert table.loc[table["run"] == "student", "Home1 Δ"].isna().all()  # the reference itself
    assert np.isnan(table.loc[table["run"] == "teacher", "Home1 Δ"].iloc[0])  # no reference


def test_seeds_table_mean_std_count(predictions):
    metrics = tables.evaluate_predictions(predictions)
    table = tables.seeds_table(metrics, ["student", "vicokd"])
    row = table[(table["run"] == "vicokd") & (table["supervision"] == "V_F")].iloc[0]
    values = metrics[(metrics["run"] == "vicokd") & (metrics["supervision"] == "V_F")
                     & (metrics["home"] == "Home2") & (metrics["level"] == "sequence")]["map"].to_numpy()
    assert row["Home2 n"] == 2
    assert row["Home2 mean"] == pytest.approx(values.mean())
    assert row["Home2 std"] == pytest.approx(values.std(ddof=1))
    markdown = tables.seeds_markdown(tables.relabel(table, tables.run_labels(metrics)), "Table 2")
    assert f"{values.mean():.2f} ± {values.std(ddof=1):.2f} (n=2)" in markdown


def test_ablation_and_teacher_tables(predictions):
    metrics = tables.evaluate_predictions(predictions)
    replicates = _replicates(predictions)
    runs = tables.ablation_runs(metrics)
    assert runs == ["vicokd", "no_fd"]  # the ablations' base first; no_ld did not run
    ablations = tables.comparison_table(metrics, replicates, runs, references={"no_fd": "vicokd"})
    row = ablations[(ablations["run"] == "no_fd") & (ablations["supervision"] == "V_S")].iloc[0]
    assert row["Home1 frame Δ"] == pytest.approx(
        _map(metrics, "no_fd", "V_S", "Home1") - _map(metrics, "vicokd", "V_S", "Home1"))
    assert tables.teacher_runs(metrics) == ["teacher"]  # no teacher_vc run
    empty = tables.comparison_table(metrics, replicates, ["absent", "absent_vc"], {"absent_vc": "absent"})
    assert empty.empty and "No run produced" in tables.to_markdown(empty, "Table 3")


def test_markdown_formats_numbers_signs_intervals_and_missing_values():
    table = pd.DataFrame({"run": ["a", "b"], "Home1 mAP": [61.234, np.nan], "Home1 Δ": [2.94, -0.25],
                          "Home1 Δ low": [-1.23, np.nan], "Home1 Δ high": [6.81, np.nan]})
    markdown = tables.to_markdown(tables.relabel(table, {"a": "ViCoKD"}), "Table 1", note="frame level",
                                  digits=1)
    lines = markdown.splitlines()
    assert lines[0] == "## Table 1" and "frame level" in lines
    assert "| method | Home1 mAP | Home1 Δ |" in lines  # low and high go into the Δ cell
    assert "| ViCoKD | 61.2 | +2.9 [−1.2, +6.8] |" in lines
    assert "| b | — | −0.2 |" in lines  # no interval: the value alone


def test_per_class_table_has_every_class(predictions):
    metrics = tables.evaluate_predictions(predictions)
    table = tables.per_class_table(metrics)
    assert list(table.columns[-len(CLASSES):]) == list(CLASSES)
    assert len(table) == len(metrics[["backbone", "run", "supervision", "home"]].drop_duplicates())


def test_paper_comparison_puts_ours_next_to_the_paper(predictions):
    metrics = tables.evaluate_predictions(predictions)
    paper = pd.DataFrame({"home": ["Home1", "Home2"], "backbone": "multitsf", "method": "vicokd",
                          "supervision": "V_F", "map": [82.91, 91.27]})
    table = tables.paper_comparison(metrics, paper, ["teacher", "student", "vicokd"])
    row = table[(table["run"] == "vicokd") & (table["supervision"] == "V_F")].iloc[0]
    ours = _map(metrics, "vicokd", "V_F", "Home2", "sequence")
    assert row["Home2 ours"] == pytest.approx(ours) and row["Home2 n"] == 2
    assert row["Home2 ours − paper"] == pytest.approx(ours - 91.27)
    student = table[table["run"] == "student"].iloc[0]
    assert np.isnan(student["Home1 paper"]) and np.isnan(student["Home1 ours − paper"])


def test_tables_with_a_missing_slice_show_dashes_and_the_seeds_present(predictions):
    del predictions["vicokd_V_S_Home2"]  # ViCoKD V_S has no model in Home2
    del predictions["vicokd_V_F_Home2_seed1"]  # and ViCoKD V_F one seed fewer there
    metrics = tables.evaluate_predictions(predictions)
    seeds = tables.seeds_table(metrics, ["student", "vicokd"])
    row = seeds[(seeds["run"] == "vicokd") & (seeds["supervision"] == "V_S")].iloc[0]
    assert row["Home2 n"] == 0 and np.isnan(row["Home2 mean"]) and row["Home1 n"] == 1
    markdown = tables.seeds_markdown(tables.relabel(seeds, tables.run_labels(metrics)), "Table 2")
    assert "| multitsf | ViCoKD | V_S |" in markdown and markdown.splitlines()[-1].endswith("| — |")
    table = tables.comparison_table(metrics, _replicates(predictions), ["student", "vicokd"],
                                    {"vicokd": "student"})
    vs = table[(table["run"] == "vicokd") & (table["supervision"] == "V_S")].iloc[0]
    vf = table[(table["run"] == "vicokd") & (table["supervision"] == "V_F")].iloc[0]
    assert vs["Home2 seeds"] == 0 and np.isnan(vs["Home2 mAP"]) and np.isnan(vs["Home2 Δ low"])
    assert (vf["Home1 seeds"], vf["Home2 seeds"]) == (2, 1)
    assert "| ViCoKD | V_S | 1 |" in tables.to_markdown(tables.relabel(table, tables.run_labels(metrics)), "T")


def test_median_half_width_of_the_sequence_level_deltas():
    table = pd.DataFrame({"Home1 Δ": [1.0, 2.0, np.nan], "Home1 Δ low": [-1.0, 0.0, np.nan],
                          "Home1 Δ high": [3.0, 6.0, np.nan],  # half-widths 2, 3
                          "Home2 Δ": [0.0, 0.0, 0.0], "Home2 Δ low": [-1.0, -2.0, -10.0],
                          "Home2 Δ high": [1.0, 2.0, 10.0],  # 1, 2, 10
                          "Home1 frame Δ": [0.0] * 3, "Home1 frame Δ low": [-50.0] * 3,
                          "Home1 frame Δ high": [50.0] * 3})  # frame level is not the headline
    assert tables.median_half_width(table) == (2.0, 5)
