"""SpecAugment of the teacher's audio: frequency and time masks on every log-mel chunk.

torchaudio's ``FrequencyMasking`` and ``TimeMasking`` (``iid_masks=True``: each chunk its own masks)
draw from torch's global generator on the spectrogram's device. Here they draw, on the CPU, masks
for an all-ones stand-in of each axis inside a forked RNG seeded from the caller's
``torch.Generator``: the masks depend only on that generator (the same on CPU and GPU), and torch's
global random state is left as it was.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torchaudio.transforms import FrequencyMasking, TimeMasking


class SpecAugment(nn.Module):
    """Masks whole mel bands and whole spectrogram frames of each log-mel chunk (Park et al., 2019);
    one mask of each per chunk by default, as in AST's AudioSet recipe.

    Args:
        freq_mask_width: a band's width is drawn uniformly from ``[0, freq_mask_width)`` mel bins.
        time_mask_width: a mask's length is drawn uniformly from ``[0, time_mask_width)`` frames.
        num_freq_masks: frequency masks per chunk (0: none).
        num_time_masks: time masks per chunk (0: none).
        fill_value: the value of masked entries; 0 is AudioSet's mean after AST normalisation.
        enabled: False makes the module return its input unchanged.
    """

    def __init__(
        self,
        freq_mask_width: int,
        time_mask_width: int,
        num_freq_masks: int = 1,
        num_time_masks: int = 1,
        fill_value: float = 0.0,
        enabled: bool = True,
    ):
        super().__init__()
        if min(freq_mask_width, time_mask_width, num_freq_masks, num_time_masks) < 0:
            raise ValueError("SpecAugment mask widths and numbers of masks must be >= 0.")
        self.freq_masking = FrequencyMasking(freq_mask_width, iid_masks=True)
        self.time_masking = TimeMasking(time_mask_width, iid_masks=True)
        self.num_freq_masks = num_freq_masks
        self.num_time_masks = num_time_masks
        self.fill_value = fill_value
        self.enabled = enabled

    def forward(self, log_mel: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """``(V, T, L, M)`` or ``(B, V, T, L, M)`` log-mel chunks (``L`` frames × ``M`` mel bins) →
        the same shape and dtype with masked entries set to ``fill_value``.

        ``generator`` (a CPU ``torch.Generator``; None: torch's global one) decides the masks.
        """
        if log_mel.dim() not in (4, 5):
            raise ValueError(
                f"SpecAugment expects (V, T, L, M) or (B, V, T, L, M) log-mels, got shape "
                f"{tuple(log_mel.shape)}."
            )
        if not self.enabled:
            return log_mel
        masked = self.masked_entries(log_mel.shape, generator)
        return log_mel.masked_fill(masked.to(log_mel.device), self.fill_value)

    def masked_entries(
        self, shape: torch.Size, generator: torch.Generator | None = None
    ) -> Tensor:
        """``shape`` ``(..., L, M)`` bool on the CPU: True in the masked bands and frames."""
        *chunks, frames, bins = shape
        seed = int(torch.randint(2**63 - 1, (), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.random.default_generator.manual_seed(seed)
            bands = torch.ones(*chunks, bins, 1)  # torchaudio's layout: (..., freq, time)
            for _ in range(self.num_freq_masks):
                bands = self.freq_masking(bands)
            steps = torch.ones(*chunks, 1, frames)
            for _ in range(self.num_time_masks):
                steps = self.time_masking(steps)
        return (bands == 0).transpose(-1, -2) | (steps == 0).transpose(-1, -2)
