"""The person's action script: where they walk, which pose they take, what they switch and what sounds.

A script is built activity by activity (go to a place, do one or more actions there) until the
sequence is full; activities are chosen to even out class counts over a home's sequences.
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field

import numpy as np

from vicokd.simulation.body import Pose, blend, pose_for
from vicokd.simulation.world import Home, ObjectState

#: The actions the simulated person performs, the labels of every simulated record:
#: MultiSensor-Home's 16 classes (the simulator is a model of that dataset's homes).
SIMULATED_CLASSES: tuple[str, ...] = (
    "AdjustAC", "Clean", "CleanVacuum", "CloseCurtain", "Drink", "Eat", "Enter", "Exit",
    "OpenCurtain", "ReadBook", "Sitdown", "Standup", "TurnOffLamp", "TurnOnLamp", "UseLaptop",
    "UsePhone",
)
WALK_SPEED = 1.2  # m/s
STRIDE = 1.3  # m per walking cycle
PHASE_BINS = 8


@dataclass(frozen=True)
class Trick:
    """One annotated action: ``label`` from ``start`` to ``end`` seconds."""

    label: str
    start: float
    end: float


@dataclass(frozen=True)
class SoundEvent:
    """A sound of ``kind`` from ``start`` to ``end`` s, moving from ``source`` to ``source_end`` (x, y, z).

    ``rate`` is the repetition rate (Hz) of rhythmic sounds (steps, bites, sips).
    """

    kind: str
    start: float
    end: float
    source: tuple[float, float, float]
    source_end: tuple[float, float, float]
    rate: float = 0.0


@dataclass(frozen=True)
class _Segment:
    start: float
    end: float
    kind: str
    origin: tuple[float, float]
    target: tuple[float, float]
    facing: float
    rate: float = 0.0  # motion cycles per second
    blend_to: str = ""  # transitions (sit down, stand up) blend from ``kind`` to ``blend_to``


@dataclass
class Script:
    """A sequence's timeline; per-frame arrays are sampled at ``fps``."""

    duration: float
    fps: float
    segments: list[_Segment] = field(default_factory=list)
    changes: list[tuple[float, ObjectState]] = field(default_factory=list)
    tricks: list[Trick] = field(default_factory=list)
    sounds: list[SoundEvent] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return round(self.duration * self.fps)

    def frame(self, k: int) -> tuple[tuple[float, float], float, Pose, ObjectState]:
        """Position (x, y), facing (rad), pose and object state at native frame ``k``."""
        t = k / self.fps
        seg = next((s for s in reversed(self.segments) if s.start <= t), self.segments[0])
        span = max(seg.end - seg.start, 1e-6)
        w = min(max((t - seg.start) / span, 0.0), 1.0)
        pos = tuple(float(a + (b - a) * w) for a, b in zip(seg.origin, seg.target))
        phase = np.floor(((t - seg.start) * seg.rate % 1.0) * PHASE_BINS) / PHASE_BINS
        progress = np.floor(w * PHASE_BINS) / PHASE_BINS
        if seg.blend_to:
            pose = blend(pose_for(seg.kind, 0.0, 0.0), pose_for(seg.blend_to, 0.0, 0.0), progress)
        else:
            pose = pose_for(seg.kind, float(phase), float(progress))
        state = next((s for c, s in reversed(self.changes) if c <= t), self.changes[0][1])
        return pos, seg.facing, pose, state

    def actions_at(self, t: float) -> list[str]:
        """The true labels at time ``t`` s, in trick order."""
        return [tr.label for tr in self.tricks if tr.start <= t <= tr.end]


class _Builder:
    """Appends segments at a time cursor, tracking position, posture and object state."""

    def __init__(self, home: Home, rng: np.random.Generator, duration: float, fps: float):
        self.home, self.rng = home, rng
        self.script = Script(duration, fps)
        self.t, self.pos, self.facing, self.seated = 0.0, home.outside, 0.0, False

    def hold(self, kind: str, seconds: float, rate: float = 0.0, blend_to: str = "") -> tuple[float, float]:
        seg = _Segment(self.t, self.t + seconds, kind, self.pos, self.pos, self.facing, rate, blend_to)
        self.script.segments.append(seg)
        self.t += seconds
        return seg.start, seg.end

    def walk(self, goal: tuple[float, float], kind: str = "walk") -> None:
        route = self.home.route(self.pos, goal)
        for a, b in itertools.pairwise(route):
            length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
            if length < 1e-3:
                continue
            self.facing = float(np.arctan2(b[1] - a[1], b[0] - a[0]))
            seconds = length / WALK_SPEED
            self.script.segments.append(_Segment(self.t, self.t + seconds, kind, a, b, self.facing,
                                                 WALK_SPEED / STRIDE))
            self.sound("steps", self.t, self.t + seconds, (*a, 0.0), (*b, 0.0), WALK_SPEED / STRIDE * 2)
            self.t += seconds
            self.pos = b

    def change(self, t: float, **flips: bool) -> None:
        state = self.script.changes[-1][1] if self.script.changes else ObjectState()
        self.script.changes.append((t, ObjectState(**{**state.__dict__, **flips})))

    @property
    def state(self) -> ObjectState:
        return self.script.changes[-1][1]

    def label(self, name: str, start: float, end: float) -> None:
        self.script.tricks.append(Trick(name, round(start, 3), round(end, 3)))

    def sound(self, kind, start, end, source, source_end=None, rate=0.0) -> None:
        source = tuple(float(v) for v in source)
        self.script.sounds.append(SoundEvent(kind, start, end, source, source_end or source, rate))

    def go(self, place: str, kind: str = "walk") -> None:
        spot = self.home.places[place]
        self.walk(spot.spot, kind)
        self.facing = spot.facing

    def uniform(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))


def _enter(b: _Builder) -> None:
    door = b.home.places["door"].spot
    b.change(0.0, door_open=True)
    b.sound("door", 0.0, 0.8, (0.0, door[1], 1.0))
    b.walk((0.05, door[1]))
    b.walk(door)
    end = b.t + 0.3
    b.label("Enter", 0.0, end)
    b.change(end, door_open=False)
    b.sound("door", end, end + 0.4, (0.0, door[1], 1.0))


def _exit(b: _Builder) -> None:
    b.go("door")
    start = b.t
    b.change(start, door_open=True)
    b.sound("door", start, start + 0.8, (0.0, b.pos[1], 1.0))
    b.hold("stand", 0.3)
    b.walk((0.05, b.pos[1]))
    b.walk(b.home.outside)
    b.label("Exit", start, b.t)
    b.change(b.t, door_open=False)
    b.sound("door", b.t, b.t + 0.4, (0.0, b.home.places["door"].spot[1], 1.0))


def _switch(b: _Builder, place: str, kind: str, lo: float, hi: float) -> None:
    b.go(place)
    start, end = b.hold(kind, b.uniform(lo, hi), rate=1.0)
    mid = start + 0.55 * (end - start)
    s = b.state
    x, y, z = b.home.fixtures[{"lamp": "lamp", "window": "window", "ac": "ac"}[place]]
    if place == "lamp":
        b.change(mid, lamp_on=not s.lamp_on)
        b.sound("click", mid, mid + 0.05, (x, y, 1.5))
        b.label("TurnOffLamp" if s.lamp_on else "TurnOnLamp", start, end)
    elif place == "window":
        b.change(mid, curtain_open=not s.curtain_open)
        b.sound("curtain", start + 0.3, end - 0.2, (x, y + 0.3, 1.6))
        b.label("CloseCurtain" if s.curtain_open else "OpenCurtain", start, end)
    else:
        b.change(mid, ac_on=not s.ac_on)
        b.sound("beep", mid, mid + 0.45, (x, y - 0.2, z + 0.15))
        b.label("AdjustAC", start, end)


def _sweep(b: _Builder, label: str) -> None:
    b.go("floor")
    start, end = b.hold("sweep", b.uniform(3.0, 5.0), rate=1.0)
    b.sound("vacuum" if label == "CleanVacuum" else "wipe", start, end, (*b.pos, 0.2), rate=1.0)
    b.label(label, start, end)


SEATED = {"sofa": ("ReadBook", "UsePhone"), "table": ("Eat", "Drink", "UseLaptop")}
SEATED_MOTION = {"ReadBook": ("sit_hold", "page", 0.0), "UsePhone": ("sit_hold", "voice", 0.0),
                 "Eat": ("sit_mouth", "eat", 0.5), "Drink": ("sit_mouth", "drink", 0.5),
                 "UseLaptop": ("sit_type", "typing", 2.0)}


def _seated(b: _Builder, place: str, actions: list[str], counts: dict[str, int]) -> None:
    phone_walk = actions[0] == "UsePhone" and b.rng.random() < 0.5
    phone_from = b.t
    b.go(place, "walk_phone" if phone_walk else "walk")
    first = SEATED_MOTION[actions[0]][0]
    start, end = b.hold("walk_phone" if phone_walk else "stand", 1.2, blend_to=first)
    b.label("Sitdown", start, end)
    b.sound("thump", end - 0.15, end, (*b.pos, 0.4))
    b.seated = True
    for i, name in enumerate(actions):
        kind, sound, rate = SEATED_MOTION[name]
        s0, s1 = b.hold(kind, b.uniform(3.0, 5.0), rate=rate)
        if name == "UseLaptop":
            b.change(s0, laptop_on=True)
            b.change(s1, laptop_on=False)
        b.sound(sound, s0, s1, (*b.pos, 1.1), rate=rate)
        b.label(name, phone_from if (phone_walk and i == 0) else s0, s1)
        counts[name] = counts.get(name, 0) + 1
    start, end = b.hold(SEATED_MOTION[actions[-1]][0], 1.2, blend_to="stand")
    b.label("Standup", start, end)
    b.sound("thump", start, start + 0.15, (*b.pos, 0.4))
    b.seated = False


ACTIVITY_CLASSES = {
    "lamp": ("TurnOnLamp", "TurnOffLamp"), "window": ("OpenCurtain", "CloseCurtain"),
    "ac": ("AdjustAC",), "clean": ("Clean",), "vacuum": ("CleanVacuum",),
    "sofa": SEATED["sofa"] + ("Sitdown", "Standup"), "table": SEATED["table"] + ("Sitdown", "Standup"),
}


def _do(b: _Builder, activity: str, counts: dict[str, int]) -> None:
    if activity in ("lamp", "window", "ac"):
        _switch(b, activity, {"lamp": "switch", "window": "curtain", "ac": "ac"}[activity], 1.6, 2.6)
    elif activity in ("clean", "vacuum"):
        _sweep(b, "Clean" if activity == "clean" else "CleanVacuum")
    else:
        options = sorted(SEATED[activity], key=lambda c: (counts.get(c, 0), b.rng.random()))
        _seated(b, activity, options[: 1 + int(b.rng.random() < 0.4)], counts)


def _end_time(b: _Builder, with_exit: bool, home: Home) -> float:
    """When the script would end if the person left the home now (``with_exit``) or stayed."""
    if not with_exit:
        return b.t
    trial = copy.deepcopy(b, {id(home): home})
    _exit(trial)
    return trial.t


def make_script(home: Home, rng: np.random.Generator, duration: float, fps: float,
                counts: dict[str, int]) -> Script:
    """A script of ``duration`` s; ``counts`` (class -> sequences so far) is updated and steers choices."""
    b = _Builder(home, rng, duration, fps)
    b.change(0.0, lamp_on=bool(rng.random() < 0.5), curtain_open=bool(rng.random() < 0.5),
             ac_on=bool(rng.random() < 0.5))
    if rng.random() < 0.6:
        _enter(b)
    else:
        start = list(home.places)[int(rng.integers(1, len(home.places)))]
        b.pos = home.places[start].spot
    wants_exit = rng.random() < 0.45
    used: set[str] = set()
    while True:
        pending = [a for a in ACTIVITY_CLASSES if a not in used]
        rng.shuffle(pending)
        pending.sort(key=lambda a: min(counts.get(c, 0) for c in ACTIVITY_CLASSES[a]))
        for activity in pending:
            trial = copy.deepcopy(b, {id(home): home})
            trial_counts = dict(counts)
            _do(trial, activity, trial_counts)
            if _end_time(trial, wants_exit, home) <= duration:
                b, used = trial, used | {activity}
                counts.update(trial_counts)
                break
        else:
            break
    if wants_exit:
        trial = copy.deepcopy(b, {id(home): home})
        _exit(trial)
        if trial.t <= duration:
            b = trial
    if b.t < duration + 1.0 / fps:
        b.hold("sit" if b.seated else "stand", duration + 1.0 / fps - b.t)
    for label in {tr.label for tr in b.script.tricks}:
        if label not in SEATED["sofa"] + SEATED["table"]:
            counts[label] = counts.get(label, 0) + 1
    return b.script
