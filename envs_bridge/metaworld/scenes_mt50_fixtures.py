"""MT50 scenes, fixtures family (see ``scenes_mt50.py``): our MJCF for Meta-World 3.1.1's tasks, one ``SceneDef`` each."""

from __future__ import annotations

from envs_bridge.metaworld.scene_defs import SceneDef

__all__ = ["SCENES"]

SCENES: dict[str, SceneDef] = {}
