"""The masking pipeline on a fake home with the test environment's parameters."""
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset
from kedro_datasets.text import TextDataset

from project_parameters import multisensor_home
from vicokd.data.dataset import MultiViewClipDataset
from vicokd.datasets import ArrayStoreDataset
from vicokd.detection.infer import DetectorError
from vicokd.detection.train import reusable_training
from vicokd.fingerprints import Fingerprint
from vicokd.pipelines.masking import create_pipeline, nodes
from vicokd.settings import CONFIG_LOADER_ARGS

CONF = Path(__file__).resolve().parents[3] / "conf"


def masking_params(tmp_path: Path, **overrides) -> dict:
    """The test environment's ``masking`` parameters, writing under ``tmp_path``."""
    masking = OmegaConfigLoader(str(CONF), env="test", **CONFIG_LOADER_ARGS)["parameters"]["masking"]
    masking["detector"].update(dataset_dir=str(tmp_path / "yolo"), runs_dir=str(tmp_path / "runs"),
                               weights_path=str(tmp_path / "models" / "person.pt"),
                               frame_step={"train": 1, "val": 1})  # every frame: counts by hand below
    return {**masking, **overrides}


def run_masking(tmp_path: Path, frames, truth: pd.DataFrame, splits: pd.DataFrame, masking: dict):
    """Run the pipeline; return the catalog holding its outputs."""
    catalog = DataCatalog({
        "frames": frames, "person_truth": MemoryDataset(truth), "splits": MemoryDataset(splits),
        "params:masking": MemoryDataset(masking), "params:seed": MemoryDataset(0),
        "params:dataset": MemoryDataset(multisensor_home()),
        "person_confidence": ArrayStoreDataset(str(tmp_path / "person_confidence")),
        "visibility_masks": ArrayStoreDataset(str(tmp_path / "visibility_masks")),
        "person_detector": JSONDataset(filepath=str(tmp_path / "person_detector.json")),
        "mask_quality": JSONDataset(filepath=str(tmp_path / "mask_quality.json")),
        "mask_quality_table": TextDataset(filepath=str(tmp_path / "mask_quality.md")),
    })
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def truth_visibility(truth: pd.DataFrame, sequence_id: str, n_frames: int) -> np.ndarray:
    """``(V, n)``: the row at native frame 4f (native 10 fps) — an independent lookup."""
    rows = truth[truth["sequence_id"] == sequence_id].set_index(["view", "frame"])["visible"]
    return np.array([[rows[(v, 4 * f)] for f in range(n_frames)] for v in range(1, 6)])


def test_truth_source_reproduces_visibility(tmp_path, home):
    frames, truth, splits = home
    catalog = run_masking(tmp_path, frames, truth, splits, masking_params(tmp_path, source="truth"))
    masks, store = catalog.load("visibility_masks"), frames.load()
    assert set(masks) == set(store)
    for sid in store:
        assert masks[sid].shape == store[sid].shape[:2] and masks[sid].dtype == np.uint8
        np.testing.assert_array_equal(masks[sid], truth_visibility(truth, sid, store[sid].shape[1]))
    report = catalog.load("mask_quality")
    assert set(report["homes"]) == {"Home1", "Home2"}
    assert all(s["f1"] == 1.0 and s["frames"] == 5 * 6 for s in report["homes"].values())
    assert not (tmp_path / "models").exists()  # no detector is trained for the truth source


def test_sampler_returns_masks_at_the_frames_indices(tmp_path, home, person_pixels):
    frames, truth, splits = home
    catalog = run_masking(tmp_path, frames, truth, splits, masking_params(tmp_path, source="truth"))
    sequences = splits.assign(n_frames=6, labels=[[] for _ in range(len(splits))])
    clips = MultiViewClipDataset(sequences, frames.load(), masks=catalog.load("visibility_masks"),
                                 num_frames=4, sampling="random_perturb", seed=3,
                                 classes=multisensor_home().classes)
    for epoch in range(2):
        clips.set_epoch(epoch)
        for item in clips:
            shown = person_pixels(item["frames"].permute(0, 1, 3, 4, 2).numpy())  # (V, T)
            np.testing.assert_array_equal(item["masks"].numpy(), shown.astype(np.float32))


@pytest.fixture(scope="module")
def detector_run(tmp_path_factory, home):
    tmp_path = tmp_path_factory.mktemp("detector_run")
    frames, truth, splits = home
    return tmp_path, run_masking(tmp_path, frames, truth, splits, masking_params(tmp_path))


def test_detector_source_trains_and_masks_every_frame(detector_run, home):
    tmp_path, catalog = detector_run
    store = home[0].load()
    detector = catalog.load("person_detector")
    assert detector["trained"] and Path(detector["weights"]) == tmp_path / "models" / "person.pt"
    assert Path(detector["weights"]).is_file() and detector["train_sequences"] == 2
    train_images = list((tmp_path / "yolo" / "images" / "train").glob("*.png"))
    assert len(train_images) == 2 * 5 * 6  # the train split only: 2 sequences × 5 views × 6 frames
    confidence, masks = catalog.load("person_confidence"), catalog.load("visibility_masks")
    report = catalog.load("mask_quality")
    threshold = report["threshold"]  # chosen on the val split (test parameters: threshold "val")
    assert threshold in masking_params(tmp_path)["threshold_candidates"]
    for sid in store:
        assert confidence[sid].shape == masks[sid].shape == store[sid].shape[:2]
        assert confidence[sid].dtype == np.float32
        np.testing.assert_array_equal(masks[sid], confidence[sid] >= threshold)
    assert set(report["homes"]) == {"Home1", "Home2"} and report["source"] == "detector"
    assert "| Home1 |" in catalog.load("mask_quality_table")


def test_a_second_run_on_the_same_inputs_trains_and_scores_nothing(detector_run, home, monkeypatch):
    tmp_path, first = detector_run
    detector = first.load("person_detector")
    assert detector["reused"] is False and detector["fingerprint"]
    stores = {name: first.load(name).path for name in ("person_confidence", "visibility_masks")}
    quality = (tmp_path / "mask_quality.json").read_text()

    def fail(*args, **kwargs):
        raise AssertionError("trained or scored again although nothing changed")

    for name in ("export_yolo_dataset", "train_yolo_detector", "person_confidence"):
        monkeypatch.setattr(nodes, name, fail)
    frames, truth, splits = home
    second = run_masking(tmp_path, frames, truth, splits, masking_params(tmp_path))
    again = second.load("person_detector")
    assert again["reused"] is True
    assert {k: v for k, v in again.items() if k != "reused"} == {
        k: v for k, v in detector.items() if k != "reused"}
    assert {name: second.load(name).path for name in stores} == stores  # the same generations
    assert (tmp_path / "mask_quality.json").read_text() == quality  # the report is the same


def test_other_inputs_or_other_weights_are_not_reused(detector_run, home, caplog):
    tmp_path, catalog = detector_run
    detector = catalog.load("person_detector")
    parts = json.loads((tmp_path / "models" / "person.json").read_text())["parts"]
    other_seed = Fingerprint({**parts, "settings": {**parts["settings"], "seed": 1}})
    with caplog.at_level(logging.INFO, logger="vicokd.detection.train"):
        assert reusable_training(detector["weights"], other_seed) is None
    assert "changed: settings.seed" in caplog.text
    assert reusable_training(detector["weights"], Fingerprint(parts)).reused  # the same: reused
    # the person confidence follows the weights, the frames and the scoring settings
    frames, truth, _ = home
    params = masking_params(tmp_path)
    scores = nodes.score_person_confidence(frames.load(), truth, detector, params, multisensor_home())
    assert scores.fingerprint == catalog.load("person_confidence").fingerprint
    assert nodes.score_person_confidence(frames.load(), truth, detector, {
        **params, "min_confidence": 0.5}, multisensor_home()).fingerprint != scores.fingerprint
    copy = tmp_path / "copy.pt"
    copy.write_bytes(Path(detector["weights"]).read_bytes() + b"\0")
    assert nodes.score_person_confidence(frames.load(), truth, {**detector, "weights": str(copy)},
                                         params, multisensor_home()).fingerprint != scores.fingerprint


def test_real_data_without_weights_stops(tmp_path, home):
    frames, truth, splits = home
    with pytest.raises(DetectorError, match="masking.weights"):
        run_masking(tmp_path, frames, truth.iloc[:0], splits, masking_params(tmp_path))


def test_real_data_with_weights_reports_no_ground_truth(tmp_path, home, detector_run):
    frames, truth, splits = home
    weights = detector_run[1].load("person_detector")["weights"]
    with pytest.raises(ValueError, match="masking.threshold is 'val'"):  # nothing to tune on
        run_masking(tmp_path, frames, truth.iloc[:0], splits, masking_params(tmp_path, weights=weights))
    catalog = run_masking(tmp_path, frames, truth.iloc[:0], splits,
                          masking_params(tmp_path, weights=weights, threshold=0.5))
    assert catalog.load("mask_quality")["homes"] == {}
    assert "no ground truth" in catalog.load("mask_quality_table")
    assert set(catalog.load("visibility_masks")) == set(frames.load())


def test_fixed_threshold_is_used(tmp_path, home, detector_run):
    frames, truth, splits = home
    weights = detector_run[1].load("person_detector")["weights"]
    catalog = run_masking(tmp_path, frames, truth, splits,
                          masking_params(tmp_path, weights=weights, threshold=0.0))
    assert catalog.load("mask_quality")["threshold"] == 0.0
    assert all(masks.all() for masks in catalog.load("visibility_masks").values())


def test_missing_weights_file_is_named(tmp_path, home):
    frames, truth, splits = home
    with pytest.raises(DetectorError, match="absent.pt"):
        run_masking(tmp_path, frames, truth, splits,
                    masking_params(tmp_path, weights=str(tmp_path / "absent.pt")))
