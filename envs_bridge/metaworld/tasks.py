"""Per-task data of the ten MT10 tasks: Meta-World's ranges, reset placements and observation slots.

Numbers are Meta-World 3.1.1's (Yu et al., 2019, arXiv 1910.10897), read from its task classes
(``_random_reset_space``, ``goal_space``, ``reset_model``, ``_get_pos_objects``/``_get_quat_objects``) and XML
assets. This module is the one home of the task list (``TASKS``) and of the per-task constants the env, the
rewards and the scenes share. ``TaskSpec`` holds the host-side constants; ``place`` and ``object_pose`` are
unbatched, traceable functions of one env (the env vmaps them).
"""

from __future__ import annotations

import dataclasses
import json
import os

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

from envs_bridge.metaworld import probes, quantities_mt50

__all__ = [
    "HAND_HIGH",
    "HAND_LOW",
    "HAND_SPACE_HIGH",
    "HAND_SPACE_LOW",
    "RAND_VECS_MT50_PATH",
    "RAND_VECS_PATH",
    "SPECS",
    "TASKS",
    "TaskSpec",
    "load_rand_vecs",
    "object_pose",
    "place",
    "rejection_ok",
    "sample_rand_vec",
    "scipy_quat",
]

# The ten MT10 tasks, in MT10's order (Meta-World names without the ``-v3`` suffix).
TASKS = quantities_mt50.MT10_TASKS
# Meta-World's ``hand_space``: the observation clips the hand position obs[0:3] to it.
HAND_SPACE_LOW = np.array([-0.525, 0.348, -0.0525], np.float32)
HAND_SPACE_HIGH = np.array([0.525, 1.025, 0.7], np.float32)
# Meta-World's ``hand_low``/``hand_high``: the bounds of the hand's mocap target (``mocap_low``/``mocap_high``)
# and the goal space of tasks without their own.
HAND_LOW = (-0.5, 0.40, 0.05)
HAND_HIGH = (0.5, 1.0, 0.5)
# Meta-World's 50 seeded variations per task of ``MT10(seed=0)`` (the "fixed" mode); ``MetaWorldEnv``'s
# ``rand_vecs_path`` selects another file of the same layout.
RAND_VECS_PATH = os.path.join(os.path.dirname(__file__), "rand_vecs_mt10_seed0.json")
# The same for all 50 tasks of ``MT50(seed=0)`` (the default of the MT50 tasks outside MT10).
RAND_VECS_MT50_PATH = os.path.join(os.path.dirname(__file__), "rand_vecs_mt50_seed0.json")

_WIDE_GOAL = (HAND_LOW, HAND_HIGH)


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """Host-side constants of one task.

    Attributes:
      name: task name (MT10 spelling, no ``-v3``).
      hand_init: commanded hand start (mocap target at reset).
      rand_low, rand_high: Meta-World's ``_random_reset_space`` (3-D or 6-D).
      goal_low, goal_high: ``goal_space`` (clip of the observed goal).
      min_obj_goal_xy: rejection rule ``||obj_xy - ref_xy|| >= this`` (0 = none).
      joint: name of the task's articulated joint (door, drawer, button, window) or ``None``.
      rej_ref: fixed xy the object part is rejected against (MT50's sweep-into); ``None``: the vector's goal part.
    """

    name: str
    hand_init: tuple[float, float, float]
    rand_low: tuple[float, ...]
    rand_high: tuple[float, ...]
    goal_low: tuple[float, float, float]
    goal_high: tuple[float, float, float]
    min_obj_goal_xy: float = 0.0
    joint: str | None = None
    rej_ref: tuple[float, float] | None = None


def _spec(name, hand_y, low, high, goal=_WIDE_GOAL, rej=0.0):
    # The articulated joint's name comes from ``probes.JOINTS``, which must stay import-free (it also runs in
    # Meta-World's own venv).
    return TaskSpec(name, (0.0, hand_y, 0.2), tuple(low), tuple(high), tuple(goal[0]), tuple(goal[1]), rej,
                    probes.JOINTS.get(name))


SPECS: dict[str, TaskSpec] = {s.name: s for s in (
    _spec("reach", 0.6, (-0.1, 0.6, 0.02, -0.1, 0.8, 0.05), (0.1, 0.7, 0.02, 0.1, 0.9, 0.3),
          ((-0.1, 0.8, 0.05), (0.1, 0.9, 0.3)), rej=0.15),
    _spec("push", 0.6, (-0.1, 0.6, 0.02, -0.1, 0.8, 0.01), (0.1, 0.7, 0.02, 0.1, 0.9, 0.02),
          ((-0.1, 0.8, 0.01), (0.1, 0.9, 0.02)), rej=0.15),
    _spec("pick-place", 0.6, (-0.1, 0.6, 0.02, -0.1, 0.8, 0.05), (0.1, 0.7, 0.02, 0.1, 0.9, 0.3),
          ((-0.1, 0.8, 0.05), (0.1, 0.9, 0.3)), rej=0.15),
    _spec("door-open", 0.6, (0.0, 0.85, 0.15), (0.1, 0.95, 0.15),
          ((-0.3, 0.4, 0.1499), (-0.2, 0.5, 0.1501))),
    _spec("drawer-open", 0.6, (-0.1, 0.9, 0.0), (0.1, 0.9, 0.0)),
    _spec("drawer-close", 0.6, (-0.1, 0.9, 0.0), (0.1, 0.9, 0.0)),
    _spec("button-press-topdown", 0.4, (-0.1, 0.8, 0.115), (0.1, 0.9, 0.115)),
    _spec("peg-insert-side", 0.6, (0.0, 0.5, 0.02, -0.35, 0.4, -0.001), (0.2, 0.7, 0.02, -0.25, 0.7, 0.001),
          ((-0.32, 0.4, 0.129), (-0.22, 0.7, 0.131))),
    _spec("window-open", 0.4, (-0.1, 0.7, 0.16), (0.1, 0.9, 0.16)),
    _spec("window-close", 0.4, (0.0, 0.75, 0.2), (0.0, 0.9, 0.2)),
)}

PUSH_REST_Z = 0.0194047  # Meta-World's settled puck height, used for push's o0 and goal z
BUTTON_QUAT = (0.707388, -0.706825, 0.0, 0.0)  # button body xquat (w, x, y, z), constant


def load_rand_vecs(task: str, path: str | None = None) -> np.ndarray:
    """Meta-World's 50 seeded variations of one task, ``[50, D]`` float32, from ``path`` (default
    ``RAND_VECS_PATH``: those of ``MT10(seed=0)``). The file holds one benchmark's table (``{"<benchmark>_seed<k>":
    {"<task>-v3": [[...], ...]}}``, plus an optional ``"source"`` string)."""
    with open(path or RAND_VECS_PATH) as f:
        tables = [v for k, v in json.load(f).items() if k != "source"]
    if len(tables) != 1 or f"{task}-v3" not in tables[0]:
        raise ValueError(f"{path or RAND_VECS_PATH}: expected one table with {task}-v3")
    return np.asarray(tables[0][f"{task}-v3"], np.float32)


def rejection_ok(spec: TaskSpec, rv: jax.Array) -> jax.Array:
    """Meta-World's rejection loop as a predicate: ``||rv[:2] - ref|| >= min_obj_goal_xy`` where ``ref`` is
    ``spec.rej_ref`` or the vector's goal part ``rv[3:5]`` (always true without a rule).

    Args:
      rv: ``[..., D]`` random vectors.
    """
    rv = jnp.asarray(rv)
    if spec.min_obj_goal_xy <= 0.0:
        return jnp.ones(rv.shape[:-1], bool)
    ref = jnp.asarray(spec.rej_ref) if spec.rej_ref is not None else rv[..., 3:5]
    return jnp.linalg.norm(rv[..., :2] - ref, axis=-1) >= spec.min_obj_goal_xy


def sample_rand_vec(key: jax.Array, spec: TaskSpec, tries: int = 16) -> jax.Array:
    """One uniform draw from ``[rand_low, rand_high]`` honouring ``rejection_ok`` (first valid of ``tries``
    candidates; with MT10's ranges the chance that all 16 fail is below 1e-8)."""
    lo, hi = jnp.asarray(spec.rand_low), jnp.asarray(spec.rand_high)
    cand = jax.random.uniform(key, (tries, lo.shape[0]), minval=lo, maxval=hi)
    return cand[jnp.argmax(rejection_ok(spec, cand))]


def place(name: str, rv: jax.Array) -> dict[str, jax.Array]:
    """Meta-World's ``reset_model`` placement of one variation vector.

    Returns:
      dict with ``goal`` [3], ``obj_init`` [3] (``obj_init_pos``), ``body`` [3] (free object position or anchor),
      ``anchor`` [3] (fixture body position; unused where the task has none), ``joint`` (initial joint value).
    """
    z = jnp.zeros(3)
    f = lambda *v: jnp.asarray(v, jnp.float32)
    if name in ("reach", "pick-place"):
        return {"goal": rv[3:6], "obj_init": rv[:3], "body": rv[:3], "anchor": z, "joint": 0.0}
    if name == "push":
        return {"goal": rv[3:6].at[2].set(PUSH_REST_Z), "obj_init": rv[:3].at[2].set(PUSH_REST_Z), "body": rv[:3],
                    "anchor": z, "joint": 0.0}
    if name == "door-open":
        return {"goal": rv + f(-0.3, -0.45, 0.0), "obj_init": rv, "body": rv, "anchor": rv, "joint": 0.0}
    if name == "drawer-open":
        return {"goal": rv + f(0.0, -0.36, 0.09), "obj_init": rv, "body": rv, "anchor": rv, "joint": 0.0}
    if name == "drawer-close":
        return {"goal": rv + f(0.0, -0.16, 0.09), "obj_init": rv + f(0.0, -0.32, 0.14), "body": rv, "anchor": rv,
                    "joint": -0.15}
    if name == "button-press-topdown":
        return {"goal": rv + f(0.0, -0.00008, 0.1), "obj_init": rv, "body": rv, "anchor": rv, "joint": 0.0}
    if name == "peg-insert-side":
        return {"goal": rv[3:6] + f(0.03, 0.0, 0.13), "obj_init": rv[:3], "body": rv[:3], "anchor": rv[3:6], "joint": 0.0}
    if name == "window-open":
        return {"goal": rv + f(0.2, 0.0, 0.0), "obj_init": rv, "body": rv, "anchor": rv, "joint": 0.0}
    if name == "window-close":
        return {"goal": rv, "obj_init": rv, "body": rv, "anchor": rv, "joint": 0.2}
    raise ValueError(f"unknown Meta-World task {name!r}; valid tasks: {', '.join(TASKS)}")


def scipy_quat(mat: jax.Array) -> jax.Array:
    """``scipy.spatial.transform.Rotation.from_matrix(mat).as_quat()`` (x, y, z, w) with scipy's sign rule.

    Args:
      mat: ``[3, 3]`` rotation matrix.
    """
    tr = jnp.trace(mat)
    diag = jnp.diagonal(mat)
    cand = jnp.concatenate([diag, tr[None]])
    k = jnp.argmax(cand)

    def from_axis(i):
        j, l = (i + 1) % 3, (i + 2) % 3
        q = jnp.zeros(4)
        q = q.at[i].set(1.0 - tr + 2.0 * mat[i, i])
        q = q.at[j].set(mat[j, i] + mat[i, j])
        q = q.at[l].set(mat[l, i] + mat[i, l])
        return q.at[3].set(mat[l, j] - mat[j, l])

    q_tr = jnp.array([mat[2, 1] - mat[1, 2], mat[0, 2] - mat[2, 0], mat[1, 0] - mat[0, 1], 1.0 + tr])
    qs = jnp.stack([from_axis(0), from_axis(1), from_axis(2), q_tr])
    q = qs[k]
    return q / jnp.linalg.norm(q)


@dataclasses.dataclass(frozen=True)
class Ids:
    """MuJoCo ids a task's observation needs (resolved once per model on the host)."""

    obj_body: int = -1
    obj_geom: int = -1
    obj_site: int = -1
    peg_head: int = -1
    jnt_qpos: int = -1


def resolve_ids(name: str, m: mujoco.MjModel) -> Ids:
    """Looks up the ids ``object_pose`` reads for task ``name`` in model ``m``."""
    def bid(n): return mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, n)
    def gid(n): return mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, n)
    def sid(n): return mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, n)
    spec = SPECS[name]
    jq = int(m.jnt_qposadr[m.joint(spec.joint).id]) if spec.joint else -1
    if name in ("reach", "push", "pick-place"):
        return Ids(obj_body=bid("obj"), obj_geom=gid("objGeom"), jnt_qpos=jq)
    if name == "door-open":
        return Ids(obj_site=sid("handle"), jnt_qpos=jq)
    if name in ("drawer-open", "drawer-close"):
        return Ids(obj_body=bid("drawer_link"), jnt_qpos=jq)
    if name == "button-press-topdown":
        return Ids(obj_body=bid("button"), jnt_qpos=jq)
    if name == "peg-insert-side":
        return Ids(obj_site=sid("pegGrasp"), peg_head=sid("pegHead"))
    return Ids(obj_site=sid("handleOpenStart" if name == "window-open" else "handleCloseStart"), jnt_qpos=jq)


def object_pose(name: str, ids: Ids, d) -> tuple[jax.Array, jax.Array]:
    """Meta-World's object slot obs[4:11] of one env: position [3] and quaternion [4] (per-task convention)."""
    zq = jnp.zeros(4)
    if name in ("reach", "push", "pick-place"):
        return d.xpos[ids.obj_body], scipy_quat(d.geom_xmat[ids.obj_geom])
    if name == "door-open":
        return d.site_xpos[ids.obj_site], scipy_quat(d.site_xmat[ids.obj_site])
    if name == "drawer-open":
        return d.xpos[ids.obj_body] + jnp.array([0.0, -0.16, 0.0]), d.xquat[ids.obj_body]
    if name == "drawer-close":
        return d.xpos[ids.obj_body] + jnp.array([0.0, -0.16, 0.05]), zq
    if name == "button-press-topdown":
        return d.xpos[ids.obj_body] + jnp.array([0.0, 0.0, 0.193]), jnp.asarray(BUTTON_QUAT)
    if name == "peg-insert-side":
        return d.site_xpos[ids.obj_site], scipy_quat(d.site_xmat[ids.obj_site])
    return d.site_xpos[ids.obj_site], zq
