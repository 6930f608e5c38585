"""The eight curved or composite Go1 parkour terrain types (ids 1, 2, 5, 8, 9, 11, 16, 17 of MTBench, Joshi et al.,
2025, arXiv 2507.23172; after Eurekaverse / Extreme-Parkour, Cheng et al., 2023, arXiv 2309.14341).

Each generator maps (rescaled difficulty ``d``, numpy ``rng``) to ``(boxes, ground, goal xs, goal ys, spheres)``
(``terrain.make_tile`` adds the walls and pads). Parameters follow MTBench's 0.05 m heightfield generators (their
cell counts converted to metres); the shapes they draw become MJX primitives (``shapes.py``, ``docs/parkour.md``):
a paraboloid or cubic speed bump becomes the sphere cap with the same top and footprint; a flat disc (cylinder)
becomes the square box of equal area; a spiral-staircase sector becomes a yawed box.
"""

from __future__ import annotations

import numpy as np

from envs_bridge.parkour.shapes import PIT, SPAWN, TILE_Y, box_row, cylinder_box, pit_ends, ramp, sphere_cap

__all__ = ["GENERATORS"]

_C = 0.05  # MTBench's heightfield cell (m); its radii are given in cells
_MID = SPAWN[1]


def _forward_ramp_lips(d, rng):
    """Id 1: a lip of height U[0.1+0.2d, 0.15+0.2d], then a ramp rising U[0.03+0.25d, 0.05+0.3d] over 1.2-0.3d m."""
    length, gap, width = 1.2 - 0.3 * d, 0.7 + 0.3 * d, rng.uniform(1.0, 2.0)
    x, boxes, xs, ys = 2.0, [], [1.5], [_MID]
    for _ in range(6):
        ln, y = length + rng.uniform(-0.3, 0.3), _MID + rng.uniform(-0.1, 0.1)
        lip = rng.uniform(0.1 + 0.2 * d, 0.15 + 0.2 * d)
        rise = rng.uniform(0.03 + 0.25 * d, 0.05 + 0.3 * d)
        y0, y1 = y - width / 2, y + width / 2
        boxes.append(box_row(x, x + ln, y0, y1, 0.0, lip))  # the lip: a block under the ramp
        thick = rise * np.cos(np.arctan2(rise, ln)) + 0.02  # reaches into the block at the high end
        boxes.append(ramp(x, ln, lip, lip + rise, y0, y1, thick=thick))
        xs.append(x + ln / 2)
        ys.append(y)
        x += ln + gap
    return boxes, 0.0, xs + [x + 0.5], ys + [_MID], []


def _bumps(d, rng, lips: bool):
    """Ids 2 and 5: six speed bumps, centres jittered U[-0.4, 0.4] x U[-0.9, 0.9] m, as sphere caps."""
    if lips:  # height H - (r/R)^3 inside r <= R - lip, a vertical lip at the edge; H grows by 0.05 per bump
        r_lo, r_hi, h_lo, h_hi = 20 - 5 * d, 21 - 5 * d, 0.1 + 0.4 * d, 0.15 + 0.45 * d
    else:  # height max(H - (r/R)^p, 0), p = 2 - 0.15 d
        r_lo, r_hi, h_lo, h_hi = 20 - 5.5 * d, 21 - 5.5 * d, 0.2 + 0.4 * d, 0.25 + 0.4 * d
    x, spheres, xs, ys = 2.0 + r_hi * _C, [], [1.5], [_MID]
    for k in range(6):
        cx, cy = x + rng.uniform(-0.4, 0.4), _MID + rng.uniform(-0.9, 0.9)
        big_r = rng.uniform(r_lo, r_hi) * _C
        top = rng.uniform(h_lo, h_hi) + (0.05 * k if lips else 0.0)
        if lips:
            foot = big_r - rng.uniform(10 - 2 * d, 11 - 2 * d) * _C
            base = max(top - (foot / big_r) ** 3, 0.0)  # the lip's top; the cap's skirt replaces its wall
        else:
            foot, base = big_r * top ** (1.0 / (2 - 0.15 * d)), 0.0
        spheres.append(sphere_cap(cx, cy, top, base, foot, 0.0))
        xs.append(cx)
        ys.append(cy)
        x += 0.2 - 0.05 * d + 2 * big_r
    return [], 0.0, xs + [x + 0.5], ys + [_MID], spheres


def _flat_circle_jump(d, rng):
    """Id 8: six flat discs over the pit (radius R - lip ~ 0.5 m, height U[0.1+0.08d, 0.2+0.1d]) as square boxes."""
    dist_lo, dist_hi = 0.4 + 0.7 * d, 0.5 + 0.8 * d
    x, boxes, xs, ys = 2.0 + dist_hi, [], [1.5], [_MID]
    for _ in range(6):
        cx = x + rng.uniform(-0.2 + 0.15 * d, 0.2 + 0.15 * d)
        cy = _MID + rng.uniform(-0.2 + 0.15 * d, 0.2 + 0.15 * d)
        a = (rng.uniform(20 - 0.5 * d, 21 + 1.2 * d) - rng.uniform(10 + 0.4 * d, 10.1 + 0.6 * d)) * _C
        boxes.append(cylinder_box(cx, cy, a, PIT, rng.uniform(0.1 + 0.08 * d, 0.2 + 0.1 * d)))
        xs.append(cx)
        ys.append(cy)
        x += rng.uniform(dist_lo, dist_hi) + a
    return boxes + pit_ends(x), PIT, xs + [x + 0.5], ys + [_MID], []


def _bump_jump(d, rng):
    """Id 9: six domes over the pit (H - (r/R)^2, cut at -0.35/(d+2)^2 and at R - lip) as spheres."""
    dist_lo, dist_hi = 0.4 + 0.4 * d, 0.5 + 0.5 * d
    cut = -0.35 / (d + 2) ** 2
    x, spheres, xs, ys = 2.0 + dist_lo, [], [1.5], [_MID]
    for _ in range(6):
        cy = _MID + rng.uniform(-0.2 + 0.15 * d, 0.2 + 0.15 * d)
        big_r = rng.uniform(20 - 2.5 * d, 21 - 2.5 * d) * _C
        lip = rng.uniform(3 + 1.5 * d, 3.5 + 2.0 * d) * _C
        top = rng.uniform(0.1 + 0.05 * d, 0.15 + 0.07 * d)
        foot = min(big_r - lip, big_r * np.sqrt(top - cut))
        spheres.append(sphere_cap(x, cy, top, top - (foot / big_r) ** 2, foot, PIT))
        xs.append(x)
        ys.append(cy)
        x += rng.uniform(dist_lo, dist_hi) + big_r - lip
    return pit_ends(x), PIT, xs + [x + 0.5], ys + [_MID], spheres


def _stones_cylinder(d, rng):
    """Id 11: twelve zig-zag discs of radius 0.35 - 0.175 d m, height U[0, 0.07 d], over the pit, as square boxes."""
    r = (7 - 3.5 * d) * _C
    x, y, side, boxes, xs, ys = 2.0 + r / 2, _MID, 1, [], [1.5], [_MID]
    for i in range(12):
        side = -side
        dy = rng.uniform(0.15 - 0.05 * d, 0.2 - 0.05 * d)
        boxes.append(cylinder_box(x + r / 2, y + side * dy, r, PIT, 0.07 * d * rng.uniform()))  # U[0, 0.07 d]
        gap = rng.uniform(0.05 + 0.05 * d, 0.1 + 0.07 * d)
        if i % 2 == 0:
            x += gap + r / 3
            xs.append(x)
            ys.append(y + r / 2)
            y += r
        else:
            x += 1.5 * gap + r
            y = _MID
    return boxes + pit_ends(x), PIT, xs + [x + 0.5], ys + [_MID], []


def _spiral(d, rng):
    """Id 16: a disc of radius R = 2 (1 - 0.35 d) m at (6, 2) cut in 14 sectors, each U[0.05+0.15d, 0.05+0.2d] m
    higher than the last, counter-clockwise from -x (sector 0 at height 0). Ours: sector k is a yawed box over
    radii [0.4 R, R] as wide as the sector's chord at 0.7 R (the disc's middle is a well at ground height); goals
    on sectors 1, 3, .., 13 at radius 0.7 R (MTBench: 0.47 R, where our boxes would be too many within reach)."""
    big_r, cx, cy = 2.0 * (1 - 0.35 * d), 6.0, _MID
    half_w = 0.7 * big_r * np.sin(np.pi / 14)
    boxes, h = [], 0.0
    xs, ys = [4.0 - 0.25 * big_r], [_MID - 0.3]
    for k in range(14):
        phi = -np.pi + np.pi * (k + 0.5) / 7
        if h > 0:
            row = box_row(-0.3 * big_r, 0.3 * big_r, -half_w, half_w, 0.0, h, yaw=phi)
            row[0], row[1] = cx + 0.7 * big_r * np.cos(phi), cy + 0.7 * big_r * np.sin(phi)
            boxes.append(row)
        if k % 2:
            xs.append(cx + 0.7 * big_r * np.cos(phi))
            ys.append(cy + 0.7 * big_r * np.sin(phi))
        h += rng.uniform(0.05 + 0.15 * d, 0.05 + 0.2 * d)
    return boxes, 0.0, xs, ys, []


def _squeeze(d, rng):
    """Id 17: six tunnels between two 0.5 m wide, 0.7 m high blocks, width U[0.5-0.15d, 0.6-0.15d] m."""
    length, x, boxes, xs, ys = 0.6 + 0.4 * d, 2.0, [], [1.5], [_MID]
    for i in range(6):
        ln, y = length + rng.uniform(-0.1, 0.1), _MID + rng.uniform(-0.1, 0.1)
        w = rng.uniform(0.5 - 0.15 * d, 0.6 - 0.15 * d) - i * 0.005 * d * _C
        boxes.append(box_row(x, x + ln, y + w / 2, min(y + w / 2 + 0.5, TILE_Y - 0.1), 0.0, 0.7))
        boxes.append(box_row(x, x + ln, max(y - w / 2 - 0.5, 0.1), y - w / 2, 0.0, 0.7))
        xs.append(x + ln / 2)
        ys.append(y)
        x += ln + rng.uniform(0.4 - 0.1 * d, 0.5 - 0.1 * d)
    return boxes, 0.0, xs + [x + 0.5], ys + [_MID], []


GENERATORS = {
    1: _forward_ramp_lips,
    2: lambda d, rng: _bumps(d, rng, lips=True),
    5: lambda d, rng: _bumps(d, rng, lips=False),
    8: _flat_circle_jump,
    9: _bump_jump,
    11: _stones_cylinder,
    16: _spiral,
    17: _squeeze,
}
