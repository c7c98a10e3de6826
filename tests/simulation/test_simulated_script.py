"""Action scripts: every class in many sequences, overlapping actions, consistent object states."""
import itertools
from functools import cache

import numpy as np
import pytest

from vicokd.simulation.generate import SimulationSettings, make_scripts
from vicokd.simulation.script import SIMULATED_CLASSES as CLASSES

SETTINGS = SimulationSettings(sequences_per_home=24, duration=24.0, fps=10, width=160, height=120,
                              sessions=8, crf=20)


@cache
def scripts_of(home):
    return make_scripts(home, SETTINGS, seed=0)


@pytest.mark.parametrize("home", ["Home1", "Home2", "Home3"])
def test_scripts_cover_every_class_with_consistent_states(home):
    scripts = scripts_of(home)
    per_class = {c: sum(any(t.label == c for t in s.tricks) for s in scripts) for c in CLASSES}
    assert min(per_class.values()) >= 4, per_class
    for s in scripts:
        assert all(0 <= t.start <= t.end <= SETTINGS.duration for t in s.tricks)
        for t in s.tricks:
            before = s.frame(int(np.floor(t.start * SETTINGS.fps)))[3]
            after = s.frame(int(np.ceil(t.end * SETTINGS.fps)))[3]
            if t.label in ("TurnOnLamp", "TurnOffLamp"):
                assert (before.lamp_on, after.lamp_on) == ((False, True) if t.label == "TurnOnLamp"
                                                           else (True, False))
            if t.label in ("OpenCurtain", "CloseCurtain"):
                assert after.curtain_open == (t.label == "OpenCurtain") != before.curtain_open


@pytest.mark.parametrize("home", ["Home1", "Home2"])
def test_some_sequences_of_the_evaluation_homes_have_overlapping_actions(home):
    overlaps = 0
    for s in scripts_of(home):
        spans = sorted((t.start, t.end) for t in s.tricks)
        overlaps += any(b[0] < a[1] for a, b in itertools.pairwise(spans))
    assert overlaps >= 2
