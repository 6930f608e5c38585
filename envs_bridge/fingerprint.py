"""Physics fingerprints of the JAX envs: which scenes and settings a run stepped (``mtjax.provenance``).

``fingerprint()`` of ``MetaWorldEnv`` and ``ParkourEnv`` returns ``{"kind", "digest", "settings", "parts"}``:
``digest`` (16 hex digits) changes with any scene geometry, contact pair, contact or joint parameter, solver setting,
reset table or env setting below; ``parts`` names the digest of each task's scene so two fingerprints show *which*
scene differs. Execution strategies that step the same scenes to the same trajectories stay out of the digest
(``physics_graphs``, ``warp_graph_mode``, ``level_barriers``: tested bit-identical or equal to float rounding), so
a run stepped per task and one stepped in grouped Warp calls share a digest, as do runs that differ only in their
number of envs. ``physics_impl`` is in it (MJX-JAX and
MuJoCo Warp are different solvers). Meta-World scenes are digested as their MJCF text (``scenes.scene_xml``, before
any padding of a shared physics graph); the MuJoCo version that compiles them is in the provenance's versions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtjax import provenance

__all__ = ["metaworld", "parkour"]


def metaworld(env: Any) -> dict[str, Any]:
    """The fingerprint of a ``MetaWorldEnv`` (its scenes' MJCF, reset tables and physics settings)."""
    from envs_bridge.metaworld import scenes  # here, not at the top: metaworld/env.py imports this module

    args = (env.frame_skip, env.iterations, env.ls_iterations, env.eulerdamp)
    settings = {"suite": "metaworld", "hand": env.hand, "physics_impl": env.physics_impl, "frame_skip": args[0],
                "iterations": args[1], "ls_iterations": args[2], "eulerdamp": args[3],
                "episode_length": env.episode_length, "reward_scale": env.reward_scale,
                "action_scale": env.action_scale, "goal_visible": env.goal_visible, "mode": env.mode,
                "random_init_step": env.random_init_step, "tasks": list(env.task_set.task_names)}
    if env.refresh_poses:  # only when on: the fingerprints of runs made before the option stay what they were
        settings["refresh_poses"] = True
    parts = {t.name: provenance.digest({"scene": provenance.digest(scenes.scene_xml(t.name, *args, env.hand)),
                                        "rand_vecs": provenance.array_digest(np.asarray(t.rand_vecs))})
             for t in env._tasks}
    return {"kind": "metaworld", "digest": provenance.digest({"settings": settings, "parts": parts}),
            "settings": settings, "parts": parts}


def parkour(env: Any) -> dict[str, Any]:
    """The fingerprint of a ``ParkourEnv`` (its compiled model, terrain tiles and settings)."""
    settings = {"suite": "parkour", "physics_impl": env.physics_impl, "mode": env.mode,
                "episode_length": env.episode_length, "action_scale": env.action_scale,
                "action_clip": env.action_clip, "active_boxes": env.active_boxes,
                "active_spheres": env.active_spheres, "domain_rand": env.domain_rand,
                "random_init_step": env.random_init_step, "num_task_slots": env.num_task_slots,
                "tasks": list(env.task_set.task_names)}
    parts = {"model": provenance.model_digest(env.mj),
             "tiles": provenance.array_digest(*(np.asarray(env.tiles[k]) for k in sorted(env.tiles)))}
    return {"kind": "parkour", "digest": provenance.digest({"settings": settings, "parts": parts}),
            "settings": settings, "parts": parts}
