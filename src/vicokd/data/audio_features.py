"""Log-mel features of the audio under each 2.5-FPS frame, AST style (Kaldi fbank, AudioSet norm).

The features are those of transformers' ``ASTFeatureExtractor`` (its numpy path, as torchaudio is
not installed): 25 ms Hann window, 10 ms hop, DC removal, pre-emphasis 0.97, 512-point FFT power,
128 Kaldi mel bins, natural log, then ``(x - mean) / (2·std)`` with AudioSet's mean and std. The
extractor loops over spectrogram frames in Python, so the same steps run here vectorised over the
whole waveform with the extractor's own filter bank, window and normalisation.

Unlike the reference code, a chunk is not padded to 1024 spectrogram frames: chunk f (the audio of
``[f / 2.5, (f + 1) / 2.5)`` s) keeps the ``L = 40`` frames that start in it (the last window reaches
15 ms into the next chunk), exactly what the extractor gives for that chunk with ``max_length = L``.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from transformers import ASTFeatureExtractor
from transformers.audio_utils import mel_filter_bank, window_function

from vicokd.data.annotations import SAMPLE_FPS

#: AST's spectrogram settings (Kaldi fbank defaults).
HOP_SECONDS = 0.010
WINDOW_SECONDS = 0.025
FFT_LENGTH = 512
PREEMPHASIS = 0.97
MEL_FLOOR = 1.192092955078125e-07


def frames_per_chunk(sample_rate: int = 16000, sample_fps: float = SAMPLE_FPS) -> int:
    """``L``: spectrogram frames per 2.5-FPS chunk (40 at 16 kHz)."""
    return round(sample_rate / sample_fps / (HOP_SECONDS * sample_rate))


class ChunkedLogMel:
    """Turn a mono waveform into ``(n_frames, L, num_mel_bins)`` float16 AST-normalised log-mels."""

    def __init__(
        self, sample_rate: int = 16000, num_mel_bins: int = 128, sample_fps: float = SAMPLE_FPS
    ):
        self.sample_rate = sample_rate
        self.num_mel_bins = num_mel_bins
        self.chunk_frames = frames_per_chunk(sample_rate, sample_fps)
        self.hop = round(HOP_SECONDS * sample_rate)
        self.window_length = round(WINDOW_SECONDS * sample_rate)
        with warnings.catch_warnings():  # AST's 128 Kaldi mel bins leave the lowest filter empty
            warnings.simplefilter("ignore", UserWarning)
            self.extractor = ASTFeatureExtractor(
                sampling_rate=sample_rate, num_mel_bins=num_mel_bins, max_length=self.chunk_frames
            )
            self._mel_filters = mel_filter_bank(
                num_frequency_bins=FFT_LENGTH // 2 + 1,
                num_mel_filters=num_mel_bins,
                min_frequency=20,
                max_frequency=sample_rate // 2,
                sampling_rate=sample_rate,
                norm=None,
                mel_scale="kaldi",
                triangularize_in_mel_space=True,
            )
        self._mel_filters = self._mel_filters.astype(np.float32)
        self._window = window_function(self.window_length, "hann", periodic=False).astype(
            np.float32
        )

    def log_mel(self, samples: np.ndarray, n_windows: int) -> np.ndarray:
        """``(n_windows, num_mel_bins)`` float32 normalised log-mels of windows every ``hop`` samples."""
        frames = sliding_window_view(samples, self.window_length)[:: self.hop][:n_windows].astype(
            np.float32
        )
        frames -= frames.mean(axis=1, keepdims=True)
        frames[:, 1:] -= PREEMPHASIS * frames[:, :-1]  # numpy buffers the overlapping operands
        frames[:, 0] *= 1 - PREEMPHASIS
        frames *= self._window
        spectrum = scipy.fft.rfft(frames, n=FFT_LENGTH)  # several times faster than numpy.fft here
        power = spectrum.real**2 + spectrum.imag**2
        mel = np.log(np.maximum(MEL_FLOOR, power @ self._mel_filters))
        return self.extractor.normalize(mel).astype(np.float32)

    def __call__(self, waveform: np.ndarray | None, n_frames: int) -> np.ndarray:
        """``waveform`` ``(S,)`` at ``sample_rate`` (None: no audio stream → zeros).

        Returns ``(n_frames, L, num_mel_bins)`` float16; audio missing at the end counts as silence.
        """
        shape = (n_frames, self.chunk_frames, self.num_mel_bins)
        if waveform is None:
            return np.zeros(shape, dtype=np.float16)
        n_windows = n_frames * self.chunk_frames
        samples = np.zeros((n_windows - 1) * self.hop + self.window_length, dtype=np.float32)
        usable = min(samples.shape[0], waveform.shape[0])
        samples[:usable] = waveform[:usable]
        return self.log_mel(samples, n_windows).reshape(shape).astype(np.float16)
