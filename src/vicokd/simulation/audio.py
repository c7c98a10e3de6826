"""Audio: each script sound is synthesised once and reaches every camera's microphone attenuated by
1 / distance (and by full-height walls in between), over the microphone's own background noise.
"""
from __future__ import annotations

import numpy as np

from vicokd.simulation.script import Script, SoundEvent
from vicokd.simulation.world import CEILING, Home

SAMPLE_RATE = 16000
WALL_LOSS = 0.3  # amplitude factor per full-height wall between source and microphone
NEAR = 0.5  # metres; closer sources are not louder


def band_noise(n: int, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise (n,) with energy only between ``lo`` and ``hi`` Hz."""
    spec = np.fft.rfft(rng.standard_normal(n))
    freq = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spec[(freq < lo) | (freq > hi)] = 0
    x = np.fft.irfft(spec, n)
    return x / max(float(np.sqrt((x ** 2).mean())), 1e-9)


def _bursts(n: int, times: np.ndarray, burst: np.ndarray) -> np.ndarray:
    out = np.zeros(n)
    for t in (times * SAMPLE_RATE).astype(int):
        m = min(len(burst), n - t)
        if 0 <= t and m > 0:
            out[t:t + m] += burst[:m]
    return out


def _decay(seconds: float, tau: float) -> np.ndarray:
    return np.exp(-np.arange(int(seconds * SAMPLE_RATE)) / (tau * SAMPLE_RATE))


def _tone(seconds: float, f0: float, f1: float | None = None) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f = f0 if f1 is None else f0 + (f1 - f0) * t / max(seconds, 1e-6)
    return np.sin(2 * np.pi * np.cumsum(np.broadcast_to(f, t.shape)) / SAMPLE_RATE)


def source_wave(event: SoundEvent, rng: np.random.Generator) -> np.ndarray:
    """The sound of ``event`` at 1 m: (n,) float for its duration."""
    n = max(int((event.end - event.start) * SAMPLE_RATE), 1)
    t = np.arange(n) / SAMPLE_RATE
    seconds = n / SAMPLE_RATE
    beats = (np.arange(0, seconds * max(event.rate, 1e-6)) + 0.5) / max(event.rate, 1e-6)
    k = event.kind
    if k == "steps":
        thud = _tone(0.08, 90, 50) * _decay(0.08, 0.02) + 0.3 * band_noise(1280, 50, 400, rng) * _decay(
            0.08, 0.015)
        return 0.15 * _bursts(n, beats, thud)
    if k == "door":
        creak = np.sin(2 * np.pi * (300 * t + 200 * t ** 2 / seconds))
        return 0.3 * (0.6 * creak * (1 + np.sin(2 * np.pi * 23 * t)) / 2
                      + 0.4 * band_noise(n, 100, 2000, rng)) * np.sin(np.pi * t / seconds)
    if k == "click":
        return 0.5 * _bursts(n, np.array([0.0]), band_noise(80, 1000, 7000, rng) * _decay(0.005, 0.001))
    if k == "curtain":
        return 0.25 * band_noise(n, 2000, 6000, rng) * np.sin(np.pi * t / seconds)
    if k == "beep":
        beep = _tone(0.12, 2000)
        return 0.4 * _bursts(n, np.array([0.0, 0.22]), beep)
    if k == "vacuum":
        motor = sum(np.sin(2 * np.pi * 220 * h * t) / h for h in range(1, 6))
        fade = np.minimum(1, np.minimum(t, seconds - t) / 0.2)
        return 0.5 * (0.6 * band_noise(n, 80, 1500, rng) + 0.3 * motor) * fade
    if k == "wipe":
        return 0.12 * band_noise(n, 1000, 4000, rng) * np.sin(np.pi * event.rate * t) ** 2
    if k == "thump":
        return 0.3 * np.sin(2 * np.pi * 80 * t) * np.exp(-t / 0.04)
    if k == "page":
        rustle = band_noise(4000, 3000, 7000, rng) * np.sin(np.pi * np.arange(4000) / 4000)
        return 0.15 * _bursts(n, np.arange(0.8, seconds, 2.0), rustle)
    if k == "voice":
        f0 = 170 + 25 * np.sin(2 * np.pi * 0.7 * t)
        phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
        formants = sum(np.sin(h * phase) * np.exp(-((h * 170 - 700) / 400) ** 2 + 0.0)
                       + 0.5 * np.sin(h * phase) * np.exp(-((h * 170 - 1500) / 500) ** 2)
                       for h in range(1, 18))
        syllables = np.repeat(rng.random(int(seconds * 4) + 1) < 0.75, SAMPLE_RATE // 4)[:n]
        return 0.25 * formants * syllables * np.sin(np.pi * (t * 4 % 1)) ** 2
    if k == "typing":
        times = np.cumsum(rng.exponential(1 / 7, int(seconds * 12) + 1))
        return 0.3 * _bursts(n, times[times < seconds], band_noise(64, 2000, 8000, rng) * _decay(0.004, 0.001))
    if k == "eat":
        clink = _tone(0.15, 3200) * _decay(0.15, 0.03)
        crunch_times = (beats[:, None] + np.linspace(0.2, 1.0, 6)[None]).ravel()
        crunch = band_noise(320, 500, 6000, rng) * _decay(0.02, 0.006)
        return 0.3 * (_bursts(n, beats, clink) + _bursts(n, crunch_times, crunch))
    if k == "drink":
        gulp = _tone(0.12, 260, 140) * np.sin(np.pi * np.arange(1920) / 1920)
        gulp_times = (beats[:, None] + np.array([0.0, 0.4])[None]).ravel()
        return 0.3 * _bursts(n, gulp_times, gulp)
    raise ValueError(f"Unknown sound {k!r}")


def _walls_between(home: Home, a: np.ndarray, b: np.ndarray) -> int:
    """Number of full-height wall boxes crossed by the floor-plan segment a–b (Liang–Barsky)."""
    count = 0
    d = b - a
    for box in home.walls:
        if box.lo[2] > 0 or box.hi[2] < CEILING:
            continue
        t0, t1 = 0.0, 1.0
        for axis in (0, 1):
            if abs(d[axis]) < 1e-12:
                if not box.lo[axis] <= a[axis] <= box.hi[axis]:
                    t0, t1 = 1.0, 0.0
                continue
            u0, u1 = sorted(((box.lo[axis] - a[axis]) / d[axis], (box.hi[axis] - a[axis]) / d[axis]))
            t0, t1 = max(t0, u0), min(t1, u1)
        count += t0 <= t1
    return count


def microphone_signals(home: Home, script: Script, rng: np.random.Generator) -> np.ndarray:
    """Audio (V, duration · SAMPLE_RATE) float32 in [-1, 1] heard by each camera's microphone."""
    n = round(script.duration * SAMPLE_RATE)
    mics = np.array([c.position for c in home.cameras])
    out = np.zeros((len(mics), n))
    ac = np.array([*home.fixtures["ac"][:2], home.fixtures["ac"][2] + 0.15])
    ac_events = [SoundEvent("fan", c, e, tuple(ac), tuple(ac))
                 for (c, s), (e, _) in zip(script.changes, script.changes[1:] + [(script.duration, None)])
                 if s.ac_on and e > c]
    for event in [*script.sounds, *ac_events]:
        i0 = int(event.start * SAMPLE_RATE)
        if i0 >= n:
            continue
        wave = (0.03 * band_noise(max(int((event.end - event.start) * SAMPLE_RATE), 1), 100, 800, rng)
                if event.kind == "fan" else source_wave(event, rng))[: n - i0]
        w = np.linspace(0, 1, len(wave))[:, None]
        src = np.array(event.source) + w * (np.array(event.source_end) - np.array(event.source))
        mid = (np.array(event.source) + np.array(event.source_end)) / 2
        for v, mic in enumerate(mics):
            dist = np.maximum(np.linalg.norm(src - mic[None], axis=1), NEAR)
            walls = WALL_LOSS ** _walls_between(home, mid[:2], mic[:2])
            out[v, i0:i0 + len(wave)] += wave * walls / dist
    out += 0.01 * np.stack([band_noise(n, 20, 8000, rng) for _ in mics])
    return np.clip(out, -1, 1).astype(np.float32)
