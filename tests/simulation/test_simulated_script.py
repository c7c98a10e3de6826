"""Action scripts: every class in many sequences, overlapping actions, consistent object states."""
import numpy as np

from vicokd.data.annotations import CLASSES
from vicokd.simulation.generate import SimulationSettings, make_scripts


def test_scripts_cover_every_class_with_overlaps_and_consistent_states():
    settings = SimulationSettings(sequences_per_home=24, duration=24.0, fps=10)
    for home in ("Home1", "Home2"):
        scripts = make_scripts(home, settings, seed=0)
        per_class = {c: sum(any(t.label == c for t in s.tricks) for s in scripts) for c in CLASSES}
        assert min(per_class.values()) >= 4, per_class
        overlaps = 0
        for s in scripts:
            assert all(0 <= t.start <= t.end <= settings.duration for t in s.tricks)
            spans = sorted((t.start, t.end) for t in s.tricks)
            overlaps += any(b[0] < a[1] for a, b in zip(spans, spans[1:]))
            for t in s.tricks:
                before = s.frame(int(np.floor(t.start * settings.fps)))[3]
                after = s.frame(int(np.ceil(t.end * settings.fps)))[3]
                if t.label in ("TurnOnLamp", "TurnOffLamp"):
                    assert (before.lamp_on, after.lamp_on) == ((False, True) if t.label == "TurnOnLamp"
                                                               else (True, False))
                if t.label in ("OpenCurtain", "CloseCurtain"):
                    assert after.curtain_open == (t.label == "OpenCurtain") != before.curtain_open
        assert overlaps >= 2
