"""Primitive shapes of the Go1 parkour tiles (``terrain.py``, ``docs/parkour.md``): oriented boxes and spheres.

MTBench (Joshi et al., 2025, arXiv 2507.23172) meshes an 18 m x 4 m heightfield per tile; MJX has no broad phase,
so our tiles are short lists of MJX primitives. A box row is ``[cx, cy, cz, hx, hy, hz, qw, qx, qy, qz]`` (centre,
half sizes, orientation); a sphere row is ``[cx, cy, cz, r, f]`` with ``f`` the radius of its footprint above the
tile's ground (what the broad phase measures). Unused rows are parked at ``z = -50``. Cylinders are not used: MJX
3.17 collides spheres and capsules with cylinders by SDF gradient descent (``collision_sdf.py``, 10 iterations,
"TODO: improve robustness" near sharp corners, the rims the feet land on), so a vertical cylinder is a square box
of equal top area (``cylinder_box``). Host side (numpy) only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PARK", "PARK_SPHERE", "PIT", "SPAWN", "TILE_X", "TILE_Y", "box_row", "cylinder_box", "goals_array",
           "pit_ends", "ramp", "sphere_cap", "walls"]

TILE_X, TILE_Y = 18.0, 4.0
SPAWN = (1.0, 2.0)
PIT = -1.0
_WALL_H, _WALL_W = 0.5, 0.1
PARK = [0.0, 0.0, -50.0, 0.01, 0.01, 0.01, 1.0, 0.0, 0.0, 0.0]
PARK_SPHERE = [0.0, 0.0, -50.0, 0.01, 0.01]
_SQRT_PI_2 = np.sqrt(np.pi) / 2  # half side of the square with the area of the unit disc


def _qmul(a, b):
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return [w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2]


def box_row(x0, x1, y0, y1, z0, z1, pitch=0.0, roll=0.0, yaw=0.0) -> list[float]:
    """An axis-aligned box spanning the given ranges, rotated about its centre by yaw (z) * pitch (y) * roll (x)."""
    qy = [np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
    qp = [np.cos(pitch / 2), 0.0, np.sin(pitch / 2), 0.0]
    qr = [np.cos(roll / 2), np.sin(roll / 2), 0.0, 0.0]
    q = _qmul(qy, _qmul(qp, qr))
    return [(x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2, (x1 - x0) / 2, (y1 - y0) / 2, (z1 - z0) / 2, *q]


def ramp(x0, length, h0, h1, y0=0.1, y1=TILE_Y - 0.1, thick=0.1) -> list[float]:
    """A plank whose top surface rises linearly from height h0 at x0 to h1 at x0 + length (a pitched box)."""
    theta = np.arctan2(h1 - h0, length)
    half = np.hypot(length, h1 - h0) / 2
    cx, cz = x0 + length / 2 + thick / 2 * np.sin(theta), (h0 + h1) / 2 - thick / 2 * np.cos(theta)
    row = box_row(0, 2 * half, y0, y1, 0, thick, pitch=-theta)
    row[0], row[2] = cx, cz
    return row


def cylinder_box(cx, cy, radius, z0, z1) -> list[float]:
    """A vertical cylinder of ``radius`` from z0 to z1 as the axis-aligned square prism of equal top area."""
    h = radius * _SQRT_PI_2
    return box_row(cx - h, cx + h, cy - h, cy + h, z0, z1)


def sphere_cap(cx, cy, top, base, foot, ground) -> list[float]:
    """The sphere whose cap reaches height ``top`` at (cx, cy) and has radius ``foot`` at height ``base``.

    Radius ``r = (foot^2 + c^2) / (2 c)`` with cap height ``c = top - base``; centre ``z = top - r``. The last
    column is the sphere's footprint radius at the tile's ``ground`` (its widest section if the centre is higher).
    """
    c = top - base
    r = (foot ** 2 + c ** 2) / (2 * c)
    cz = top - r
    f = np.sqrt(max(r ** 2 - (ground - cz) ** 2, 0.0)) if cz < ground else r
    return [cx, cy, cz, r, f]


def walls(floor: float) -> list[list[float]]:
    """MTBench's 0.1 m wide, 0.5 m high walls on the four tile edges."""
    w, x, y, h = _WALL_W, TILE_X, TILE_Y, _WALL_H
    return [box_row(0, x, 0, w, floor, h), box_row(0, x, y - w, y, floor, h),
            box_row(0, w, w, y - w, floor, h), box_row(x - w, x, w, y - w, floor, h)]


def pit_ends(x_end: float, top: float = 0.0) -> list[list[float]]:
    """Spawn zone [0, 2] m at height 0 and landing zone [x_end, 18] m at ``top`` over a pit floor."""
    return [box_row(0, 2.0, 0, TILE_Y, PIT, 0.0), box_row(x_end, TILE_X, 0, TILE_Y, PIT, top)]


def goals_array(xs, ys=None) -> np.ndarray:
    """``[n, 2]`` goals from x (and y, default the spawn line)."""
    xs = np.asarray(xs, np.float64)
    ys = np.full_like(xs, SPAWN[1]) if ys is None else np.asarray(ys, np.float64)
    return np.stack([xs, ys], -1)
