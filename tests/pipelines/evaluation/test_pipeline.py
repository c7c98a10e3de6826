"""`kedro run --pipelines evaluation` on the project trained from simulated mp4s: a checkpoint scored
on its own test split reproduces reporting's figures, and the segment-level detection mAP is the one
of the segments it writes."""
import io
import json

import pandas as pd
import pytest
from recorded_project import RUN

from vicokd.data.annotations import CLASSES
from vicokd.inference.detection import segment_detection_map
from vicokd.inference.segments import annotation_segments
from vicokd.reporting.tables import evaluate_predictions

MODEL = {"run": RUN, "supervision": "V_S", "home": "Home2", "seed": 0}


@pytest.fixture(scope="module")
def evaluated(recorded):
    recorded.run(["evaluation"], {"evaluation": {"model": MODEL, "split": "test"}})
    return recorded.data


def test_metrics_reproduce_reportings_figures_for_the_same_model_and_split(evaluated):
    metrics = pd.read_csv(evaluated / "08_reporting/evaluation/metrics.csv")
    # what reporting computes (evaluate_predictions -> model_metrics.csv) from training's predictions
    predictions = pd.read_parquet(evaluated / "07_model_output/predictions" / RUN / "V_S/Home2/seed0.parquet")
    reported = evaluate_predictions({"student_V_S": predictions}, split="test")
    reported = pd.read_csv(io.StringIO(reported.to_csv(index=False)))  # as model_metrics.csv holds it
    assert list(metrics.columns) == list(reported.columns)
    assert metrics["level"].tolist() == reported["level"].tolist() == ["frame", "sequence", "pooled_frames"]
    pd.testing.assert_frame_equal(metrics, reported, check_dtype=False, atol=1e-9, rtol=0)
    per_class = pd.read_csv(evaluated / "08_reporting/evaluation/per_class_ap.csv")
    assert per_class.loc[0, "mAP"] == pytest.approx(reported.loc[reported["level"] == "sequence", "map"].item())
    report = (evaluated / "08_reporting/evaluation/report.md").read_text()
    splits = pd.read_parquet(evaluated / "03_primary/splits.parquet")
    test = splits[(splits["home"] == "Home2") & (splits["split"] == "test")]
    assert f"scored on {len(test)} sequences of Home2" in report
    assert "## Segment-level detection mAP" in report


def test_segment_map_is_the_detection_map_of_the_written_segments(evaluated):
    table = pd.read_csv(evaluated / "08_reporting/evaluation/segment_map.csv")
    segments = pd.read_csv(evaluated / "08_reporting/evaluation/segments.csv")
    sequences = pd.read_parquet(evaluated / "02_intermediate/sequences.parquet").set_index("sequence_id")
    test_ids = sorted(pd.read_parquet(evaluated / "03_primary/splits.parquet").query(
        "home == 'Home2' and split == 'test'")["sequence_id"])
    assert set(segments["recording"]) <= set(test_ids) and set(segments["class"]) <= set(CLASSES)
    truth = pd.concat([annotation_segments(json.loads(sequences.loc[i, "tricks"])).assign(recording=i)
                       for i in test_ids])
    expected = segment_detection_map(segments, truth, (0.3, 0.5, 0.7))
    assert table["tiou"].astype(str).tolist() == ["0.3", "0.5", "0.7", "mean"]
    assert table["map"].tolist() == pytest.approx(expected["map"].tolist())
    assert set(table["run"]) == {RUN} and set(table["split"]) == {"test"}
