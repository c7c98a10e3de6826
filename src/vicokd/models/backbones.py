"""The three backbones: how per-view features become frame and sequence predictions.

All three run a temporal Transformer over the T frames of each view (views folded into the batch)
and one linear frame classifier. In every backbone the sequence logits are computed from the frame
logits, so a sequence loss alone trains the frame classifier and everything below it (PAPER
Sec. 3.1: "temporal average pooling followed by classification"; the sequence labels alone
supervise the frames under V_S). Each also returns the frame classifier applied to every view's
temporal features before any view fusion (``view_frame_logits_before_fusion``: the per-view frame
logits of the authors' MultiTSF code), which view consistency may compare instead.

- MultiTSF (as in the public MultiTSF code, thanhhff/MultiTSF
  ``models/cnn2d_transformer/cnn2d_transformer.py``, with the attention axes fixed): a learned CLS
  token joins each view's frames in the temporal Transformer (a global token the frames attend
  to; its output is not a prediction); a Transformer across sensors then attends over the V view
  tokens of each frame (sensor fusion, never across samples or frames); the frame classifier gives
  per-view frame logits, frame logits are their max over views, and sequence logits the temporal
  mean of the frame logits. A human-presence head (one logit per view and frame, on the temporal
  features) is trained from the person detector's confidence.
- MultiASL (as in thanhhff/MultiASL ``main_mm.py`` / ``models/cnn2d_transformer``): frame logits
  (the class activation sequence) are the max over views of per-view frame logits; two actionness
  streams (sigmoid of a linear map of the max-over-views features before and after the temporal
  Transformer) and the class-activation softmax select the top ``k = max(1, T // 8)`` frames per
  class, and the sequence logit is the mean class activation of those frames
  (:mod:`vicokd.models.action_selection`; actionness is trained by its
  ``action_selection_loss`` from the sequence labels).
- MultiTrans: the same sensor-fusion Transformer over the V views of each frame (no view embedding,
  so fusion does not depend on view order); per-view frame logits from the fused tokens, frame
  logits their mean over views, sequence logits the temporal mean of the frame logits (equal to
  classifying the temporal average of the view-averaged features, the classifier being linear).
"""

from dataclasses import dataclass

import torch
from torch import nn

from vicokd.models.action_selection import select_frames, selected_mean
from vicokd.models.config import ModelConfig
from vicokd.models.temporal import TemporalEncoder, TransformerStack


@dataclass
class FusionOutput:
    """Predictions of a backbone; shapes as in :class:`vicokd.models.ModelOutput`."""

    f_fusion: torch.Tensor  # (B, V, T, D) temporal encoder output per view
    view_frame_logits: torch.Tensor  # (B, V, T, C)
    view_frame_logits_before_fusion: torch.Tensor  # (B, V, T, C) frame head on f_fusion
    frame_logits: torch.Tensor  # (B, T, C)
    sequence_logits: torch.Tensor  # (B, C)
    presence_logits: torch.Tensor | None = None  # (B, V, T), MultiTSF
    actionness: torch.Tensor | None = None  # (B, 2, T) probabilities, MultiASL
    selected_frames: torch.Tensor | None = None  # (B, k, C) frame indices, MultiASL


def attend_across_views(stack: TransformerStack, features: torch.Tensor) -> torch.Tensor:
    """Run ``stack`` over the V view tokens of each frame: ``(B, V, T, D) → (B, V, T, D)``."""
    batch, views, frames, dim = features.shape
    per_frame = features.transpose(1, 2).reshape(batch * frames, views, dim)
    return stack(per_frame).reshape(batch, frames, views, dim).transpose(1, 2)


class Backbone(nn.Module):
    """Temporal encoder per view + frame classifier; subclasses implement :meth:`fuse`."""

    uses_cls_token = False

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.temporal = TemporalEncoder(
            config.dim, config.temporal, config.dropout, cls_token=self.uses_cls_token
        )
        self.dropout = nn.Dropout(config.dropout)
        self.frame_head = nn.Linear(config.dim, config.num_classes)

    def forward(self, f_av: torch.Tensor) -> FusionOutput:
        """``f_av (B, V, T, D) → FusionOutput``."""
        batch, views, frames, dim = f_av.shape
        tokens, _ = self.temporal(f_av.reshape(batch * views, frames, dim))
        return self.fuse(f_av, tokens.reshape(batch, views, frames, dim))

    def fuse(self, f_av: torch.Tensor, f_fusion: torch.Tensor) -> FusionOutput:
        """``f_av``, ``f_fusion (B, V, T, D)`` (before / after the temporal encoder)."""
        raise NotImplementedError

    def classify_frames(self, features: torch.Tensor) -> torch.Tensor:
        """The frame classifier: ``(B, V, T, D) → (B, V, T, C)``."""
        return self.frame_head(self.dropout(features))


class MultiTSF(Backbone):
    """CLS token in the temporal Transformer, sensor fusion across views, max over views,
    presence head."""

    uses_cls_token = True

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.view_fusion = TransformerStack(config.dim, config.view_fusion, config.dropout)
        self.presence_head = nn.Linear(config.dim, 1)

    def fuse(self, f_av: torch.Tensor, f_fusion: torch.Tensor) -> FusionOutput:
        fused = attend_across_views(self.view_fusion, f_fusion)
        view_frame_logits = self.classify_frames(fused)
        frame_logits = view_frame_logits.amax(dim=1)
        return FusionOutput(
            f_fusion=f_fusion,
            view_frame_logits=view_frame_logits,
            view_frame_logits_before_fusion=self.classify_frames(f_fusion),
            frame_logits=frame_logits,
            sequence_logits=frame_logits.mean(dim=1),
            presence_logits=self.presence_head(f_fusion).squeeze(-1),
        )


class MultiASL(Backbone):
    """Max over views and action selection of the top T/8 frames per class."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.actionness_input = nn.Linear(config.dim, 1)  # on F^AV (before the temporal encoder)
        self.actionness_temporal = nn.Linear(config.dim, 1)  # on F^Fusion

    def fuse(self, f_av: torch.Tensor, f_fusion: torch.Tensor) -> FusionOutput:
        view_frame_logits = self.classify_frames(f_fusion)  # no view fusion: the same before it
        frame_logits = view_frame_logits.amax(dim=1)  # (B, T, C) class activation sequence
        streams = [
            self.actionness_input(f_av.amax(dim=1)),  # (B, T, 1)
            self.actionness_temporal(f_fusion.amax(dim=1)),
        ]
        actionness = torch.cat(streams, dim=-1).sigmoid().transpose(1, 2)  # (B, 2, T)
        selected = select_frames(frame_logits, actionness)
        return FusionOutput(
            f_fusion=f_fusion,
            view_frame_logits=view_frame_logits,
            view_frame_logits_before_fusion=view_frame_logits,
            frame_logits=frame_logits,
            sequence_logits=selected_mean(frame_logits, selected),
            actionness=actionness,
            selected_frames=selected,
        )


class MultiTrans(Backbone):
    """Transformer fusion across sensors (over the V views of each frame), mean over views."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.view_fusion = TransformerStack(config.dim, config.view_fusion, config.dropout)

    def fuse(self, f_av: torch.Tensor, f_fusion: torch.Tensor) -> FusionOutput:
        fused = attend_across_views(self.view_fusion, f_fusion)
        view_frame_logits = self.classify_frames(fused)
        frame_logits = view_frame_logits.mean(dim=1)
        return FusionOutput(
            f_fusion=f_fusion,
            view_frame_logits=view_frame_logits,
            view_frame_logits_before_fusion=self.classify_frames(f_fusion),
            frame_logits=frame_logits,
            sequence_logits=frame_logits.mean(dim=1),
        )


BACKBONE_CLASSES: dict[str, type[Backbone]] = {
    "multitsf": MultiTSF,
    "multiasl": MultiASL,
    "multitrans": MultiTrans,
}
