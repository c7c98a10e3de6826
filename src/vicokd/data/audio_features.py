"""Log-mel features of the audio under each sampled frame (``dataset.sample_fps``; 2.5 FPS below),
AST style (Kaldi fbank, AudioSet norm).

The features are those the AST encoder was trained on, as transformers' ``ASTFeatureExtractor``
computes them: ``torchaudio.compliance.kaldi.fbank`` (25 ms Hann window, 10 ms hop, DC removal,
pre-emphasis 0.97, 512-point FFT power, 128 Kaldi mel bins, natural log), then
``(x - mean) / (2·std)`` with AudioSet's mean and std. The filter bank runs once over a view's whole
waveform, and its windows are cut into chunks afterwards. It runs on one thread: its operations are
small (a 24 s view takes about 15 ms), and torch's threads, on cores that ingestion's worker processes
already fill, made it ten times slower.

Unlike the reference code, a chunk is not padded to 1024 spectrogram frames: chunk f (the audio of
``[f / 2.5, (f + 1) / 2.5)`` s) keeps the ``L = 40`` windows that start in it (the last window reaches
15 ms into the next chunk), exactly what the extractor gives for that chunk with ``max_length = L``.
"""

from __future__ import annotations

import numpy as np
import torch
from torchaudio.compliance import kaldi

#: AST's spectrogram settings (Kaldi fbank defaults).
HOP_SECONDS = 0.010
WINDOW_SECONDS = 0.025


def frames_per_chunk(sample_rate: int, sample_fps: float) -> int:
    """``L``: spectrogram frames per chunk of one sampled frame (40 at 16 kHz and 2.5 FPS)."""
    return round(sample_rate / sample_fps / (HOP_SECONDS * sample_rate))


class ChunkedLogMel:
    """Turn a mono waveform into ``(n_frames, L, num_mel_bins)`` float16 AST-normalised log-mels."""

    def __init__(
        self, sample_rate: int = 16000, num_mel_bins: int = 128, *, sample_fps: float
    ):
        self.sample_rate = sample_rate
        self.num_mel_bins = num_mel_bins
        self.chunk_frames = frames_per_chunk(sample_rate, sample_fps)
        self.hop = round(HOP_SECONDS * sample_rate)
        self.window_length = round(WINDOW_SECONDS * sample_rate)
        from transformers import ASTFeatureExtractor  # imported when used: about 1 s

        #: the reference: AudioSet's mean and std, and the same features chunk by chunk
        self.extractor = ASTFeatureExtractor(
            sampling_rate=sample_rate, num_mel_bins=num_mel_bins, max_length=self.chunk_frames
        )

    def log_mel(self, samples: np.ndarray) -> np.ndarray:
        """``(S,)`` samples → ``(1 + (S - window) // hop, num_mel_bins)`` float32 normalised log-mels
        of the windows every ``hop`` samples (Kaldi's ``snip_edges``: only windows that fit)."""
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            fbank = kaldi.fbank(
                torch.from_numpy(samples)[None],
                sample_frequency=self.sample_rate,
                frame_length=WINDOW_SECONDS * 1000,
                frame_shift=HOP_SECONDS * 1000,
                window_type="hanning",
                num_mel_bins=self.num_mel_bins,
                dither=0.0,
            )
        finally:
            torch.set_num_threads(threads)
        return self.extractor.normalize(fbank.numpy())

    def __call__(self, waveform: np.ndarray, n_frames: int) -> np.ndarray:
        """``waveform`` ``(S,)`` at ``sample_rate``.

        Returns ``(n_frames, L, num_mel_bins)`` float16; audio missing at the end counts as silence.
        """
        shape = (n_frames, self.chunk_frames, self.num_mel_bins)
        n_windows = n_frames * self.chunk_frames
        samples = np.zeros((n_windows - 1) * self.hop + self.window_length, dtype=np.float32)
        usable = min(samples.shape[0], waveform.shape[0])
        samples[:usable] = waveform[:usable]
        return self.log_mel(samples).reshape(shape).astype(np.float16)
