"""Choosing ``T`` frame indices out of a sequence's ``n_frames`` 2.5-FPS frames.

The sequence is cut into ``T`` equal bins, bin ``i`` = ``[i·n/T, (i+1)·n/T)``:
- ``uniform`` (evaluation): the frame at the centre of each bin, ``floor((i + 0.5)·n/T)``;
- ``random_perturb`` (training): one frame drawn uniformly from the whole frames of each bin
  (``floor(i·n/T)`` up to, not including, ``max(floor(i·n/T) + 1, floor((i+1)·n/T))``).

Indices are always sorted (non-decreasing) and within ``[0, n_frames)``. When ``n_frames < T`` bins
are narrower than a frame, so frames repeat: each frame appears ``T/n`` times (rounded), still in
order, and ``random_perturb`` then has nothing to draw and equals ``floor(i·n/T)``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

SamplingMode = Literal["random_perturb", "uniform"]


def sample_indices(
    n_frames: int, num_samples: int, mode: SamplingMode, rng: np.random.Generator | None = None
) -> np.ndarray:
    """``(num_samples,)`` int64 sorted frame indices in ``[0, n_frames)``; ``rng`` is needed for
    ``random_perturb``."""
    if n_frames < 1 or num_samples < 1:
        raise ValueError(
            f"need n_frames >= 1 and num_samples >= 1, got {n_frames} and {num_samples}"
        )
    bins = np.arange(num_samples)
    if mode == "uniform":
        return ((2 * bins + 1) * n_frames // (2 * num_samples)).astype(np.int64)
    if mode == "random_perturb":
        if rng is None:
            raise ValueError("random_perturb sampling needs a random generator")
        starts = bins * n_frames // num_samples
        stops = np.maximum(starts + 1, (bins + 1) * n_frames // num_samples)
        return rng.integers(starts, stops).astype(np.int64)
    raise ValueError(f"unknown sampling mode {mode!r}: use 'random_perturb' or 'uniform'")
