"""MTBench's Go1 parkour tasks (Joshi et al., 2025, arXiv 2507.23172) on MuJoCo MJX (``docs/parkour.md``).

Importing this package registers ``"parkour_easy"``, ``"parkour_hard"`` and ``"parkour_hard_cl"`` with
``envs_bridge.registry``; each splits ``num_envs`` evenly over the 21 terrain types (``TASKS``) and takes
``ParkourEnv``'s keyword arguments (``tasks=`` picks a subset by name, ``num_task_slots=21`` fixes the one-hot).
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

with contextlib.redirect_stdout(io.StringIO()):  # mujoco.mjx prints "Failed to import warp" on import
    from mujoco import mjx  # noqa: F401

from envs_bridge import registry
from envs_bridge.parkour.env import MODES, ParkourEnv, ParkourState
from envs_bridge.parkour.terrain import IMPLEMENTED, TERRAIN_NAMES
from mtjax import envs

__all__ = ["MODES", "TASKS", "ParkourEnv", "ParkourState", "make_parkour"]

TASKS = tuple(TERRAIN_NAMES[i] for i in IMPLEMENTED)  # all 21 terrain types, in MTBench's id order


def make_parkour(mode: str, num_envs: int, tasks=TASKS, **kwargs: Any) -> ParkourEnv:
    """``ParkourEnv`` in ``mode`` over ``tasks`` with ``num_envs`` envs split evenly (task-major)."""
    return ParkourEnv(envs.TaskSet.even(tuple(tasks), num_envs), mode=mode, **kwargs)


def _register() -> None:
    for mode in MODES:
        registry.register(f"parkour_{mode}", lambda num_envs, _m=mode, **kw: make_parkour(_m, num_envs, **kw))


_register()
