"""Rendering: a per-pixel ray caster for the static scene, a depth-tested billboard for the person.

The static scene of a camera (walls, furniture, switchable objects in one state) is rendered once into
an RGB image and a depth map (forward distance); each frame copies it and draws the person's sprite,
scaled by depth, where it is nearer than the scene. The person's visible pixels give visibility and box.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vicokd.simulation.body import SPRITE_H, SPRITE_W
from vicokd.simulation.world import CEILING, Camera, Finish, Home, ObjectState

HORIZON = 0.28  # principal point row, as a fraction of the image height
MIN_VISIBLE_SHARE = 0.3  # visible share of the person's body needed to count as seen
MIN_VISIBLE_PIXELS = 12


@dataclass(frozen=True)
class Lens:
    """A camera at an image size: focal length ``f`` and principal point ``(cu, cv)`` in pixels."""

    camera: Camera
    width: int
    height: int

    @property
    def f(self) -> float:
        return self.width / 2 / np.tan(self.camera.hfov / 2)

    @property
    def cu(self) -> float:
        return self.width / 2

    @property
    def cv(self) -> float:
        return HORIZON * self.height + 0.013

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Forward and right unit vectors (3,) of the camera."""
        yaw = self.camera.yaw
        return np.array([np.cos(yaw), np.sin(yaw), 0.0]), np.array([np.sin(yaw), -np.cos(yaw), 0.0])

    def rays(self) -> np.ndarray:
        """Ray directions (H, W, 3) through pixel centres, scaled to unit forward component."""
        fwd, right = self.axes()
        u = (np.arange(self.width) + 0.5 - self.cu) / self.f
        v = (np.arange(self.height) + 0.5 - self.cv) / self.f
        return (fwd[None, None] + u[None, :, None] * right[None, None]
                - v[:, None, None] * np.array([0.0, 0.0, 1.0])[None, None])


def _floor_color(x: np.ndarray, y: np.ndarray, finish: Finish) -> np.ndarray:
    """The floor's colour with faintly lighter alternate squares of ``finish.tile`` m: (N, 3) float."""
    square = (np.floor(x / finish.tile) + np.floor(y / finish.tile)) % 2
    return np.array(finish.floor, float)[None] + square[:, None] * 10.0


def _box_pixels(lens: Lens, lo: np.ndarray, hi: np.ndarray) -> np.ndarray | None:
    """Flat indices of the pixels a box can cover (its projected corners' rectangle); None = all."""
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    fwd, right = lens.axes()
    rel = corners - np.array(lens.camera.position)
    depth = rel @ fwd
    if (depth < 0.05).any():
        return None
    u = lens.cu + lens.f * (rel @ right) / depth
    v = lens.cv - lens.f * rel[:, 2] / depth
    c0, c1 = max(int(np.floor(u.min())), 0), min(int(np.ceil(u.max())), lens.width)
    r0, r1 = max(int(np.floor(v.min())), 0), min(int(np.ceil(v.max())), lens.height)
    if c0 >= c1 or r0 >= r1:
        return np.zeros(0, int)
    rows, cols = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
    return (rows * lens.width + cols).ravel()


def _cast(lens: Lens, boxes, rays: np.ndarray, depth: np.ndarray, color: np.ndarray) -> None:
    """Ray-cast ``boxes`` into flat ``depth`` (N,) and ``color`` (N, 3) in place, nearest hit wins."""
    o = np.array(lens.camera.position)
    safe = np.where(np.abs(rays) < 1e-9, 1e-9, rays)
    for box in boxes:
        lo, hi = np.array(box.lo), np.array(box.hi)
        idx = _box_pixels(lens, lo, hi)
        idx = np.arange(len(depth)) if idx is None else idx
        if len(idx) == 0:
            continue
        d = safe[idx]
        t1, t2 = (lo - o) / d, (hi - o) / d
        near = np.minimum(t1, t2)
        t_in, t_out = near.max(axis=1), np.maximum(t1, t2).min(axis=1)
        hit = (t_in <= t_out) & (t_in > 0.05) & (t_in < depth[idx])
        shade = np.array([0.82, 0.68, 1.0])[near[hit].argmax(axis=1)]
        depth[idx[hit]] = t_in[hit]
        color[idx[hit]] = np.array(box.color, float)[None] * shade[:, None]


@lru_cache(maxsize=16)
def _fixed_scene(home: Home, camera_index: int, width: int, height: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rays (N, 3), depth (N,) and colour (N, 3) of floor, ceiling, walls and furniture."""
    lens = Lens(home.cameras[camera_index], width, height)
    d = lens.rays().reshape(-1, 3)
    o = np.array(lens.camera.position)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(d[:, 2] < 0, -o[2] / d[:, 2], np.inf)
        t_ceil = np.where(d[:, 2] > 0, (CEILING - o[2]) / d[:, 2], np.inf)
    floor = t_floor < t_ceil
    depth = np.where(floor, t_floor, t_ceil)
    p = o + np.where(np.isfinite(depth), depth, 0)[:, None] * d
    color = np.empty((len(d), 3))
    color[:] = (210.0, 208.0, 200.0)
    color[floor] = _floor_color(p[floor, 0], p[floor, 1], home.finish)
    _cast(lens, [*home.walls, *home.furniture], d, depth, color)
    return d, depth, color


@lru_cache(maxsize=256)
def static_scene(home: Home, camera_index: int, state: ObjectState, width: int, height: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """RGB (H, W, 3) uint8 and depth (H, W) float32 of the home seen by a camera, without the person."""
    lens = Lens(home.cameras[camera_index], width, height)
    d, depth, color = (a.copy() for a in _fixed_scene(home, camera_index, width, height))
    switchables = home.boxes(state)[len(home.walls) + len(home.furniture):]
    _cast(lens, switchables, d, depth, color)
    light = np.full((len(d), 1), 0.8 + 0.12 * state.curtain_open)
    if state.lamp_on:
        p = np.array(lens.camera.position) + np.minimum(depth, 50)[:, None] * d
        lamp = np.array([*home.fixtures["lamp"][:2], 1.6])
        light = light + 0.45 * np.exp(-((p - lamp) ** 2).sum(axis=1) / 2.0)[:, None] * np.array(
            [1.0, 0.85, 0.5])[None]
    rgb = np.clip(color * light, 0, 255).astype(np.uint8).reshape(height, width, 3)
    return rgb, depth.astype(np.float32).reshape(height, width)


@dataclass(frozen=True)
class PersonView:
    """What one camera sees of the person in one frame: visibility and the visible part's box."""

    visible: bool
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 normalised; NaN when not visible


HIDDEN = PersonView(False, (np.nan, np.nan, np.nan, np.nan))


def draw_person(image: np.ndarray, scene_depth: np.ndarray, lens: Lens, position: tuple[float, float],
                facing: float, rgba: np.ndarray) -> PersonView:
    """Draw the person's sprite (SPRITE_H, SPRITE_W, 4) into ``image`` (H, W, 3) in place, depth-tested.

    The sprite stands at ``position`` on the floor, mirrored so that it faces the camera-relative side of
    ``facing``. Returns visibility (enough of the body in frame and unoccluded) and the visible box.
    """
    fwd, right = lens.axes()
    rel = np.array([position[0], position[1], 0.0]) - np.array(lens.camera.position)
    dist, lateral = float(rel @ fwd), float(rel @ right)
    if dist < 0.3:
        return HIDDEN
    f, h, w = lens.f, lens.height, lens.width
    cz = lens.camera.position[2]
    u0, u1 = lens.cu + f * (lateral - 0.5) / dist, lens.cu + f * (lateral + 0.5) / dist
    v0, v1 = lens.cv + f * (cz - 2.0) / dist, lens.cv + f * cz / dist
    r0, r1 = max(int(np.floor(v0)), 0), min(int(np.ceil(v1)), h)
    c0, c1 = max(int(np.floor(u0)), 0), min(int(np.ceil(u1)), w)
    body_px = _body_share(rgba) * (u1 - u0) * (v1 - v0)
    if r0 >= r1 or c0 >= c1 or body_px < 1:
        return HIDDEN
    rows, cols = np.arange(r0, r1), np.arange(c0, c1)
    si = np.clip(((rows + 0.5 - v0) / (v1 - v0) * SPRITE_H).astype(int), 0, SPRITE_H - 1)
    sj = np.clip(((cols + 0.5 - u0) / (u1 - u0) * SPRITE_W).astype(int), 0, SPRITE_W - 1)
    if np.cos(facing) * right[0] + np.sin(facing) * right[1] < 0:
        sj = SPRITE_W - 1 - sj  # mirrored: the person faces the other way
    patch = rgba[si[:, None], sj[None, :]]
    shown = (patch[..., 3] > 0) & (dist - 0.25 < scene_depth[r0:r1, c0:c1])
    np.copyto(image[r0:r1, c0:c1], patch[..., :3], where=shown[..., None])
    n = int(shown.sum())
    if n < MIN_VISIBLE_PIXELS or n < MIN_VISIBLE_SHARE * body_px:
        return HIDDEN
    r = rows[shown.any(axis=1)]
    c = cols[shown.any(axis=0)]
    return PersonView(True, (c[0] / w, r[0] / h, (c[-1] + 1) / w, (r[-1] + 1) / h))


def _body_share(rgba: np.ndarray) -> float:
    """Share of the sprite's canvas covered by the body (alpha > 0)."""
    return float(np.count_nonzero(rgba[..., 3])) / (SPRITE_H * SPRITE_W)
