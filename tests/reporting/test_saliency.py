import numpy as np
import pandas as pd
import pytest
import torch

from project_parameters import load_parameters, multisensor_home, random_model_config
from vicokd.datasets import ArrayStoreDataset
from vicokd.datasets.array_store import StampedArrays
from vicokd.models import build_model
from vicokd.pipelines.reporting.nodes import compute_saliency_maps, plot_saliency_maps
from vicokd.reporting.saliency import box_share, grad_cam
from vicokd.reporting.settings import ReportingSettings
from vicokd.training.checkpoints import model_from_checkpoint
from vicokd.training.settings import TrainingSettings

V, T = 2, 3
DATASET = multisensor_home()
CLASSES = DATASET.classes


@pytest.fixture
def model_config() -> dict:
    """The test environment's ``model:`` block at 64 px (a 2 × 2 patch grid), a fresh copy per test."""
    config = random_model_config("test")
    config["visual_encoder"]["image_size"] = 64
    return config


def _clip(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    frames = torch.randint(0, 256, (V, T, 3, 64, 64), dtype=torch.uint8, generator=generator)
    return frames, torch.randn(V, T, 40, 128, generator=generator)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
@pytest.mark.parametrize("with_audio", [True, False])
def test_maps_per_view_and_frame_on_the_patch_grid(model_config, pooling, with_audio):
    model_config["visual_encoder"]["pooling"] = pooling
    torch.manual_seed(0)
    model = build_model(model_config, with_audio).train()
    frames, audio = _clip()
    maps = grad_cam(model, frames, audio if with_audio else None, class_index=3)
    side = 64 // model_config["visual_encoder"]["patch_size"]
    assert maps.shape == (V, T, side, side) and maps.dtype == np.float32
    assert maps.min() >= 0 and maps.max() > 0
    sequence = grad_cam(model, frames, audio if with_audio else None, 3, target="sequence")
    assert sequence.shape == maps.shape
    assert model.training  # mode restored
    assert all(p.grad is None for p in model.parameters())


def test_maps_share_one_scale_so_a_weaker_class_score_gives_weaker_maps(model_config):
    """No map is rescaled on its own: doubling the class's row of the frame head doubles its
    score, hence its gradient, hence every map (ReLU is positively homogeneous)."""
    torch.manual_seed(0)
    model = build_model(model_config, with_audio=False)
    frames, _ = _clip()
    maps = grad_cam(model, frames, None, class_index=3)
    peaks = maps.reshape(V * T, -1).max(axis=1)
    assert not np.allclose(peaks, peaks.max())  # not each map scaled to its own maximum
    with torch.no_grad():
        model.backbone.frame_head.weight[3] *= 2
        model.backbone.frame_head.bias[3] *= 2
    np.testing.assert_allclose(grad_cam(model, frames, None, class_index=3), 2 * maps, rtol=1e-4,
                               atol=1e-7)


def test_bad_arguments_are_refused(model_config):
    teacher = build_model(model_config, with_audio=True)
    frames, _ = _clip()
    with pytest.raises(ValueError, match="reads audio"):
        grad_cam(teacher, frames, None, 0)
    with pytest.raises(ValueError, match="target"):
        grad_cam(teacher, frames, None, 0, target="frame")
    with pytest.raises(ValueError, match="frames must be"):
        grad_cam(teacher, frames[0], None, 0)


def test_box_share_by_hand():
    saliency = np.array([[1.0, 2.0, 0.0, 1.0], [0.0, 0.0, 3.0, 1.0]])  # h = 2, w = 4, mass 8
    # x in [0.25, 0.625]: all of column 1, half of column 2; y in [0, 0.5]: row 0 -> 2 + 0 / 2
    assert box_share(saliency, (0.25, 0.0, 0.625, 0.5)) == pytest.approx(2 / 8)
    # x in [0.5, 1], y in [0.25, 1]: half of row 0 and all of row 1 in columns 2, 3
    assert box_share(saliency, (0.5, 0.25, 1.0, 1.0)) == pytest.approx((0.5 * 1 + 3 + 1) / 8)
    assert box_share(saliency, (0.0, 0.0, 1.0, 1.0)) == pytest.approx(1.0)
    stacked = box_share(np.stack([saliency, np.zeros_like(saliency)]), (0.0, 0.0, 0.5, 1.0))
    assert stacked[0] == pytest.approx(3 / 8) and np.isnan(stacked[1])
    with pytest.raises(ValueError, match="box"):
        box_share(saliency, (0.5, 0.0, 0.25, 1.0))


def _squares(seed: int, n: int = 16):
    """Noise frames; the even ones hold a white 16-px square somewhere in the top-right quadrant
    (class present), the odd ones none. Returns frames ``(n, 1, 1, 3, 64, 64)``, labels
    ``(n, 1)`` and each square's box in normalised coordinates."""
    generator = torch.Generator().manual_seed(seed)
    frames = torch.randint(0, 100, (n, 1, 1, 3, 64, 64), dtype=torch.uint8, generator=generator)
    boxes = []
    for i in range(n):
        y, x = torch.randint(0, 16, (2,), generator=generator).tolist()
        if i % 2 == 0:
            frames[i, 0, 0, :, y : y + 16, 32 + x : 48 + x] = 255
        boxes.append(((32 + x) / 64, y / 64, (48 + x) / 64, (y + 16) / 64))
    return frames, (torch.arange(n) % 2 == 0).float()[:, None], boxes


def test_saliency_concentrates_where_the_class_evidence_is(model_config):
    """A student (frozen random ViT with 16-px patches: a 4x4 grid) learns that a class is
    present when a white square lies in the top-right quadrant; its maps on held-out frames with
    the square put most of their mass in that quadrant (uniform: 1/4), and their peak on a patch
    the square overlaps."""
    model_config["visual_encoder"].update(patch_size=16, trainable=False)
    model_config["dropout"] = 0.0
    torch.manual_seed(0)
    model = build_model(model_config, with_audio=False)
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    present = 5
    for step in range(80):
        frames, labels, _ = _squares(step)
        logits = model(frames).frame_logits[..., present]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    frames, labels, boxes = _squares(999)
    with torch.no_grad():
        predicted = model(frames).frame_logits[..., present] > 0
    assert (predicted == labels.bool()).float().mean() >= 0.9
    shares = []
    for i in range(0, len(boxes), 2):
        saliency = grad_cam(model, frames[i], None, present)[0, 0]
        shares.append(box_share(saliency, (0.5, 0.0, 1.0, 0.5)))
        peak = (saliency == saliency.max()).astype(float)
        assert box_share(peak, boxes[i]) > 0  # the strongest patch overlaps the square
    assert min(shares) > 0.5 and np.mean(shares) > 0.8


def _checkpoint(config: dict, with_audio: bool, seed: int, label: str, supervision: str) -> dict:
    torch.manual_seed(seed)
    model = build_model(config, with_audio)
    return {"config": config, "with_audio": with_audio, "state_dict": model.state_dict(),
            "metadata": {"label": label, "run": label.lower(), "supervision": supervision,
                         "home": "Home1", "seed": 0, "model_version": f"{label}-v1"}}


def _published(checkpoints: dict) -> pd.DataFrame:
    """``model_metrics`` rows that publish each checkpoint's version."""
    return pd.DataFrame([{key: c["metadata"][key] for key in ("run", "supervision", "home", "seed",
                                                               "model_version")}
                         for c in checkpoints.values()])


def _partitions(checkpoints: dict) -> dict:
    return {name: {"Home1/seed0": (lambda c=checkpoint: c)} for name, checkpoint in checkpoints.items()}


def _computed(saliency: StampedArrays) -> dict[str, np.ndarray]:
    return {sequence_id: load() for sequence_id, load in saliency.items()}


def test_figure4_explains_frames_where_its_class_is_active_and_scored_highest(model_config):
    """Figure 4 of a test sequence whose clip (8 of 16 frames) shows class 5 in every frame but
    the first and class 2 only there: it explains class 5 at the two active frames the models
    score highest, and names them by their 2.5-FPS frame number."""
    parameters = load_parameters("test")
    training = TrainingSettings.model_validate(parameters["training"]).with_overrides(
        {"num_frames": 8})
    reporting = ReportingSettings.model_validate(parameters["reporting"])
    sequence_id, n_frames = "Home1/01/00-Part1", 16
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (5, n_frames, 64, 64, 3), dtype=np.uint8)
    log_mels = rng.normal(size=(5, n_frames, 40, 128)).astype(np.float32)
    labels = np.zeros((n_frames, len(CLASSES)), dtype=np.uint8)
    labels[3:, 5] = 1  # the clip's frames are 1, 3, 5, ..., 15
    labels[:2, 2] = 1
    checkpoints = {"teacher_model_AV_F": _checkpoint(model_config, True, 0, "Teacher", "AV_F"),
                   "student_model_V_F": _checkpoint(model_config, False, 1, "Student", "V_F")}
    splits = pd.DataFrame({"sequence_id": [sequence_id], "home": ["Home1"], "split": ["test"]})
    inputs = ({sequence_id: frames}, {sequence_id: log_mels}, {sequence_id: labels})
    saliency = compute_saliency_maps(splits, *inputs, training, _published(checkpoints),
                                     **_partitions(checkpoints))
    plots, _, _ = plot_saliency_maps(
        pd.DataFrame({"sequence_id": [sequence_id], "home": ["Home1"],
                      "labels": [[CLASSES[2], CLASSES[5]]]}),
        splits, *inputs, pd.DataFrame(), _computed(saliency), training, reporting,
        _published(checkpoints), DATASET, **_partitions(checkpoints))
    figure = plots["Home1.png"]
    assert f"Grad-CAM of {CLASSES[5]}" in figure._suptitle.get_text()
    shown = [int(axis.get_title().removeprefix("frame ")) for axis in figure.axes
             if axis.get_title().startswith("frame ")]
    assert len(shown) == reporting.attention.shown_frames
    assert all(labels[frame, 5] for frame in shown)  # the explained class is active at each
    clip = torch.from_numpy(frames[:, 1::2]).permute(0, 1, 4, 2, 3)[None]
    audio = torch.from_numpy(log_mels[:, 1::2])[None]
    with torch.no_grad():
        probability = np.mean([
            torch.sigmoid(model_from_checkpoint(c)(clip, audio if c["with_audio"] else None)
                          .frame_logits[0, :, 5]).numpy() for c in checkpoints.values()], axis=0)
    active = np.arange(1, n_frames, 2)[1:]  # clip frames 3 ... 15
    ranked = active[np.argsort(-probability[1:], kind="stable")]
    assert shown == sorted(ranked[:len(shown)].tolist())  # the active frames scored highest


class _Stamped(dict):
    """An ingested store: arrays with the fingerprint their store holds."""

    def __init__(self, arrays: dict, fingerprint: str | None):
        super().__init__(arrays)
        self.fingerprint, self.ingestion_id = fingerprint, "ingestion-1"


def test_saliency_maps_are_computed_once_per_checkpoints_and_inputs(model_config, tmp_path, monkeypatch):
    """The Grad-CAM maps of Figure 4 are stored with what they were made from: a second report of
    the same checkpoints and inputs computes nothing and reads the same maps; another
    ``model_version`` (a retrained model) computes them again."""
    training = TrainingSettings.model_validate(load_parameters("test")["training"]).with_overrides(
        {"num_frames": 4})
    rng = np.random.default_rng(0)
    ids = ["Home1/01/00-Part1", "Home1/02/00-Part1"]
    inputs = (
        _Stamped({sid: rng.integers(0, 256, (V, 8, 64, 64, 3), dtype=np.uint8) for sid in ids}, "f"),
        _Stamped({sid: rng.normal(size=(V, 8, 40, 128)).astype(np.float32) for sid in ids}, "l"),
        _Stamped({sid: np.eye(8, len(CLASSES), dtype=np.uint8) for sid in ids}, None))  # as ingested
    splits = pd.DataFrame({"sequence_id": ids, "home": "Home1", "split": "test"})
    checkpoints = {"teacher_model_AV_F": _checkpoint(model_config, True, 0, "Teacher", "AV_F"),
                   "student_model_V_F": _checkpoint(model_config, False, 1, "Student", "V_F")}
    store = ArrayStoreDataset(path=str(tmp_path / "figure4_saliency"))
    computed = []
    original = compute_saliency_maps.__globals__["human_centric"].saliency_maps
    monkeypatch.setattr(compute_saliency_maps.__globals__["human_centric"], "saliency_maps",
                        lambda *args: computed.append(1) or original(*args))

    store.save(compute_saliency_maps(splits, *inputs, training, _published(checkpoints),
                                     **_partitions(checkpoints)))
    first = {sid: np.array(store.load()[sid]) for sid in ids}
    assert len(computed) == 2 and first[ids[0]].shape[:3] == (2, V, 4)  # (models, views, T, h, w)
    store.save(compute_saliency_maps(splits, *inputs, training, _published(checkpoints),
                                     **_partitions(checkpoints)))
    assert len(computed) == 2  # nothing computed again
    for sid in ids:
        np.testing.assert_array_equal(store.load()[sid], first[sid])

    checkpoints["student_model_V_F"]["metadata"]["model_version"] = "Student-v2"
    store.save(compute_saliency_maps(splits, *inputs, training, _published(checkpoints),
                                     **_partitions(checkpoints)))
    assert len(computed) == 4
