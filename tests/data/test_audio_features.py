import numpy as np

from vicokd.data.audio_features import ChunkedLogMel, frames_per_chunk


def test_chunks_match_ast_feature_extractor_on_each_chunk():
    features = ChunkedLogMel(16000, 128)
    rng = np.random.default_rng(0)
    waveform = (0.1 * rng.standard_normal(16000 * 3)).astype(
        np.float32
    )  # 3 s → 7 chunks + spare audio
    chunks = features(waveform, 7)
    assert frames_per_chunk() == 40
    assert chunks.shape == (7, 40, 128) and chunks.dtype == np.float16
    # the extractor on chunk f's own audio, with max_length = L, gives the same frames
    span = 39 * 160 + 400
    for f in (0, 3, 6):
        reference = features.extractor(
            waveform[f * 6400 : f * 6400 + span], sampling_rate=16000, return_tensors="np"
        )
        np.testing.assert_allclose(
            chunks[f].astype(np.float32), reference["input_values"][0], atol=2e-2
        )


def test_no_audio_gives_zeros_and_missing_tail_is_silence():
    features = ChunkedLogMel()
    assert not features(None, 3).any()
    short = features(np.full(6400, 0.2, dtype=np.float32), 3)  # audio for the first chunk only
    silence = (np.log(1.192092955078125e-07) - features.extractor.mean) / (
        2 * features.extractor.std
    )
    np.testing.assert_allclose(short[2].astype(np.float32), silence, atol=1e-2)
    assert short.shape == (3, 40, 128)
