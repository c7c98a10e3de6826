"""Microphones hear action sounds attenuated with distance; look-alike actions sound different."""
import numpy as np

from vicokd.simulation.audio import SAMPLE_RATE, microphone_signals, source_wave
from vicokd.simulation.script import Script, SoundEvent
from vicokd.simulation.world import ObjectState, make_home


def heard(home, event, seconds=2.0):
    script = Script(seconds, 5, changes=[(0.0, ObjectState(ac_on=False))], sounds=[event])
    return microphone_signals(home, script, np.random.default_rng(0))


def test_nearest_microphone_is_louder_than_farthest_by_the_distance_ratio():
    home = make_home("Home2")  # one open room: no walls between source and microphones
    source = (1.0, 1.0, 0.5)
    signals = heard(home, SoundEvent("vacuum", 0.0, 2.0, source, source))
    dist = [np.linalg.norm(np.subtract(c.position, source)) for c in home.cameras]
    rms = np.sqrt((signals.astype(float) ** 2).mean(axis=1))
    near, far = int(np.argmin(dist)), int(np.argmax(dist))
    assert rms[near] > rms[far]
    assert abs(rms[near] / rms[far] - dist[far] / dist[near]) < 0.15 * dist[far] / dist[near]


def test_length_and_range():
    signals = heard(make_home("Home1"), SoundEvent("click", 0.5, 0.6, (3, 4, 1.5), (3, 4, 1.5)), 1.5)
    assert signals.shape == (5, int(1.5 * SAMPLE_RATE)) and signals.dtype == np.float32
    assert np.abs(signals).max() <= 1


def band_share(wave, lo, hi):
    power = np.abs(np.fft.rfft(wave)) ** 2
    freq = np.fft.rfftfreq(len(wave), 1 / SAMPLE_RATE)
    return power[(freq >= lo) & (freq < hi)].sum() / power.sum()


def test_look_alike_actions_sound_different():
    rng = np.random.default_rng(0)
    at = (0.0, 0.0, 1.0)

    def wave(kind, rate=0.5):
        return source_wave(SoundEvent(kind, 0.0, 4.0, at, at, rate), rng)

    assert band_share(wave("drink"), 0, 400) > 0.8 > band_share(wave("eat"), 0, 400)
    vacuum, wipe = wave("vacuum", 1.0), wave("wipe", 1.0)
    assert np.sqrt((vacuum ** 2).mean()) > 3 * np.sqrt((wipe ** 2).mean())
    assert band_share(wave("voice"), 100, 2000) > 0.8 > band_share(wave("page"), 100, 2000)
