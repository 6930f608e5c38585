"""MTBench's Go1 parkour terrains (Joshi et al., 2025, arXiv 2507.23172; generators after Extreme-Parkour, Cheng et
al., 2023, arXiv 2309.14341) rebuilt as boxes for MuJoCo MJX (``docs/parkour.md``).

MTBench meshes an 18 m x 4 m heightfield per tile. MJX has no broad phase, so here a tile is a list of at most
``MAX_BOXES`` oriented boxes plus a ground plane (``z = 0``, or ``z = -1`` for the pit terrains, whose spawn zone
and end zone are then boxes). Each task is a terrain type (its id is MTBench's ``TERRAIN_FUNCTIONS`` index); each
of its 10 levels is one tile generated in numpy at build time, seeded by (type, level). Per env, the tile is data:
``tile_arrays`` stacks every (task, level) into arrays that the env gathers by index, so the curriculum changes an
env's tile without recompiling. Tile frame: x in [0, 18] (forward), y in [0, 4]; the robot spawns at (1, 2).

A box row is ``[cx, cy, cz, hx, hy, hz, qw, qx, qy, qz]`` (centre, half sizes, orientation). Unused rows are parked
at ``z = -50`` and never touched. Difficulty: a row ``r`` in [0, 1] is rescaled per type to
``d = lo - 0.2 + r (hi - lo)`` with MTBench's ranges (``SPECS``); parameters MTBench's summary does not give are
ours and marked "ours" below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from envs_bridge.parkour import terrain_extra
from envs_bridge.parkour.shapes import (
    PARK,
    PARK_SPHERE,
    PIT,
    SPAWN,
    TILE_X,
    TILE_Y,
    box_row,
    goals_array,
    pit_ends,
    ramp,
    walls,
)

__all__ = [
    "IMPLEMENTED",
    "MAX_BOXES",
    "MAX_SPHERES",
    "NUM_GOALS",
    "NUM_LEVELS",
    "SPAWN",
    "SPECS",
    "TERRAIN_NAMES",
    "TILE_X",
    "TILE_Y",
    "Tile",
    "box_row",
    "difficulty",
    "make_tile",
    "tile_arrays",
]

NUM_GOALS, NUM_LEVELS, MAX_BOXES, MAX_SPHERES = 8, 10, 24, 6
_PIT, _PARK = PIT, PARK
_ramp, _walls, _pit_ends, _goals = ramp, walls, pit_ends, goals_array

# id -> (name, difficulty range before the -0.2 offset); MTBench's TERRAIN_FUNCTIONS order (spec 2.1).
SPECS: dict[int, tuple[str, tuple[float, float]]] = {
    0: ("jump_on_and_off_box", (0.1, 0.8)), 1: ("forward_ramp_lips", (0.6, 1.0)),
    2: ("sphere_bump_lips", (0.2, 1.1)), 3: ("forward_ramp_no_lips", (0.4, 0.8)),
    4: ("flush_a_frame", (0.55, 0.9)), 5: ("sphere_bump", (0.3, 1.0)), 6: ("box_jump_even", (-0.1, 0.6)),
    7: ("box_jump_uneven", (-0.2, 0.8)), 8: ("flat_circle_jump", (0.1, 1.0)), 9: ("bump_jump", (-0.3, 0.7)),
    10: ("sideways_ramp", (0.2, 1.1)), 11: ("stepping_stones_cylinder", (-0.2, 1.1)),
    12: ("stepping_stones_randomly_arranged", (0.3, 0.5)), 13: ("staircase_walking_full_width", (0.1, 0.9)),
    14: ("staircase_walking", (0.0, 1.2)), 15: ("staircase_climbing", (0.0, 0.6)),
    16: ("staircase_spiral", (0.0, 1.0)), 17: ("squeeze", (0.0, 1.0)), 18: ("agility_poles", (0.0, 1.0)),
    19: ("balance_beam", (0.5, 1.0)), 20: ("flat", (0.0, 0.0)),
}
TERRAIN_NAMES = tuple(SPECS[i][0] for i in range(21))


@dataclasses.dataclass(frozen=True)
class Tile:
    """One generated tile. boxes: ``[MAX_BOXES, 10]``; ground: plane height; goals: ``[8, 2]`` xy (tile frame);
    spheres: ``[MAX_SPHERES, 5]`` (``shapes.py``)."""

    boxes: np.ndarray
    ground: float
    goals: np.ndarray
    spheres: np.ndarray


# ---------------------------------------------------------------------------------------------- generators
# Each maps (d, rng) to (boxes, ground, goal x, goal y or None). Goal 0 at 1.5 m, one goal per obstacle, the
# last goal 0.5 m past the last obstacle (spec 2.1's pattern).

def _flat(d, rng):
    xs = np.linspace(2.0, TILE_X - 2.0, NUM_GOALS)
    return [], 0.0, xs, SPAWN[1] + rng.uniform(-1.0, 1.0, NUM_GOALS)


def _jump_box(d, rng):
    length, gap, x, boxes, xs = 1.2 - 0.25 * d, 1.0 - 0.1 * d, 2.0, [], [1.5]
    for k in range(6):
        h = rng.uniform(0.1 + 0.55 * d, 0.15 + 0.55 * d) + 0.05 * k
        boxes.append(box_row(x, x + length, 0.1, TILE_Y - 0.1, 0.0, h))
        xs.append(x + length / 2)
        x += length + gap
    return boxes, 0.0, xs + [x - gap + 0.5], None


def _box_jump(d, rng, uneven: bool):
    length, x, h, boxes, xs = 1.0, 2.0, 0.0, [], [1.5]  # box length 1.0 m, width 2 m: ours
    for _ in range(6):
        x += rng.uniform(0.4 + 0.5 * d, 0.5 + 0.5 * d) if not uneven else rng.uniform(0.3 + 0.4 * d, 0.4 + 0.4 * d)
        if uneven:  # height change 0.01-0.27 m (spec), its upper end growing with d (ours)
            h = max(0.0, h + rng.choice([-1, 1]) * rng.uniform(0.01, 0.01 + 0.26 * np.clip(d + 0.2, 0, 1)))
        boxes.append(box_row(x, x + length, 1.0, 3.0, _PIT, h))
        xs.append(x + length / 2)
        x += length
    x += 0.4
    return boxes + _pit_ends(x), _PIT, xs + [x + 0.5], None


def _ramps(d, rng, frame: bool):
    x, boxes, xs = 2.0, [], [1.5]
    up = 0.8 if frame else 1.0  # ramp lengths 0.8 / 1.0 m and platform 0.6 m: ours
    for _ in range(6):
        if frame:
            h = rng.uniform(0.1 + 0.6 * d, 0.15 + 0.6 * d)
            boxes += [_ramp(x, up, 0.0, h), _ramp(x + up, up, h, 0.0)]
            xs.append(x + up)
            x += 2 * up + 0.1 + 0.7 * d
        else:
            h = rng.uniform(0.1 + 0.5 * d, 0.2 + 0.6 * d)
            boxes += [_ramp(x, up, 0.0, h), box_row(x + up, x + up + 0.6, 0.1, TILE_Y - 0.1, 0.0, h)]
            xs.append(x + up + 0.3)
            x += up + 0.6 + 0.1 + 0.7 * d
    return boxes, 0.0, xs + [min(x + 0.3, TILE_X - 0.5)], None


def _sideways_ramp(d, rng):
    x, boxes, xs, ys = 2.0, [], [1.5], [SPAWN[1]]
    for k in range(6):  # 1.2 m long, 1.2 m wide planks rolled by +-(0.2 + 0.3 d) rad over the pit: ours
        roll = (0.2 + 0.3 * d) * (1 if k % 2 else -1)
        boxes.append(box_row(x, x + 1.2, 1.4, 2.6, -0.1, 0.0, roll=roll))
        xs.append(x + 0.6)
        ys.append(SPAWN[1])
        x += 1.2 + 0.05 + 0.1 * max(d, 0.0)
    return boxes + _pit_ends(x), _PIT, xs + [x + 0.5], ys + [SPAWN[1]]


def _stepping_stones(d, rng):
    size, gap, x, boxes, xs, ys = 0.5 - 0.3 * d, 0.15 + 0.3 * d, 2.0 + 0.15 + 0.3 * d, [], [1.5], [SPAWN[1]]
    for k in range(12):  # 12 stones, side 0.5 - 0.3 d, gaps 0.15 + 0.3 d, y offset +-0.4 m: ours
        y = SPAWN[1] + rng.uniform(-0.4, 0.4)
        boxes.append(box_row(x, x + size, y - size / 2, y + size / 2, _PIT, 0.0))
        if k % 2:
            xs.append(x + size / 2)
            ys.append(y)
        x += size + gap
    return boxes + _pit_ends(x), _PIT, xs + [x + 0.5], ys + [SPAWN[1]]


def _stairs(d, rng, width: float, rise: float, run: float, down: bool):
    """Six steps up (then, if ``down``, five back down) over the pit; goals on six evenly picked steps."""
    y0, y1 = SPAWN[1] - width / 2, SPAWN[1] + width / 2
    heights = [rise * (k + 1) for k in range(6)]
    heights += heights[-2::-1] if down else []
    boxes = [box_row(2.0 + k * run, 2.0 + (k + 1) * run, y0, y1, _PIT, h) for k, h in enumerate(heights)]
    pick = np.linspace(0, len(heights) - 1, 6).round().astype(int)
    x_end = 2.0 + len(heights) * run
    xs = [1.5] + [2.0 + (k + 0.5) * run for k in pick] + [x_end + 0.5]
    return boxes + _pit_ends(x_end, 0.0 if down else heights[-1]), _PIT, xs, None


def _poles(d, rng):
    x, boxes, xs, ys = 3.0, [], [1.5], [SPAWN[1]]
    for k in range(6):  # 0.15 m square, 1 m tall poles, 0.3 m off-centre, every 2 - d m; goals opposite: ours
        side = 1 if k % 2 else -1
        y = SPAWN[1] + side * 0.3
        boxes.append(box_row(x - 0.075, x + 0.075, y - 0.075, y + 0.075, 0.0, 1.0))
        xs.append(x)
        ys.append(SPAWN[1] - side * 0.5)
        x += 2.0 - np.clip(d, 0.0, 1.0)
    return boxes, 0.0, xs + [x], ys + [SPAWN[1]]


def _beam(d, rng):
    width = 0.5 - 0.4 * d  # 0.38 m at the easiest to 0.18 m at the hardest: ours
    end = 15.0
    boxes = [box_row(2.0, end, SPAWN[1] - width / 2, SPAWN[1] + width / 2, _PIT, 0.0)]
    xs = [1.5] + list(np.linspace(3.0, end - 0.5, 6))
    return boxes + _pit_ends(end), _PIT, xs + [end + 0.5], None


GENERATORS: dict[int, Callable] = {
    0: _jump_box,
    3: lambda d, rng: _ramps(d, rng, frame=False),
    4: lambda d, rng: _ramps(d, rng, frame=True),
    6: lambda d, rng: _box_jump(d, rng, uneven=False),
    7: lambda d, rng: _box_jump(d, rng, uneven=True),
    10: _sideways_ramp,
    12: _stepping_stones,
    13: lambda d, rng: _stairs(d, rng, TILE_Y - 0.2, 0.05 + 0.1 * max(d, 0.0), 0.35, down=True),
    14: lambda d, rng: _stairs(d, rng, 1.0, 0.05 + 0.1 * max(d, 0.0), 0.35, down=True),
    15: lambda d, rng: _stairs(d, rng, 1.2, 0.1 + 0.25 * max(d, 0.0), 0.6, down=False),
    18: _poles,
    19: _beam,
    20: _flat,
    **terrain_extra.GENERATORS,
}
IMPLEMENTED = tuple(sorted(GENERATORS))


def difficulty(terrain_id: int, row: float) -> float:
    """MTBench's rescaling of a row difficulty in [0, 1] to the type's ``d`` (spec 2.1)."""
    if terrain_id == 16:  # MTBench's staircase_spiral ignores its range and uses the row itself
        return row
    lo, hi = SPECS[terrain_id][1]
    return lo - 0.2 + row * (hi - lo)


def make_tile(terrain_id: int, row: float) -> Tile:
    """Generates one tile of a type at row difficulty ``row`` (deterministic: seeded by type and row)."""
    if terrain_id not in GENERATORS:
        raise ValueError(f"terrain {terrain_id} is not implemented; implemented ids: {IMPLEMENTED}")
    rng = np.random.default_rng(int(terrain_id * 1000 + round(row * 1e6)))
    boxes, ground, xs, ys, *spheres = GENERATORS[terrain_id](difficulty(terrain_id, row), rng)
    spheres = list(spheres[0]) if spheres else []
    if len(spheres) > MAX_SPHERES:
        raise ValueError(f"terrain {terrain_id} made {len(spheres)} spheres (max {MAX_SPHERES})")
    spheres += [PARK_SPHERE] * (MAX_SPHERES - len(spheres))
    rows = list(boxes) + _walls(ground)
    if len(rows) > MAX_BOXES:
        raise ValueError(f"terrain {terrain_id} made {len(rows)} boxes (max {MAX_BOXES})")
    rows += [_PARK] * (MAX_BOXES - len(rows))
    goals = _goals(xs, ys)
    if goals.shape != (NUM_GOALS, 2):
        raise ValueError(f"terrain {terrain_id} made goals of shape {goals.shape}")
    return Tile(np.asarray(rows, np.float32), float(ground), goals.astype(np.float32),
                np.asarray(spheres, np.float32))


def tile_arrays(terrain_ids, easy: bool) -> dict[str, np.ndarray]:
    """Every (task, level) tile stacked: ``boxes [T, L, M, 10]``, ``ground [T, L]``, ``goals [T, L, 8, 2]``,
    ``spheres [T, L, S, 5]``.

    Level ``i`` has row difficulty ``i / 9``; ``easy`` forces row 0 for every level (``easy_task_only``).
    """
    tiles = [[make_tile(t, 0.0 if easy else i / (NUM_LEVELS - 1)) for i in range(NUM_LEVELS)] for t in terrain_ids]
    return {"boxes": np.stack([[t.boxes for t in row] for row in tiles]),
            "ground": np.array([[t.ground for t in row] for row in tiles], np.float32),
            "goals": np.stack([[t.goals for t in row] for row in tiles]),
            "spheres": np.stack([[t.spheres for t in row] for row in tiles])}
