"""How one Meta-World task's scene is described: ``SceneDef`` and the shared contact parameters.

A task's scene is its MJCF bodies (fixtures and objects, world children, authored with primitive geoms and an
explicit contact-pair list, ``scenes.py``'s rules) plus how the env reads and places them: which MuJoCo objects the
observation and the reward quantities look at (``refs``), which bodies, free joints and task joints the reset moves
(``moved``, ``free``, ``joints``, from the keys of the task's placement dict, ``specs_mt50.place``), the observation's
object slots (``observe``) and the task-specific reward quantities (``quantities``). The env
(``env.py``) and the scene builder (``scenes.scene_xml``) read nothing else about a task, so a new task is one
``SceneDef`` (the 40 MT50 tasks outside MT10 live in ``scenes_mt50_*.py``, collected by ``scenes_mt50.py``).

Everything here is data and small traceable functions of one env's ``mjx.Data`` (the env vmaps them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import mujoco

from envs_bridge.metaworld import tasks

__all__ = ["OBJ", "OBJ_ON_TABLE", "PAD", "WRIST", "Refs", "SceneDef", "pairs", "pose", "replace_each", "resolve_refs",
           "scipy_quat", "touching"]

# Contact parameters, each a string of MJCF ``<pair>`` attributes (friction, solref, solimp) that ``scenes.scene_xml``
# pastes into a pair: pad x object (Meta-World's pad friction 2, its objects' 1, mixed as MuJoCo mixes them), object x
# fixture/table, and the wrist (Meta-World's default geom class) x fixture.
PAD = 'friction="2 2 0.1 0.002 0.002" solref="0.01 1" solimp="0.97 0.99 0.01"'
OBJ = 'friction="1 1 0.005 0.0001 0.0001" solref="0.01 1" solimp="0.99 0.99 0.01"'
WRIST = 'friction="1 1 0.005 0.0001 0.0001" solref="0.015 1" solimp="0.945 0.97 0.0055"'
# An object of Meta-World's object classes (0.01, 0.99 0.99 0.01) on its table, whose collision geom keeps MuJoCo's
# default contact parameters (0.02, 0.9 0.95 0.001): MuJoCo mixes them (the mean) to ``WRIST``'s numbers. Where the
# scenes use it instead of ``OBJ`` is measured at each use (soccer's ball, the hammer and nut, the coffee mug).
OBJ_ON_TABLE = WRIST
# The arm's wrist boxes where Meta-World's wrist mesh meets a face with one contact and our boxes with several: twice
# the wrist mix's time constant, a quarter of the stiffness per contact (peg-insert-side's block, shelf-place's wall;
# ``scenes_arm``, ``scenes_mt50_arm``).
WRIST_ON_FACE = WRIST.replace('solref="0.015 1"', 'solref="0.03 1"')
# Meta-World's claw geoms (friction 1, solref 0.02, solimp 0.8 0.9) mixed with an object class (0.01, 0.99 0.99
# 0.01): the arm's faucet claws on the handle and soccer's claw pairs on the ball (``scenes_arm``, ``scenes_mt50_arm``).
CLAW = 'friction="1 1 0.005 0.0001 0.0001" solref="0.015 1" solimp="0.895 0.945 0.01" condim="4"'

# A placement: the key of the task's placement dict (``specs_mt50.place``), optionally with a fixed offset added.
Placement = str | tuple[str, tuple[float, float, float]]
Refs = Mapping[str, int]
scipy_quat = tasks.scipy_quat  # obs quaternion from a rotation matrix, scipy (x, y, z, w) convention
_KINDS = {"body": mujoco.mjtObj.mjOBJ_BODY, "site": mujoco.mjtObj.mjOBJ_SITE, "geom": mujoco.mjtObj.mjOBJ_GEOM,
          "joint": mujoco.mjtObj.mjOBJ_JOINT}


def pairs(hand_geoms, fixture_geoms, params: str) -> tuple[tuple[str, str, str], ...]:
    """Every (hand geom, fixture geom) contact pair with the same parameters."""
    return tuple((h, f, params) for h in hand_geoms for f in fixture_geoms)


@dataclasses.dataclass(frozen=True)
class SceneDef:
    """One task's scene and how the env reads it.

    Attributes:
      body: MJCF of the task's world-children bodies, at the XML defaults of Meta-World's asset (the reset moves
        them). Geom names must not clash with the hand's (``wrist``, ``leftpad``, ``rightpad``) or ``table``.
      pairs: the contact pairs ``(geom1, geom2, params)``; ``params`` one of ``PAD``, ``OBJ``, ``WRIST`` (or
        another attribute string). Only these pairs collide.
      refs: ``{name: (kind, mjcf name)}`` with kind ``body``, ``site``, ``geom`` or ``joint``; resolved once per
        model to ids (a joint to its ``qpos`` address) and handed to ``observe`` / ``quantities`` as ``refs[name]``.
      observe: ``observe(refs, d) -> [14]``: obs[4:18] of one env (first object position and quaternion, second
        object position and quaternion, each in the task's Meta-World convention; zeros where Meta-World has zeros).
      moved: ``{body: placement}``: static bodies (no joint above them) moved per env to the placement; realised as
        the env's batched ``mjx.Model.body_pos`` row.
      free: ``{free joint: placement}``: free joints whose position is set at reset (orientation identity unless
        ``free_quat`` says otherwise).
      free_quat: ``{free joint: (w, x, y, z)}`` reset orientations.
      joints: hinge/slide joints set at reset from the placement's ``"joint"`` value (a scalar for one joint, a
        vector for several, in this order).
      quantities: ``quantities(refs, d, q) -> dict`` of the task's own reward quantities (beyond the common ones the
        env computes, ``q``: ``rewards.py``'s docstring); ``None`` for none.
      latch: ``{name: fn(q)}``: quantities Meta-World computes at the episode's first reward call and keeps (bin-
        picking's ``target_to_obj_init``); the env evaluates ``fn`` on the first step and stores the value.
    """

    body: str
    pairs: tuple[tuple[str, str, str], ...]
    refs: Mapping[str, tuple[str, str]]
    observe: Callable[[Refs, Any], jax.Array]
    moved: Mapping[str, Placement] = dataclasses.field(default_factory=dict)
    free: Mapping[str, Placement] = dataclasses.field(default_factory=dict)
    free_quat: Mapping[str, tuple[float, float, float, float]] = dataclasses.field(default_factory=dict)
    joints: tuple[str, ...] = ()
    quantities: Callable[[Refs, Any, dict], dict] | None = None
    latch: Mapping[str, Callable[[dict], jax.Array]] = dataclasses.field(default_factory=dict)


def replace_each(task: str, body: str, replacements, table: str) -> str:
    """``body`` with each ``(old, new)`` of ``replacements`` applied (the arm's scene overrides); an ``old`` missing from
    ``body`` raises, naming ``table`` (the override table that no longer matches the scene)."""
    for old, new in replacements:
        if old not in body:
            raise ValueError(f"{task}: {old!r} is not in its scene body; {table} is out of date")
        body = body.replace(old, new)
    return body


def pose(pos, quat) -> jax.Array:
    """obs[4:18] with one object (what most ``observe`` functions return): its position and quaternion slot, then
    seven zeros for the absent second object."""
    return jnp.concatenate([jnp.asarray(pos), jnp.asarray(quat, jnp.float32), jnp.zeros(7)])


def resolve_refs(scene: SceneDef, m: mujoco.MjModel) -> dict[str, int]:
    """``scene.refs`` as ids of model ``m`` (joints as ``qpos`` addresses); a missing name raises naming it."""
    out = {}
    for name, (kind, mj_name) in scene.refs.items():
        if kind not in _KINDS:
            raise ValueError(f"ref {name!r}: unknown kind {kind!r}; valid: {', '.join(_KINDS)}")
        i = mujoco.mj_name2id(m, _KINDS[kind], mj_name)
        if i < 0:
            raise ValueError(f"ref {name!r}: no {kind} named {mj_name!r} in model {m.names[:20]!r}...")
        out[name] = int(m.jnt_qposadr[i]) if kind == "joint" else int(i)
    return out


def placement(p: Placement, placed: Mapping[str, jax.Array]) -> jax.Array:
    """The position a ``Placement`` names in a placement dict."""
    if isinstance(p, str):
        return placed[p]
    key, offset = p
    return placed[key] + jnp.asarray(offset, jnp.float32)


def touching(d, geom_a: int, geom_b: int) -> jax.Array:
    """Whether the contact slots of one env's state (``shared_physics.SimState``, what the env and ``CpuRollout``
    evaluate) hold an active contact between two geoms (either order, penetration ``dist < 0``): Meta-World's
    ``touching_object`` test (a pad's contact with the object)."""
    g1, g2, dist = d.contact_geom1, d.contact_geom2, d.contact_dist
    hit = ((g1 == geom_a) & (g2 == geom_b)) | ((g1 == geom_b) & (g2 == geom_a))
    return jnp.any(hit & (dist < 0.0))
