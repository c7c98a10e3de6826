"""Reporting's segment-level detection mAP, from prediction tables, against figures by hand."""
import json

import numpy as np
import pandas as pd
import pytest

from project_parameters import multisensor_home
from vicokd.reporting import segment_map
from vicokd.reporting.segment_map import held_scores, segment_map_metrics, segment_map_table

MSH = multisensor_home()
CLASSES = MSH.classes
FIRST, SECOND = CLASSES[0], CLASSES[1]
IDENTITY = {"run": "vicokd", "supervision": "V_S", "backbone": "vit", "home": "Home1",
            "label": "ViCoKD", "group": "method", "base": None, "teacher": "teacher",
            "model_version": "v1"}


def test_each_frame_holds_the_scores_of_the_nearest_scored_frame():
    scores = np.array([[0.1], [0.2], [0.3]])
    held = held_scores(np.array([7, 2, 12]), scores[[1, 0, 2]], 15)
    # midpoints 4.5 and 9.5: frames 0-4 take frame 2's, 5-9 frame 7's, 10-14 frame 12's
    np.testing.assert_array_equal(held[:, 0], [0.1] * 5 + [0.2] * 5 + [0.3] * 5)
    # a frame as near to two scored frames takes the earlier one's
    np.testing.assert_array_equal(held_scores(np.array([0, 2]), scores[:2], 3)[:, 0], [0.1, 0.1, 0.2])


def _rows(sequence_id: str, split: str, frame_scores: list[float], targets: list[int],
          seed: int) -> pd.DataFrame:
    """Frame rows at 2.5-FPS frames 2 and 7: ``frame_scores`` / ``targets`` of the first class, 0
    for the others."""
    n = len(frame_scores)
    columns = {f"score.{c}": np.zeros(n) for c in CLASSES} | {f"target.{c}": np.zeros(n) for c in CLASSES}
    columns[f"score.{FIRST}"] = np.array(frame_scores)
    columns[f"target.{FIRST}"] = np.array(targets, float)
    return pd.DataFrame({**IDENTITY, "seed": seed, "sequence_id": sequence_id, "split": split,
                         "level": "frame", "frame_index": [2, 7][:n], **columns})


def _model(seed: int, test_scores: list[float]) -> pd.DataFrame:
    sequence_rows = pd.DataFrame({**IDENTITY, "seed": seed, "sequence_id": "test1", "split": "test",
                                  "level": "sequence", "frame_index": -1,
                                  **{f"score.{c}": [0.9] for c in CLASSES},
                                  **{f"target.{c}": [1.0] for c in CLASSES}})
    return pd.concat([_rows("val1", "val", [0.9, 0.1], [1, 0], seed), sequence_rows,
                      _rows("test1", "test", test_scores, [1, 0], seed)], ignore_index=True)


#: test1 (10 frames = 4 s): the first class annotated over 0-3 s and 3.2-4 s, the second 1-2 s.
SEQUENCES = pd.DataFrame({
    "sequence_id": ["val1", "test1"], "home": "Home1", "n_frames": [10, 10],
    "tricks": [json.dumps([{"start": 0.0, "end": 2.0, "labels": [FIRST]}]),
               json.dumps([{"start": 0.0, "end": 3.0, "labels": [FIRST]},
                           {"start": 3.2, "end": 4.0, "labels": [FIRST]},
                           {"start": 1.0, "end": 2.0, "labels": [SECOND]}])]})


def test_segments_from_validation_thresholds_are_scored_at_each_tiou():
    # validation: the first class's threshold is 0.5 (F1 1; 0.95 finds nothing); the others have no
    # positive and take the pooled best, 0.5. Test: frames 0-4 hold 0.9, so one segment of the first
    # class, 0-1.8 s (frame 4's interval ends at 4.5 / 2.5 s), tIoU 1.8 / 3 = 0.6 with the first
    # annotated segment, 0 with the second: AP 1/2 at tIoU 0.3 and 0.5 (precision 1 up to recall
    # 1/2), 0 at 0.7. The second class is never found: AP 0. mAP = the mean of the two classes.
    metrics, _ = segment_map_metrics({"m": _model(0, [0.9, 0.1])}, SEQUENCES, "test", [0.5, 0.95],
                                     [0.3, 0.5, 0.7], MSH.sample_fps)
    assert metrics["tiou"].tolist() == ["0.3", "0.5", "0.7", "mean"]
    np.testing.assert_allclose(metrics["map"], [25.0, 25.0, 0.0, 50.0 / 3])
    assert (metrics[["run", "seed", "model_version"]].iloc[0].tolist() == ["vicokd", 0, "v1"])


def test_the_table_averages_over_seeds_with_one_column_per_tiou():
    # seed 1 finds nothing on test (every frame below 0.5): 0 everywhere
    metrics, _ = segment_map_metrics({"a": _model(0, [0.9, 0.1]), "b": _model(1, [0.1, 0.1])},
                                     SEQUENCES, "test", [0.5, 0.95], [0.3, 0.5, 0.7],
                                     MSH.sample_fps)
    table = segment_map_table(metrics)
    assert table.columns.tolist() == ["backbone", "run", "supervision", "home", "mAP@0.3",
                                      "mAP@0.5", "mAP@0.7", "mAP mean"]
    np.testing.assert_allclose(table.iloc[0, 4:].astype(float), [12.5, 12.5, 0.0, 25.0 / 3])


def test_a_model_without_validation_frames_is_named():
    model = _model(0, [0.9, 0.1])
    with pytest.raises(ValueError, match=r"Prediction table m2: .*no validation frame"):
        segment_map_metrics({"m2": model[model["split"] != "val"]}, SEQUENCES, "test", [0.5], [0.5],
                            MSH.sample_fps)


def test_a_model_is_read_back_until_the_model_its_annotations_or_the_settings_change(monkeypatch):
    models = {"a": _model(0, [0.9, 0.1]), "b": _model(1, [0.1, 0.1])}
    settings = ("test", [0.5, 0.95], [0.3, 0.5, 0.7], MSH.sample_fps)
    first, saved = segment_map_metrics(models, SEQUENCES, *settings)
    assert saved.keys() == {"a", "b"} and all(t["memo_key"].nunique() == 1 for t in saved.values())
    published = {name: (lambda table=table: table) for name, table in saved.items()}

    computed = []
    real = segment_map.model_segment_map
    monkeypatch.setattr(segment_map, "model_segment_map",
                        lambda table, *args: computed.append(table["seed"].iloc[0]) or real(table, *args))
    again, saved_again = segment_map_metrics(models, SEQUENCES, *settings, published)
    assert computed == [] and saved_again == {}
    pd.testing.assert_frame_equal(again, first)

    retrained = {**models, "b": models["b"].assign(model_version="v2")}
    segment_map_metrics(retrained, SEQUENCES, *settings, published)
    assert computed == [1]  # only the model whose version changed
    relabelled = SEQUENCES.assign(tricks=[SEQUENCES["tricks"][0], SEQUENCES["tricks"][0]])
    segment_map_metrics(models, relabelled, *settings, published)
    assert computed == [1, 0, 1]  # the home's annotations changed: every model of it
    segment_map_metrics(models, SEQUENCES, "test", [0.5, 0.95], [0.5], MSH.sample_fps, published)
    assert computed == [1, 0, 1, 0, 1]


def test_an_unreadable_kept_result_is_computed_again(tmp_path, caplog):
    models = {"a": _model(0, [0.9, 0.1])}
    empty = tmp_path / "a.parquet"
    empty.write_bytes(b"")  # as a run stopped while writing leaves it
    metrics, saved = segment_map_metrics(models, SEQUENCES, "test", [0.5, 0.95], [0.3, 0.5, 0.7],
                                         MSH.sample_fps, {"a": lambda: pd.read_parquet(empty)})
    assert saved.keys() == {"a"} and "cannot be read" in caplog.text and "a" in caplog.text
    np.testing.assert_allclose(metrics["map"], [25.0, 25.0, 0.0, 50.0 / 3])
