"""Training YOLOv10n offline on a handful of frames, batched inference, and weights errors."""
import socket

import numpy as np
import pytest
import torch

from vicokd.detection.env import import_ultralytics
from vicokd.detection.infer import DetectorError, load_person_detector, person_confidence
from vicokd.detection.train import train_yolo_detector
from vicokd.detection.yolo_export import export_yolo_dataset

SIZE = 32


def _frames_and_truth(n_frames: int, seed: int):
    """(5, n, 32, 32, 3) frames with a red 'person' box in odd frames, and the matching truth."""
    rng = np.random.default_rng(seed)
    frames = np.full((5, n_frames, SIZE, SIZE, 3), 90, dtype=np.uint8)
    visible = np.zeros((5, n_frames), dtype=bool)
    boxes = np.full((5, n_frames, 4), np.nan)
    for v in range(5):
        for f in range(1, n_frames, 2):
            x, y = rng.integers(0, SIZE - 12, 2)
            frames[v, f, y:y + 12, x:x + 6] = (220, 40, 40)
            visible[v, f] = True
            boxes[v, f] = (x / SIZE, y / SIZE, (x + 6) / SIZE, (y + 12) / SIZE)
    return frames, (visible, boxes)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A YOLOv10n trained for one epoch with every socket connection refused."""
    folder = tmp_path_factory.mktemp("detector")
    train, val = _frames_and_truth(4, 0), _frames_and_truth(2, 1)
    data_yaml = export_yolo_dataset({"a": train[0], "b": val[0]}, {"a": train[1], "b": val[1]},
                                    {"train": ["a"], "val": ["b"]}, folder / "yolo")
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", refuse)
        patch.setattr(socket.socket, "connect", refuse)
        run = train_yolo_detector(data_yaml, folder / "out" / "person.pt", folder / "runs",
                                  epochs=1, imgsz=SIZE, batch=8, val=False)
    return run, attempts, folder


def test_training_is_offline_and_writes_loadable_weights(trained):
    run, attempts, folder = trained
    assert attempts == []
    assert run.weights == folder / "out" / "person.pt" and run.weights.is_file()
    assert (folder / "runs" / "person_detector").is_dir() and run.seconds > 0
    model, person = load_person_detector(run.weights)
    assert model.names[person] == "person"


def test_person_confidence_is_one_score_per_view_and_frame(trained):
    model, person = load_person_detector(trained[0].weights)
    frames, _ = _frames_and_truth(3, 2)
    scores = person_confidence(model, frames, person, imgsz=SIZE, batch_size=4, min_confidence=0.0)
    assert scores.shape == (5, 3) and scores.dtype == np.float32
    assert ((scores > 0) & (scores <= 1)).all()  # no confidence floor: every frame has a best box
    # batching does not change the result, and the frame order is kept
    np.testing.assert_allclose(person_confidence(model, frames, person, imgsz=SIZE, batch_size=15,
                                                 min_confidence=0.0), scores, atol=1e-5)
    np.testing.assert_allclose(person_confidence(model, frames[:, ::-1], person, imgsz=SIZE,
                                                 batch_size=4, min_confidence=0.0),
                               scores[:, ::-1], atol=1e-5)



def test_person_confidence_equals_ultralytics_predict_and_keeps_the_torch_threads():
    """The batched pass gives exactly what ``YOLO.predict`` gives (the maximum confidence of its
    person boxes, 0 without one), with no floor and with a floor that drops some frames, and
    leaves torch's thread count as it found it. The detector is a randomly initialised YOLOv10n
    whose class convolutions are redrawn so that its confidences differ from frame to frame (as
    initialised, and after a short training, it gives every frame the same one)."""
    torch.manual_seed(0)
    model, person = import_ultralytics().YOLO("yolov10n.yaml", task="detect"), 0
    head = model.model.model[-1]
    for stage in (*head.cv3, *head.one2one_cv3):
        torch.nn.init.normal_(stage[-1].weight)
        torch.nn.init.zeros_(stage[-1].bias)
    frames = np.random.default_rng(3).integers(0, 256, (5, 4, SIZE, SIZE, 3), dtype=np.uint8)
    flat = frames.reshape(-1, SIZE, SIZE, 3)

    def predicted(min_confidence):
        results = model.predict([image[..., ::-1] for image in flat], imgsz=SIZE,
                                conf=min_confidence, classes=[person], batch=len(flat),
                                verbose=False)
        return np.array([r.boxes.conf.max().item() if len(r.boxes) else 0.0 for r in results],
                        np.float32).reshape(5, 4)

    unfloored = predicted(0.0)
    floor = float(np.median(unfloored))
    for min_confidence in (0.0, floor):
        expected = predicted(min_confidence)
        torch.set_num_threads(1)
        scores = person_confidence(model, frames, person, imgsz=SIZE, batch_size=7,
                                   min_confidence=min_confidence)
        assert torch.get_num_threads() == 1
        np.testing.assert_array_equal(scores, expected)
    assert (expected == 0).any() and (expected > floor).any()  # the floor dropped some frames

def test_missing_weights_are_named(tmp_path):
    with pytest.raises(DetectorError, match="nope.pt"):
        load_person_detector(tmp_path / "nope.pt")


def test_unreadable_weights_are_named(tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(DetectorError, match="broken.pt"):
        load_person_detector(broken)


def test_weights_without_person_class_are_named(trained, tmp_path):
    model = import_ultralytics().YOLO(str(trained[0].weights))
    model.model.names = {0: "chair"}
    model.save(tmp_path / "chairs.pt")
    with pytest.raises(DetectorError, match="chairs.pt.*'person'"):
        load_person_detector(tmp_path / "chairs.pt")
