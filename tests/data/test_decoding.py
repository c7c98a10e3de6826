import numpy as np
import pytest

from data.fake_home import write_view
from vicokd.data.annotations import RecordingError
from vicokd.data.decoding import decode_view, sampling_stride


def test_decode_view_keeps_every_stride_frame_resized(one_view):
    view = decode_view(one_view, (16, 24))
    assert sampling_stride(10.0) == 4
    assert view.frames.shape == (10, 16, 24, 3) and view.frames.dtype == np.uint8  # ceil(40 / 4)
    assert abs(float(view.frames.mean()) - 120) < 4
    assert view.native_fps == 10.0 and view.native_frames == 40 and view.duration == 4.0
    # 4 s of 16 kHz mono (AAC adds at most a frame of padding)
    assert view.audio.ndim == 1 and 64000 <= view.audio.shape[0] <= 64000 + 2048
    tone = view.audio[8000 : 8000 + 16000]
    spectrum = np.abs(np.fft.rfft(tone))
    assert (
        abs(int(spectrum.argmax()) - 440) <= 2
    )  # 1 Hz bins: the 440 Hz tone survives the resampling


def test_decode_view_reports_missing_and_corrupt_files(tmp_path, one_view):
    with pytest.raises(RecordingError, match="missing"):
        decode_view(tmp_path / "nope.mp4", (8, 8))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(one_view.read_bytes()[:3000])
    with pytest.raises(RecordingError, match="broken.mp4: unreadable or corrupt"):
        decode_view(broken, (8, 8))


def test_decode_view_refuses_an_mp4_without_audio_naming_it(tmp_path):
    silent = tmp_path / "00-View2-Part1.mp4"
    write_view(silent, 8, 10, 90, audio=False)
    with pytest.raises(RecordingError, match="00-View2-Part1.mp4: no audio stream") as error:
        decode_view(silent, (8, 8))
    assert error.value.kind == "no_audio" and error.value.path == str(silent)


def test_decode_view_without_audio_accepts_an_mp4_without_audio_and_reads_none(tmp_path, one_view):
    silent = tmp_path / "00-View2-Part1.mp4"
    write_view(silent, 8, 10, 90, audio=False)
    view = decode_view(silent, (8, 8), with_audio=False)
    assert view.frames.shape == (2, 8, 8, 3) and view.audio is None  # 8 frames at 10 fps, stride 4
    assert abs(float(view.frames.mean()) - 90) < 4
    heard = decode_view(one_view, (16, 24), with_audio=False)  # an audio track is left unread
    assert heard.audio is None
    np.testing.assert_array_equal(heard.frames, decode_view(one_view, (16, 24)).frames)
