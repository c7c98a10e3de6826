"""The person: a side-view stick figure with thick limbs, drawn as an RGBA sprite for each pose.

The sprite canvas spans 1 m wide (x in [-0.5, 0.5], facing +x) by 2 m tall (z in [0, 2]); the renderer
stands it upright at the person's floor position, facing the camera.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

SPRITE_H, SPRITE_W = 80, 40
SHIRT, TROUSERS, SKIN, HAIR = (225, 25, 25), (25, 35, 150), (240, 190, 145), (35, 20, 10)
HELD, TOOL = (255, 225, 0), (0, 210, 230)
THIGH, SHIN, TORSO, UPPER_ARM, FOREARM = 0.45, 0.45, 0.55, 0.3, 0.3


@dataclass(frozen=True)
class Pose:
    """Joint angles (rad from straight down, positive = forward) and what the hands hold.

    ``legs``/``arms`` hold (upper, lower) angles for the far and the near limb.
    """

    hip: float = 0.92
    lean: float = 0.0
    legs: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))
    arms: tuple[tuple[float, float], tuple[float, float]] = ((0.05, 0.1), (-0.05, 0.0))
    held: str = ""  # "", "small" (phone, book, cup, spoon, remote) or "tool" (mop / vacuum)


STAND = Pose()
SIT = Pose(hip=0.45, lean=-0.05, legs=((1.5, 0.0), (1.6, 0.0)), arms=((0.3, 0.9), (0.3, 0.9)))


def _lerp(a, b, w):
    if isinstance(a, tuple):
        return tuple(_lerp(x, y, w) for x, y in zip(a, b))
    return a + (b - a) * w


def blend(a: Pose, b: Pose, w: float) -> Pose:
    """The pose a fraction ``w`` of the way from ``a`` to ``b`` (holding what ``b`` holds past half)."""
    return Pose(_lerp(a.hip, b.hip, w), _lerp(a.lean, b.lean, w), _lerp(a.legs, b.legs, w),
                _lerp(a.arms, b.arms, w), b.held if w >= 0.5 else a.held)


def pose_for(kind: str, phase: float, progress: float) -> Pose:
    """The pose of motion ``kind`` at cycle ``phase`` and segment ``progress``, both in [0, 1)."""
    s = np.sin(2 * np.pi * phase)
    if kind == "stand":
        return STAND
    if kind in ("walk", "walk_phone"):
        p = Pose(legs=((0.45 * s, 0.2 * max(s, 0)), (-0.45 * s, 0.2 * max(-s, 0))),
                 arms=((-0.35 * s, 0.2), (0.35 * s, 0.2)))
        return replace(p, arms=(p.arms[0], (0.5, 1.6)), held="small") if kind == "walk_phone" else p
    if kind == "switch":  # lamp switch: near arm forward at shoulder height, pressing
        return replace(STAND, arms=((0.05, 0.1), (1.4 + 0.15 * s, 1.5 + 0.15 * s)))
    if kind == "ac":  # remote pointed up at the wall unit
        return replace(STAND, lean=-0.1, arms=((0.05, 0.1), (2.6, 2.7 + 0.1 * s)), held="small")
    if kind == "curtain":  # both arms up, pulling
        a = 2.0 + 0.5 * np.sin(np.pi * progress)
        return replace(STAND, arms=((a, a + 0.2), (a - 0.2, a)))
    if kind == "sweep":  # bent over a floor tool moving back and forth
        a = 0.75 + 0.35 * s
        return Pose(lean=0.55, legs=((0.25, -0.1), (-0.15, 0.0)), arms=((a, a + 0.1), (a, a + 0.1)),
                    held="tool")
    if kind == "sit":
        return SIT
    if kind == "sit_hold":  # phone or book held at chest, looking down
        return replace(SIT, lean=0.15, arms=((0.3, 1.9), (0.35, 1.95)), held="small")
    if kind == "sit_mouth":  # hand from table to mouth and back
        w = 0.5 - 0.5 * np.cos(2 * np.pi * phase)
        near = (_lerp(0.9, 0.35, w), _lerp(1.5, 2.9, w))
        return replace(SIT, arms=((0.7, 1.5), near), held="small")
    if kind == "sit_type":  # hands on the keyboard
        return replace(SIT, lean=0.1, arms=((0.6, 1.5 + 0.1 * s), (0.6, 1.5 - 0.1 * s)))
    raise ValueError(f"Unknown motion {kind!r}")


def _segment_mask(gx, gz, p, q, r):
    """Canvas pixels within ``r`` of the segment p–q; gx, gz: (H, W) metre grids."""
    px, pz = p
    dx, dz = q[0] - px, q[1] - pz
    t = np.clip(((gx - px) * dx + (gz - pz) * dz) / max(dx * dx + dz * dz, 1e-9), 0, 1)
    return (gx - px - t * dx) ** 2 + (gz - pz - t * dz) ** 2 <= r * r


def _limb(root, angles, lengths):
    """Joint positions of a two-segment limb hanging from ``root``."""
    (a1, a2), (l1, l2) = angles, lengths
    mid = (root[0] + l1 * np.sin(a1), root[1] - l1 * np.cos(a1))
    end = (mid[0] + l2 * np.sin(a2), mid[1] - l2 * np.cos(a2))
    return mid, end


@lru_cache(maxsize=4096)
def sprite(pose: Pose) -> np.ndarray:
    """RGBA sprite (SPRITE_H, SPRITE_W, 4) uint8 of ``pose``, facing +x; alpha is 0 or 255."""
    gz, gx = np.meshgrid((SPRITE_H - 0.5 - np.arange(SPRITE_H)) * 2.0 / SPRITE_H,
                         (np.arange(SPRITE_W) + 0.5) / SPRITE_W - 0.5, indexing="ij")
    img = np.zeros((SPRITE_H, SPRITE_W, 4), np.uint8)

    def paint(mask, color):
        img[mask] = (*color, 255)

    hip = (0.0, pose.hip)
    shoulder = (TORSO * np.sin(pose.lean), pose.hip + TORSO * np.cos(pose.lean))
    limbs = [(_limb(hip, a, (THIGH, SHIN)), TROUSERS, 0.075) for a in pose.legs]
    arms = [(_limb(shoulder, a, (UPPER_ARM, FOREARM)), SHIRT, 0.06) for a in pose.arms]
    for (mid, end), color, r in limbs[:1] + arms[:1]:  # far limbs first
        paint(_segment_mask(gx, gz, hip if color == TROUSERS else shoulder, mid, r), color)
        paint(_segment_mask(gx, gz, mid, end, r), SKIN if color == SHIRT else color)
    paint(_segment_mask(gx, gz, hip, shoulder, 0.15), SHIRT)
    head = (shoulder[0] + 0.05 * np.sin(pose.lean), shoulder[1] + 0.17)
    paint((gx - head[0]) ** 2 + (gz - head[1]) ** 2 <= 0.12 ** 2, SKIN)
    paint(((gx - head[0] + 0.03) ** 2 + (gz - head[1] - 0.05) ** 2 <= 0.1 ** 2) & (gx < head[0]), HAIR)
    for (mid, end), color, r in limbs[1:]:
        paint(_segment_mask(gx, gz, hip, mid, r), color)
        paint(_segment_mask(gx, gz, mid, end, r), color)
    (mid, hand), _, _ = arms[1]
    paint(_segment_mask(gx, gz, shoulder, mid, 0.06), SHIRT)
    paint(_segment_mask(gx, gz, mid, hand, 0.055), SKIN)
    if pose.held == "small":
        paint((np.abs(gx - hand[0]) <= 0.08) & (np.abs(gz - hand[1]) <= 0.08), HELD)
    elif pose.held == "tool":
        foot = (hand[0] + 0.35, 0.04)
        paint(_segment_mask(gx, gz, hand, foot, 0.03), TOOL)
        paint((np.abs(gx - foot[0]) <= 0.12) & (gz <= 0.09), TOOL)
    return img
