"""Positional encoding, cross-modal attention (Q = video, K = V = audio) and the adapter."""

import math

import torch
from torch import nn


def sinusoidal_positions(length: int, dim: int, device=None, dtype=None) -> torch.Tensor:
    """Fixed sine / cosine positional encodings ``(length, dim)`` (Vaswani et al., 2017)."""
    position = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    frequency = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim)
    )
    table = torch.zeros(length, dim, device=device, dtype=torch.float32)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: dim // 2])
    return table.to(dtype or torch.float32)


def add_positions(x: torch.Tensor) -> torch.Tensor:
    """``x + PE`` for a sequence ``(N, T, D)``."""
    return x + sinusoidal_positions(x.shape[1], x.shape[2], x.device, x.dtype)


class CrossModalAttention(nn.Module):
    """``F^attn = CrossAttn(Q = F^V + PE, K = V = F^A + PE)`` and ``F^AV = F^V + F^attn``.

    Input: visual, audio ``(N, T, D)``. Output: ``f_attn, f_av (N, T, D)`` and the attention
    weights averaged over heads ``(N, T_query, T_key)``.
    """

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)

    def forward(
        self, visual: torch.Tensor, audio: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        query, key = add_positions(visual), add_positions(audio)
        f_attn, weights = self.attention(
            query, key, key, need_weights=True, average_attn_weights=True
        )
        return f_attn, visual + f_attn, weights


class CrossModalAdapter(nn.Module):
    """Pseudo-audio features from visual ones: Linear → ReLU → Linear, ``(..., D) → (..., D)``."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))

    def forward(self, visual: torch.Tensor) -> torch.Tensor:
        return self.layers(visual)
