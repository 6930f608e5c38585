"""Meta-World MT10 and MT50 (Yu et al., 2019, arXiv 1910.10897) re-authored for MuJoCo MJX.

Importing this package registers ``"mt10"``, ``"mt50"`` and the fifty single-task names with
``envs_bridge.registry``. ``make_env("mt10", num_envs, **options)`` splits ``num_envs`` evenly over the ten tasks
(MTBench's split), ``"mt50"`` over the fifty in MT50's order; options are ``MetaWorldEnv``'s keyword arguments.
A task whose scene does not exist yet (``scenes.ALL_TASKS`` lists those that do) fails at construction with an
error naming it.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

# mujoco.mjx prints "Failed to import warp" on import when the optional MuJoCo Warp backend is absent (always,
# here); import it once with that print swallowed so every entry point starts with a clean terminal.
with contextlib.redirect_stdout(io.StringIO()):
    from mujoco import mjx  # noqa: F401

from envs_bridge import registry
from envs_bridge.metaworld.env import ARM_PHYSICS, FLOATING_PHYSICS, MODES, MetaWorldEnv, TaskBlock
from envs_bridge.metaworld.scenes import TASKS
from envs_bridge.metaworld.scenes_mt50 import MT50_TASKS
from mtjax import envs

# "mt50" shares physics graphs between tasks of one skeleton (``shared_physics``): 20 graphs instead of 50, at 1.47x
# the contact pairs per env (``docs/metaworld_mt50.md``, "Speed and compile"); pass physics_graphs=None for one per task
# (always so on MuJoCo Warp, which steps one graph per task).
MT50_PHYSICS_GRAPHS = 20
# The MT10 configs' arm scenes share four graphs (reach, push, pick-place, peg-insert-side; door-open; the drawers and
# button; the windows, since session 32's frame-rail pairs): the same trajectories (C MuJoCo: exactly), 4 graphs to
# compile instead of 10
# (``docs/metaworld_mjx.md``, "Four physics graphs for the arm").
MT10_ARM_PHYSICS_GRAPHS = 4

__all__ = ["ARM_PHYSICS", "FLOATING_PHYSICS", "MODES", "MT10_ARM_PHYSICS_GRAPHS", "MT50_PHYSICS_GRAPHS", "MT50_TASKS",
           "TASKS", "MetaWorldEnv", "TaskBlock", "make_metaworld", "mt50_physics_graphs"]


def mt50_physics_graphs(physics_impl: str) -> int | None:
    """``make_env("mt50")``'s default ``physics_graphs``: ``MT50_PHYSICS_GRAPHS`` on MJX-JAX; on Warp 1, the fewest (one
    Warp call per skeleton, 10 for the fifty tasks (11 before reach's puck became a free body, session 29): the
    fifty per-task calls failed in Warp's graph capture on the GPU, the eleven groups ran, session 23)."""
    return 1 if physics_impl == "warp" else MT50_PHYSICS_GRAPHS


def make_metaworld(task_names, num_envs: int, **kwargs: Any) -> MetaWorldEnv:
    """``MetaWorldEnv`` over ``task_names`` with ``num_envs`` envs split evenly (task-major)."""
    return MetaWorldEnv(envs.TaskSet.even(tuple(task_names), num_envs), **kwargs)


def _register() -> None:
    registry.register("mt10", lambda num_envs, **kw: make_metaworld(TASKS, num_envs, **kw))
    registry.register("mt50", lambda num_envs, **kw: make_metaworld(MT50_TASKS, num_envs, **{
        "physics_graphs": mt50_physics_graphs(kw.get("physics_impl", "jax")), **kw}))
    for name in MT50_TASKS:
        registry.register(name, lambda num_envs, _n=name, **kw: make_metaworld((_n,), num_envs, **kw))


_register()
