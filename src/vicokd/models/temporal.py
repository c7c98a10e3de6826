"""Transformer encoders over a token axis (frames of a view, or views of a sample)."""

import torch
from torch import nn

from vicokd.models.config import TransformerConfig
from vicokd.models.cross_modal import add_positions


class TransformerStack(nn.Module):
    """Pre-norm Transformer encoder layers with a final LayerNorm: ``(N, S, D) → (N, S, D)``.

    No positional information is added here; callers decide (order matters over frames, not
    over views).
    """

    def __init__(self, dim: int, config: TransformerConfig, dropout: float) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(
            dim, config.heads, config.mlp_dim, dropout, batch_first=True, norm_first=True
        )
        self.layers = nn.TransformerEncoder(
            layer, config.layers, norm=nn.LayerNorm(dim), enable_nested_tensor=False
        )

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.layers(tokens)


class TemporalEncoder(nn.Module):
    """Temporal Transformer over the T frames of each view, with positional encodings and an
    optional learned CLS token placed before the frames.

    Input ``(N, T, D)``; output frame features ``(N, T, D)`` and the CLS feature ``(N, D)`` (or
    None without a CLS token).
    """

    def __init__(self, dim: int, config: TransformerConfig, dropout: float, cls_token: bool):
        super().__init__()
        self.cls = nn.Parameter(torch.zeros(1, 1, dim)) if cls_token else None
        if self.cls is not None:
            nn.init.trunc_normal_(self.cls, std=0.02)
        self.stack = TransformerStack(dim, config, dropout)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        tokens = frames
        if self.cls is not None:
            tokens = torch.cat([self.cls.expand(frames.shape[0], -1, -1), frames], dim=1)
        out = self.stack(add_positions(tokens))
        if self.cls is None:
            return out, None
        return out[:, 1:], out[:, 0]
