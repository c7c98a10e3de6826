"""The synthetic homes: floor plans, furniture, object states, places where actions happen, cameras.

Coordinates are metres: x east, y north, z up; the floor is z = 0. Everything solid is an axis-aligned
box; a wall with a doorway is two boxes. Cameras are pinholes on the walls, looking horizontally along
a yaw with the principal point above the image centre (a shifted sensor), so they see the floor.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

CEILING = 2.6
WALL = 0.12


@dataclass(frozen=True)
class Box:
    """A solid axis-aligned box ``lo``–``hi`` (x, y, z) with one RGB colour."""

    lo: tuple[float, float, float]
    hi: tuple[float, float, float]
    color: tuple[int, int, int]


@dataclass(frozen=True)
class ObjectState:
    """The switchable objects of a home; each action that changes one flips it."""

    lamp_on: bool = False
    curtain_open: bool = True
    laptop_on: bool = False
    ac_on: bool = False
    door_open: bool = False


@dataclass(frozen=True)
class Place:
    """Where an action is done: the person stands or sits at ``spot`` facing ``facing`` (rad)."""

    spot: tuple[float, float]
    facing: float


@dataclass(frozen=True)
class Camera:
    """A wall camera at ``position`` (x, y, z) looking along ``yaw`` (rad) with horizontal ``hfov`` (rad).

    Its microphone sits at the same position.
    """

    position: tuple[float, float, float]
    yaw: float
    hfov: float


@dataclass(frozen=True)
class Finish:
    """The colours that are not baked into a box: the floor (squares of ``tile`` metres) and curtain."""

    floor: tuple[int, int, int] = (128, 112, 92)
    tile: float = 0.5
    curtain: tuple[int, int, int] = (200, 40, 150)


@dataclass(frozen=True, eq=False)
class Home:
    """A floor plan: static boxes, switchable objects, places, walking waypoints and five cameras."""

    name: str
    size: tuple[float, float]
    walls: tuple[Box, ...]
    furniture: tuple[Box, ...]
    places: dict[str, Place]
    rooms: tuple[tuple[float, float], ...]  # x-intervals of rooms along the corridor axis
    doorways: tuple[tuple[float, float], ...]  # walking waypoints between consecutive rooms
    outside: tuple[float, float]  # where the person stands before Enter / after Exit
    cameras: tuple[Camera, ...]
    fixtures: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    finish: Finish = Finish()

    def boxes(self, state: ObjectState) -> list[Box]:
        """All boxes of the home with its switchable objects drawn in ``state``."""
        return [*self.walls, *self.furniture, *_switchables(self.fixtures, state, self.finish.curtain)]

    def room_of(self, x: float) -> int:
        """Index of the room holding the x coordinate (outside counts as the nearest room)."""
        return next((i for i, (_, b) in enumerate(self.rooms) if x <= b), len(self.rooms) - 1)

    def route(self, start: tuple[float, float], goal: tuple[float, float]) -> list[tuple[float, float]]:
        """Waypoints from ``start`` to ``goal`` through the doorways between rooms."""
        a, b = self.room_of(start[0]), self.room_of(goal[0])
        step = 1 if b >= a else -1
        doors = [self.doorways[min(i, i + step)] for i in range(a, b, step)]
        return [start, *doors, goal]


WALL_COLORS = ((176, 170, 160), (160, 172, 168), (170, 162, 176), (150, 160, 176), (178, 168, 150))
WOOD = (110, 80, 55)
SOFA = (70, 110, 90)
TABLE = (140, 105, 70)


def _box(x0, y0, z0, x1, y1, z1, color) -> Box:
    return Box((x0, y0, z0), (x1, y1, z1), tuple(int(c) for c in color))


def _outer_walls(width: float, depth: float, door_y: tuple[float, float],
                 c: tuple[tuple[int, int, int], ...] = WALL_COLORS) -> list[Box]:
    """Four outer walls coloured ``c`` (south, north, east, west); a door gap at ``door_y`` in the west."""
    return [
        _box(-WALL, -WALL, 0, width + WALL, 0, CEILING, c[0]),  # south
        _box(-WALL, depth, 0, width + WALL, depth + WALL, CEILING, c[1]),  # north
        _box(width, 0, 0, width + WALL, depth, CEILING, c[2]),  # east
        _box(-WALL, 0, 0, 0, door_y[0], CEILING, c[3]),  # west, below the door
        _box(-WALL, door_y[1], 0, 0, depth, CEILING, c[3]),  # west, above the door
        _box(-WALL, door_y[0], 2.1, 0, door_y[1], CEILING, c[3]),  # lintel
    ]


def _switchables(f: dict[str, tuple[float, float, float]], s: ObjectState,
                 curtain: tuple[int, int, int]) -> list[Box]:
    """Lamp, window+curtain, laptop, AC unit and door, drawn in the state ``s``."""
    out = []
    lx, ly, _ = f["lamp"]
    out += [
        _box(lx - 0.04, ly - 0.04, 0, lx + 0.04, ly + 0.04, 1.45, (60, 60, 60)),
        _box(lx - 0.18, ly - 0.18, 1.45, lx + 0.18, ly + 0.18, 1.75,
             (255, 235, 120) if s.lamp_on else (70, 60, 50)),
    ]
    wx, wy, _ = f["window"]  # window in a south (y = 0) or north wall, 1.4 m wide
    sgn = 1 if wy < 1 else -1
    face = wy + sgn * 0.02
    out.append(_box(wx - 0.7, min(wy, face), 0.8, wx + 0.7, max(wy, face), 2.2, (150, 210, 255)))
    cy0, cy1 = sorted((wy + sgn * 0.03, wy + sgn * 0.07))
    if s.curtain_open:
        out += [_box(wx - 0.95, cy0, 0.6, wx - 0.7, cy1, 2.35, curtain),
                _box(wx + 0.7, cy0, 0.6, wx + 0.95, cy1, 2.35, curtain)]
    else:
        out.append(_box(wx - 0.8, cy0, 0.6, wx + 0.8, cy1, 2.35, curtain))
    tx, ty, tz = f["laptop"]
    out += [_box(tx - 0.18, ty - 0.12, tz, tx + 0.18, ty + 0.12, tz + 0.03, (40, 40, 40)),
            _box(tx - 0.18, ty + 0.10, tz, tx + 0.18, ty + 0.13, tz + 0.26,
                 (120, 230, 255) if s.laptop_on else (25, 25, 30))]
    ax, ay, az = f["ac"]  # AC on a north (y = depth) wall
    out += [_box(ax - 0.45, ay - 0.25, az, ax + 0.45, ay, az + 0.3, (235, 235, 235)),
            _box(ax - 0.3, ay - 0.27, az + 0.02, ax + 0.3, ay - 0.25, az + 0.06,
                 (40, 220, 60) if s.ac_on else (90, 90, 90))]
    dx, dy, _ = f["door"]  # door in the west wall (x = 0), hinged at its south side
    if s.door_open:
        out.append(_box(dx + 0.02, dy - 0.45, 0, dx + 0.88, dy - 0.4, 2.1, (120, 70, 30)))
    else:
        out.append(_box(dx - 0.06, dy - 0.45, 0, dx, dy + 0.45, 2.1, (120, 70, 30)))
    return out


def home1() -> Home:
    """Home1: hall, living room and dining room in a row; views overlap partially.

    The hall, the sofa, the lamp, the window, the table and the AC are each seen by one camera only;
    the two living-room cameras share the floor spot (cleaning) and most of the walking between, and
    the dining room's walkway is seen from both dining cameras (and through the doorway).
    """
    w, d = 10.0, 5.0
    c = WALL_COLORS
    walls = _outer_walls(w, d, (3.05, 3.95)) + [
        _box(2.6, 0, 0, 2.6 + WALL, 1.4, CEILING, c[4]), _box(2.6, 2.4, 0, 2.6 + WALL, d, CEILING, c[4]),
        _box(6.8, 0, 0, 6.8 + WALL, 2.6, CEILING, c[1]), _box(6.8, 3.6, 0, 6.8 + WALL, d, CEILING, c[1]),
    ]
    furniture = (
        _box(4.4, 4.2, 0, 6.2, 5.0, 0.45, SOFA), _box(4.4, 4.75, 0.45, 6.2, 5.0, 0.9, SOFA),
        _box(7.9, 1.3, 0.7, 9.5, 2.3, 0.76, TABLE), _box(8.0, 1.4, 0, 8.1, 1.5, 0.7, TABLE),
        _box(9.3, 2.1, 0, 9.4, 2.2, 0.7, TABLE), _box(8.2, 3.9, 0, 9.9, 4.9, 0.9, WOOD),  # sideboard
        _box(1.4, 4.3, 0, 2.5, 4.9, 1.9, WOOD),  # wardrobe in the hall
        _box(3.2, 0.3, 0, 3.9, 0.8, 0.7, (90, 90, 120)),  # cabinet
    )
    places = {
        "door": Place((0.7, 3.5), np.pi), "lamp": Place((3.45, 3.95), 2.36),
        "window": Place((5.2, 0.75), -np.pi / 2), "ac": Place((7.5, 4.2), np.pi / 2),
        "sofa": Place((5.3, 4.45), -np.pi / 2), "table": Place((8.7, 0.8), np.pi / 2),
        "floor": Place((4.6, 2.6), 0.0),
    }
    cams = (
        Camera((2.45, 0.15, 2.3), 2.2, np.radians(80)),  # hall, towards the door
        Camera((2.8, 0.15, 2.3), 0.95, np.radians(70)),  # living room, towards sofa and lamp
        Camera((6.65, 4.2, 2.3), np.radians(-135), np.radians(75)),  # living room, to window and floor
        Camera((9.85, 4.85, 2.3), -1.9, np.radians(60)),  # dining room, towards the table
        Camera((7.0, 0.15, 2.3), 1.35, np.radians(65)),  # dining room, towards the AC
    )
    fixtures = {"lamp": (3.0, 4.5, 0.0), "window": (5.2, 0.0, 0.0), "laptop": (8.7, 1.6, 0.76),
                "ac": (7.4, 5.0, 2.0), "door": (0.0, 3.5, 0.0)}
    return Home("Home1", (w, d), tuple(walls), furniture, places, ((0, 2.6), (2.6, 6.8), (6.8, w)),
                ((2.65, 1.9), (6.85, 3.1)), (-1.2, 3.5), cams, fixtures)


def home2() -> Home:
    """Home2: one open room; all five cameras look at its middle, so views overlap a lot."""
    w, d = 7.0, 6.0
    furniture = (
        _box(1.0, 5.2, 0, 2.8, 6.0, 0.45, SOFA), _box(1.0, 5.75, 0.45, 2.8, 6.0, 0.9, SOFA),
        _box(4.2, 2.2, 0.7, 5.6, 3.2, 0.76, TABLE), _box(4.3, 2.3, 0, 4.4, 2.4, 0.7, TABLE),
        _box(5.4, 3.0, 0, 5.5, 3.1, 0.7, TABLE),
        _box(2.6, 2.8, 0, 3.0, 4.0, 1.8, WOOD),  # bookshelf in the middle: the occluder
        _box(6.2, 4.6, 0, 7.0, 5.6, 1.0, WOOD),  # sideboard
    )
    places = {
        "door": Place((0.7, 1.5), np.pi), "lamp": Place((0.95, 3.05), 2.4),
        "window": Place((4.3, 0.75), -np.pi / 2), "ac": Place((5.0, 5.1), np.pi / 2),
        "sofa": Place((1.9, 5.45), -np.pi / 2), "table": Place((4.9, 1.8), np.pi / 2),
        "floor": Place((2.2, 2.3), 0.0),
    }
    cams = (
        Camera((0.15, 0.15, 2.3), 0.7, np.radians(85)),
        Camera((6.85, 0.15, 2.3), 2.4, np.radians(85)),
        Camera((6.85, 5.85, 2.3), -2.35, np.radians(85)),
        Camera((0.15, 5.85, 2.3), -0.75, np.radians(85)),
        Camera((3.5, 0.15, 2.3), np.pi / 2, np.radians(90)),
    )
    fixtures = {"lamp": (0.45, 3.5, 0.0), "window": (4.3, 0.0, 0.0), "laptop": (4.9, 2.5, 0.76),
                "ac": (5.0, 6.0, 2.0), "door": (0.0, 1.5, 0.0)}
    return Home("Home2", (w, d), tuple(_outer_walls(w, d, (1.05, 1.95))), furniture, places,
                ((0, w),), (), (-1.2, 1.5), cams, fixtures)


def home3() -> Home:
    """Home3, for pretraining encoders (not an evaluation home): a kitchen-diner with the entrance,
    then a living room; its own colours, floor tiles and cameras (at 2.4 m)."""
    w, d = 8.5, 6.0
    walls_c = ((205, 190, 160), (196, 184, 168), (182, 196, 178), (200, 176, 160), (188, 186, 200))
    sofa, table, wood = (165, 130, 55), (205, 195, 175), (85, 60, 45)
    walls = _outer_walls(w, d, (4.55, 5.45), walls_c) + [
        _box(4.0, 0, 0, 4.0 + WALL, 2.5, CEILING, walls_c[4]),
        _box(4.0, 3.5, 0, 4.0 + WALL, d, CEILING, walls_c[4]),
    ]
    furniture = (
        _box(1.2, 1.2, 0.7, 2.6, 2.2, 0.76, table), _box(1.3, 1.3, 0, 1.4, 1.4, 0.7, table),
        _box(2.4, 2.0, 0, 2.5, 2.1, 0.7, table),
        _box(2.9, 0.0, 0, 3.9, 0.6, 0.9, (120, 130, 140)),  # kitchen counter
        _box(3.2, 5.3, 0, 3.9, 6.0, 2.0, (225, 225, 230)),  # fridge
        _box(7.7, 1.8, 0, 8.5, 3.6, 0.45, sofa), _box(8.25, 1.8, 0.45, 8.5, 3.6, 0.9, sofa),
        _box(6.5, 2.3, 0, 7.1, 3.1, 0.4, wood),  # coffee table
        _box(4.4, 5.6, 0, 5.6, 6.0, 1.9, wood),  # bookshelf
    )
    places = {
        "door": Place((0.7, 5.0), np.pi), "lamp": Place((7.45, 5.0), 0.74),
        "window": Place((6.0, 0.75), -np.pi / 2), "ac": Place((2.2, 5.2), np.pi / 2),
        "sofa": Place((7.95, 2.7), np.pi), "table": Place((1.9, 0.7), np.pi / 2),
        "floor": Place((5.6, 3.6), 0.0),
    }
    cams = (
        Camera((3.85, 0.15, 2.4), np.radians(137), np.radians(85)),  # kitchen-diner, towards the door
        Camera((1.5, 5.85, 2.4), np.radians(-80), np.radians(80)),  # kitchen-diner, towards the table
        Camera((4.3, 0.15, 2.4), np.radians(45), np.radians(80)),  # living room, towards sofa and lamp
        Camera((6.5, 5.85, 2.4), np.radians(-100), np.radians(80)),  # living room, towards the window
        Camera((8.35, 0.15, 2.4), np.radians(130), np.radians(75)),  # living room, towards the doorway
    )
    fixtures = {"lamp": (8.0, 5.5, 0.0), "window": (6.0, 0.0, 0.0), "laptop": (1.9, 1.5, 0.76),
                "ac": (2.2, 6.0, 2.0), "door": (0.0, 5.0, 0.0)}
    return Home("Home3", (w, d), tuple(walls), furniture, places, ((0, 4.0), (4.0, w)), ((4.06, 3.0),),
                (-1.2, 5.0), cams, fixtures,
                Finish(floor=(150, 146, 138), tile=0.6, curtain=(40, 140, 130)))


#: Home1 and Home2 stand for the evaluation homes of MultiSensor-Home; Home3 is for pretraining only.
HOMES = {"Home1": home1, "Home2": home2, "Home3": home3}


@cache
def make_home(name: str) -> Home:
    """The home called ``name`` (Home1, Home2 or Home3); a clear error for any other name."""
    if name not in HOMES:
        raise ValueError(f"Unknown simulated home {name!r}; the simulator knows {sorted(HOMES)}")
    return HOMES[name]()
