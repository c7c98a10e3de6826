"""Load a YOLO person detector and score every frame of a sequence in batches."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from vicokd.detection.env import import_ultralytics


class DetectorError(ValueError):
    """A weights file that is missing, unreadable or has no person class."""


def load_person_detector(weights: str | Path, person_class: str = "person") -> tuple[Any, int]:
    """Load YOLO weights and find the index of the class named ``person_class``.

    Returns:
        the ``ultralytics.YOLO`` model and the person class index.
    Raises:
        DetectorError: the file is missing or unreadable, or its model has no ``person_class``.
    """
    path = Path(weights)
    if not path.is_file():
        raise DetectorError(f"Person detector weights {path} do not exist (masking.weights).")
    ultralytics = import_ultralytics()
    try:
        model = ultralytics.YOLO(str(path), task="detect")
    except Exception as error:  # ultralytics raises TypeError/RuntimeError/... for damaged files
        raise DetectorError(f"Person detector weights {path} cannot be read as a YOLO model: "
                            f"{error}") from error
    names = {int(k): str(v) for k, v in dict(model.names).items()}
    matches = [index for index, name in names.items() if name == person_class]
    if not matches:
        raise DetectorError(f"Person detector weights {path} have no class named {person_class!r} "
                            f"(classes: {sorted(set(names.values()))[:10]}...).")
    return model, matches[0]


def person_confidence(
    model: Any,
    frames: np.ndarray,
    person_class: int,
    imgsz: int = 64,
    batch_size: int = 64,
    min_confidence: float = 0.01,
    device: str = "cpu",
) -> np.ndarray:
    """Person confidence of every frame: the maximum confidence over the detector's person boxes.

    The frames go through ultralytics' own predictor in batches (its letterbox, network and
    non-maximum suppression, as ``model.predict`` runs them), without the per-image results
    objects ``predict`` builds (boxes scaled back, copies of the frames), which cost a third of the
    time at 64 px.

    Args:
        model: an ``ultralytics.YOLO`` detector.
        frames: ``(V, n, H, W, 3)`` uint8 RGB.
        person_class: the index of the person class in ``model.names``.
        imgsz: inference image size (the training size).
        batch_size: frames per forward pass.
        min_confidence: boxes at or below this confidence are dropped, so such frames score 0.
        device: torch device of the forward passes.
    Returns:
        ``(V, n)`` float32 in [0, 1]; 0 where the detector finds no person box.
    """
    from ultralytics.utils.nms import non_max_suppression  # ultralytics is imported with the model

    n_views, n_frames = frames.shape[:2]
    flat = np.asarray(frames).reshape(n_views * n_frames, *frames.shape[2:])
    predictor = _predictor(model, imgsz, person_class, min_confidence, device)
    args = predictor.args
    scores = np.zeros(len(flat), dtype=np.float32)
    for start in range(0, len(flat), batch_size):
        images = predictor.preprocess([image[..., ::-1] for image in flat[start:start + batch_size]])
        with torch.inference_mode():
            boxes = non_max_suppression(predictor.model(images), args.conf, args.iou, args.classes,
                                        args.agnostic_nms, max_det=args.max_det, nc=0,
                                        end2end=getattr(predictor.model, "end2end", False))
        for offset, kept in enumerate(boxes):
            scores[start + offset] = float(kept[:, 4].max()) if len(kept) else 0.0
    return scores.reshape(n_views, n_frames)


def _predictor(model: Any, imgsz: int, person_class: int, min_confidence: float,
               device: str) -> Any:
    """``model``'s ultralytics predictor, set up (network fused, arguments set) by predicting one
    blank frame with these settings; torch keeps the threads it had (ultralytics sets its CPU
    threads to one fewer than the machine's CPUs when it first picks the device)."""
    threads = torch.get_num_threads()
    blank = np.zeros((imgsz, imgsz, 3), dtype=np.uint8)
    model.predict([blank], imgsz=imgsz, conf=min_confidence, classes=[person_class], batch=1,
                  device=device, verbose=False)
    torch.set_num_threads(threads)
    return model.predictor
