import numpy as np
import torch

from vicokd.data.audio_features import ChunkedLogMel, frames_per_chunk

#: float16 keeps 11 significant bits: a relative rounding of at most 2**-11
FLOAT16_RTOL = 2.0**-11


def test_chunks_match_ast_feature_extractor_on_each_chunk():
    features = ChunkedLogMel(16000, 128)
    rng = np.random.default_rng(0)
    waveform = (0.1 * rng.standard_normal(16000 * 3)).astype(np.float32)  # 7 chunks + spare audio
    chunks = features(waveform, 7)
    assert frames_per_chunk() == 40
    assert chunks.shape == (7, 40, 128) and chunks.dtype == np.float16
    # transformers' extractor on chunk f's own audio, with max_length = L, gives the same frames
    span = 39 * 160 + 400
    for f in (0, 3, 6):
        reference = features.extractor(
            waveform[f * 6400 : f * 6400 + span], sampling_rate=16000, return_tensors="np"
        )["input_values"][0]
        assert reference.shape == (40, 128)
        np.testing.assert_allclose(
            chunks[f].astype(np.float32), reference, rtol=FLOAT16_RTOL, atol=1e-5
        )


def test_a_tone_peaks_in_the_kaldi_mel_bin_around_its_frequency():
    features = ChunkedLogMel(16000, 128)
    # Kaldi mel scale: 1127 ln(1 + f / 700); 128 triangles between 20 Hz and 8 kHz, bin k centred
    # at the (k + 1)-th of 130 equally spaced mel points. 4 kHz (an FFT bin: 128 × 31.25 Hz) lies
    # 0.12 of a mel step from bin 96's centre, 0.88 from bin 97's.
    def mel(hz: float) -> float:
        return 1127.0 * np.log1p(hz / 700.0)

    centres = mel(20.0) + (np.arange(128) + 1) * (mel(8000.0) - mel(20.0)) / 129
    assert int(np.argmin(np.abs(centres - mel(4000.0)))) == 96
    tone = 0.5 * np.sin(2 * np.pi * 4000.0 * np.arange(16000) / 16000).astype(np.float32)
    peaks = features(tone, 2).astype(np.float32).argmax(axis=-1)
    np.testing.assert_array_equal(peaks, np.full((2, 40), 96))


def test_a_missing_tail_is_silence():
    features = ChunkedLogMel()
    short = features(np.full(6400, 0.2, dtype=np.float32), 3)  # audio for the first chunk only
    floor = np.finfo(np.float32).eps  # Kaldi's floor on mel energies before the log
    silence = (np.log(floor) - features.extractor.mean) / (2 * features.extractor.std)
    np.testing.assert_allclose(short[2].astype(np.float32), silence, atol=1e-2)
    assert short.shape == (3, 40, 128)


def test_torch_threads_are_restored_after_the_single_threaded_filter_bank():
    threads = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        ChunkedLogMel()(np.zeros(16000, dtype=np.float32), 2)
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(threads)
