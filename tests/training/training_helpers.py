"""Helpers of the training tests: typed training blocks written out as a run table row would write
them, and a tiny model and clip dataset in the shapes of vicokd.models / vicokd.data, fast enough
for the training-loop tests."""
import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from vicokd.models import ModelOutput
from vicokd.training.recipes import Recipe, Supervision
from vicokd.training.settings import TrainingSettings

V, T, H, W, C, D, L = 5, 4, 8, 8, 16, 6, 4


class TinyModel(nn.Module):
    """Mean colour per view and frame → linear features → per-view logits; max over views."""

    def __init__(self, with_audio: bool = False):
        super().__init__()
        self.with_audio = with_audio
        self.features = nn.Linear(3, D)
        self.dropout = nn.Dropout(0.5)
        self.head = nn.Linear(D, C)

    @property
    def frame_head(self) -> nn.Module:
        return self.head

    def forward(self, frames, audio=None):
        x = frames.float().mean(dim=(-1, -2)) / 255.0  # (B, V, T, 3)
        f = self.dropout(torch.relu(self.features(x)))  # (B, V, T, D)
        view_logits = self.head(f)
        frame_logits = view_logits.amax(dim=1)
        return ModelOutput(
            view_frame_logits=view_logits, frame_logits=frame_logits,
            sequence_logits=frame_logits.mean(dim=1), f_visual=f, f_audio=f, f_attn=f, f_av=f,
            f_fusion=f, cross_attention=torch.zeros(*f.shape[:3], f.shape[2]),
        )


class RandomClips(Dataset):
    """Deterministic clips whose colour encodes the labels; ``set_epoch`` changes the frames."""

    def __init__(self, count: int, seed: int = 0, frame_labels: bool = True):
        self.count, self.seed, self.frame_labels, self.epoch = count, seed, frame_labels, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self):
        return self.count

    def __getitem__(self, i):
        rng = np.random.default_rng([self.seed, self.epoch, i])
        labels = (rng.random((T, C)) < 0.2).astype(np.uint8)
        labels[:, i % C] = 1
        frames = rng.integers(0, 50, (V, T, 3, H, W)).astype(np.uint8)
        frames[:, :, i % 3] += np.uint8(100)
        item = {
            "frames": torch.from_numpy(frames),
            "audio": torch.from_numpy(rng.standard_normal((V, T, L, 128)).astype(np.float32)),
            "masks": torch.from_numpy((rng.random((V, T)) < 0.7).astype(np.uint8)),
            "person_confidence": torch.from_numpy(rng.random((V, T)).astype(np.float32)),
            "sequence_labels": torch.from_numpy(labels.max(axis=0)),
            "indices": torch.arange(T),
            "sequence_id": f"Home1/01/{i:02d}-Part1",
        }
        if self.frame_labels:
            item["frame_labels"] = torch.from_numpy(labels)
        return item




def make_supervision(frame: float = 1.0, sequence: float = 1.0, presence: float = 0.0,
                     actionness: float = 0.0, audio: bool = False,
                     presence_loss: str = "bce") -> Supervision:
    """A supervision level with these weights (Two-way temperatures 4 and 1)."""
    return Supervision(name="level", audio=audio, frame=frame, sequence=sequence, presence=presence,
                       presence_loss=presence_loss, actionness=actionness, tp=4.0, tn=1.0)


#: Complete recipe blocks, as a run table row writes them.
FEATURE = {"weight": 1.0, "features": ["f_attn", "f_av"]}
LOGIT = {"weight": 1.0, "temperature": 4.0}
VIEW_CONSISTENCY = {"weight": 1.0, "logits": "fused", "probabilities": "softmax",
                    "confidence_weighting": True, "use_mask": True, "divergence": "js",
                    "normalisation": "pairs_frames", "target": "symmetric"}


def make_recipe(**blocks) -> Recipe:
    """A recipe from complete blocks (e.g. ``make_recipe(logit=LOGIT)``)."""
    return Recipe.model_validate(blocks)


def make_settings(**overrides) -> TrainingSettings:
    """Training settings for the loop tests (3 epochs of batch 4, lr 1e-2, CPU, no progress bar)."""
    values = {
        "epochs": 3, "batch_size": 4, "learning_rate": 1e-2, "weight_decay": 5e-4, "num_frames": 4,
        "accelerator": "cpu", "devices": 1, "num_nodes": 1, "strategy": "auto",
        "precision": "bf16-mixed", "accumulate_grad_batches": 1, "gradient_checkpointing": False,
        "num_workers": 0, "pin_memory": True, "prefetch_factor": 2, "num_threads": 1, "parallel_jobs": 1,
        "eval_batch_size": 4, "test_every_epoch": False, "cache_arrays": False, "resume": True, "checkpoint_every_s": 0, "progress": False,
        "checkpoint_dir": "runs",
        "spec_augment": {"enabled": False, "freq_mask_width": 48, "time_mask_width": 8,
                         "num_freq_masks": 1, "num_time_masks": 1},
    }
    return TrainingSettings(**{**values, **overrides})
