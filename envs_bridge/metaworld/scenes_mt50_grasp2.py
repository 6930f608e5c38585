"""MT50 scenes, grasp family part 2 (see ``scenes_mt50_grasp.py``)."""

from __future__ import annotations

from envs_bridge.metaworld.scene_defs import SceneDef

__all__ = ["SCENES"]

SCENES: dict[str, SceneDef] = {}
