"""The three backbones: how per-view features become frame and sequence predictions.

All three share a temporal Transformer over the T frames of each view (views folded into the
batch) and a linear per-frame head; they differ in how views are fused and scored:

- MultiTSF: CLS token per view; frame logits = max over views of the per-view frame logits; a
  Transformer across the view axis over the per-view CLS tokens, mean-pooled, feeds the sequence
  head; an auxiliary human-presence head per (view, frame).
- MultiASL: frame logits = max over views; action selection: each frame's score for class c is
  its class logit plus an actionness logit (from the max-over-views features), the top
  k = max(1, T // 8) frames per class are selected, and the sequence logit is the mean of their
  scores (so actionness learns from sequence labels).
- MultiTrans: a Transformer across sensors at each frame (tokens = the V views of one frame,
  no view embedding, so fusion does not depend on view order); per-view frame logits from the
  fused tokens, frame logits from their mean over views, sequence logits from the temporal mean.
"""

from dataclasses import dataclass

import torch
from torch import nn

from vicokd.models.config import ModelConfig
from vicokd.models.temporal import TemporalEncoder, TransformerStack


@dataclass
class FusionOutput:
    """Predictions of a backbone; shapes as in :class:`vicokd.models.ModelOutput`."""

    f_fusion: torch.Tensor  # (B, V, T, D) temporal encoder output per view
    view_frame_logits: torch.Tensor  # (B, V, T, C)
    frame_logits: torch.Tensor  # (B, T, C)
    sequence_logits: torch.Tensor  # (B, C)
    presence_logits: torch.Tensor | None = None  # (B, V, T)


class Backbone(nn.Module):
    """Temporal encoder per view + frame head; subclasses implement :meth:`fuse`."""

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
        tokens, cls = self.temporal(f_av.reshape(batch * views, frames, dim))
        f_fusion = tokens.reshape(batch, views, frames, dim)
        if cls is not None:
            cls = cls.reshape(batch, views, dim)
        return self.fuse(f_fusion, cls)

    def fuse(self, f_fusion: torch.Tensor, cls: torch.Tensor | None) -> FusionOutput:
        raise NotImplementedError


class MultiTSF(Backbone):
    """Temporal Transformer with CLS per view, view-axis Transformer, presence head."""

    uses_cls_token = True

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.view_fusion = TransformerStack(config.dim, config.view_fusion, config.dropout)
        self.sequence_head = nn.Linear(config.dim, config.num_classes)
        self.presence_head = nn.Linear(config.dim, 1)

    def fuse(self, f_fusion: torch.Tensor, cls: torch.Tensor | None) -> FusionOutput:
        view_frame_logits = self.frame_head(self.dropout(f_fusion))
        fused_views = self.view_fusion(cls)  # (B, V, D): attention runs over the view axis
        sequence_logits = self.sequence_head(self.dropout(fused_views.mean(dim=1)))
        return FusionOutput(
            f_fusion=f_fusion,
            view_frame_logits=view_frame_logits,
            frame_logits=view_frame_logits.amax(dim=1),
            sequence_logits=sequence_logits,
            presence_logits=self.presence_head(f_fusion).squeeze(-1),
        )


class MultiASL(Backbone):
    """Max over views and action selection of the top T/8 frames per class."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.actionness_head = nn.Linear(config.dim, 1)

    def fuse(self, f_fusion: torch.Tensor, cls: torch.Tensor | None) -> FusionOutput:
        view_frame_logits = self.frame_head(self.dropout(f_fusion))
        frame_logits = view_frame_logits.amax(dim=1)  # (B, T, C)
        actionness = self.actionness_head(f_fusion.amax(dim=1))  # (B, T, 1)
        scores = frame_logits + actionness
        k = max(1, scores.shape[1] // 8)
        selected = scores.topk(k, dim=1).values  # (B, k, C)
        return FusionOutput(
            f_fusion=f_fusion,
            view_frame_logits=view_frame_logits,
            frame_logits=frame_logits,
            sequence_logits=selected.mean(dim=1),
        )


class MultiTrans(Backbone):
    """Transformer fusion across sensors (over the V views of each frame)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.view_fusion = TransformerStack(config.dim, config.view_fusion, config.dropout)
        self.sequence_head = nn.Linear(config.dim, config.num_classes)

    def fuse(self, f_fusion: torch.Tensor, cls: torch.Tensor | None) -> FusionOutput:
        batch, views, frames, dim = f_fusion.shape
        per_frame = f_fusion.transpose(1, 2).reshape(batch * frames, views, dim)
        fused = self.view_fusion(per_frame).reshape(batch, frames, views, dim).transpose(1, 2)
        fused = self.dropout(fused)
        pooled_views = fused.mean(dim=1)  # (B, T, D)
        return FusionOutput(
            f_fusion=f_fusion,
            view_frame_logits=self.frame_head(fused),
            frame_logits=self.frame_head(pooled_views),
            sequence_logits=self.sequence_head(pooled_views.mean(dim=1)),
        )


BACKBONE_CLASSES: dict[str, type[Backbone]] = {
    "multitsf": MultiTSF,
    "multiasl": MultiASL,
    "multitrans": MultiTrans,
}
