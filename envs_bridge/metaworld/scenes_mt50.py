"""The 40 MT50 tasks outside MT10: their ``SceneDef``s (one module per family), specs and placements, one lookup.

Families (each ``scenes_mt50_<family>.py`` exports ``SCENES: dict[str, SceneDef]``): fixtures (buttons, coffee
button, handles, dial, lever, faucets), sliding (plate slides, walls, push-back, soccer, hand-insert) and sliding2
(door-close, door-lock, door-unlock), grasp (coffee mug, sweeps, pick-place-wall) and grasp2 (basketball, bin, box,
pick-out-of-hole, shelf, plug), tools (assembly, disassemble, hammer, stick push/pull). A task is part of the env
(``scenes.ALL_TASKS``) once its ``SceneDef`` is here.
"""

from __future__ import annotations

from envs_bridge.metaworld import (
    quantities_mt50,
    scenes_mt50_fixtures,
    scenes_mt50_grasp,
    scenes_mt50_grasp2,
    scenes_mt50_sliding,
    scenes_mt50_sliding2,
    scenes_mt50_tools,
    specs_mt50,
    tasks,
)
from envs_bridge.metaworld.scene_defs import SceneDef

__all__ = ["MT50_TASKS", "SCENES", "SPECS", "place", "spec"]

MT50_TASKS = quantities_mt50.MT50_TASKS

SCENES: dict[str, SceneDef] = {}
for _family in (scenes_mt50_fixtures, scenes_mt50_sliding, scenes_mt50_grasp, scenes_mt50_grasp2, scenes_mt50_sliding2,
                scenes_mt50_tools):
    _clash = set(SCENES) & set(_family.SCENES)
    if _clash:
        raise ImportError(f"MT50 scenes defined twice: {sorted(_clash)}")
    SCENES.update(_family.SCENES)
_unknown = set(SCENES) - set(specs_mt50.TASKS)
if _unknown:
    raise ImportError(f"SceneDefs for tasks outside the 40 new MT50 tasks: {sorted(_unknown)}")

# Every task's spec (ranges, hand start, goal space; the MT50 ones also carry their mocap bounds).
SPECS = {**tasks.SPECS, **specs_mt50.SPECS}


def spec(task: str):
    """The ``TaskSpec`` of any of the 50 tasks."""
    if task not in SPECS:
        raise ValueError(f"unknown Meta-World task {task!r}; valid tasks: {', '.join(MT50_TASKS)}")
    return SPECS[task]


def place(task: str, rv):
    """Meta-World's reset placement of one variation vector (``tasks.place`` for MT10, ``specs_mt50.place``)."""
    return tasks.place(task, rv) if task in tasks.SPECS else specs_mt50.place(task, rv)
