"""Per-task reset data of the 40 MT50 tasks outside MT10: ranges, rejection rules and reset placements.

Numbers are Meta-World 3.1.1's (Yu et al., 2019, arXiv 1910.10897), read from its task classes
(``_random_reset_space``, ``goal_space``, ``hand_low``, ``init_config``, ``reset_model``) and XML assets, and
checked against the recorded reset constants of ``tests/fixtures/metaworld/<task>.npz`` and the vectors of
``MT50(seed=0)`` (``docs/metaworld_rewards.md``, "MT50 reset specs"). The MT10 tasks keep their specs in
``tasks.py``; ``SPECS`` here has the same ``TaskSpec`` fields plus the hand bounds and the rejection reference.
``place`` is an unbatched, traceable function of one env (callers vmap it).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from envs_bridge.metaworld import quantities_mt50, tasks

__all__ = [
    "SPECS",
    "TASKS",
    "TaskSpecMT50",
    "place",
    "rejection_ok",
    "sample_rand_vec",
]

# The 40 tasks, in MT50's order (Meta-World names without ``-v3``).
TASKS = quantities_mt50.NEW_TASKS

# Heights Meta-World reads from the simulation at reset (``get_body_com``/``adjust_initObjPos`` after the hand
# settle), so they are physics, not the random vector; recorded by ``scripts/record_metaworld_traces.py``.
BIN_OBJ_Z = 0.029995095  # bin-picking's obj_init_pos z
PUCK_REST_Z = 0.019936047  # push-back and shelf-place: obj_init_pos z (push-back's goal z too)
SWEEP_INTO_OBJ_Z = 0.069935463  # sweep-into's obj_init_pos z (the object is read before it has dropped)
# Fixed bodies and sites of the XML assets.
CONTAINER_POS = (0.2, 0.6, 0.0)  # stick tasks: body ``object`` (obj_init_pos)
INSERTION_Z = 0.132  # stick-push: site ``insertion`` height (the goal's z)
HAMMER_GOAL = (0.24, 0.74, 0.11)  # hammer: site ``goal`` of the nail box fixed at (0.24, 0.85, 0)
BIN_GOAL = (0.12, 0.7, 0.0)  # bin-picking: body ``bin_goal``
SWEEP_INTO_GOAL = (0.0, 0.84, 0.02)  # sweep-into's ``goal`` (the vector's goal part is ignored)


def _rot(euler_axis: int, angle: float, v) -> np.ndarray:
    """``v`` rotated about the x (0) or z (2) axis by ``angle``: a body ``euler`` with one non-zero angle."""
    c, s = np.cos(angle), np.sin(angle)
    x, y, z = v
    if euler_axis == 0:
        return np.array([x, c * y - s * z, s * y + c * z])
    return np.array([c * x - s * y, s * x + c * y, z])


# Site offsets from the fixture body, in world axes. Button boxes: ``hole`` (0, -0.1, 0) and ``buttonStart``
# (0, -0.1935, 0); the top-down-wall box has euler (-1.57, 0, 0). Handle boxes: ``goalPress`` (0, -0.216, 0.075),
# ``goalPull`` (0, -0.216, 0.172), ``handleStart`` = handle_link (0, -0.05, 0.15) + (0, -0.166, 0.022) + (0, 0, q),
# ``handleCenter`` = handle_link + (0, -0.12, 0) + (0, 0, q); the side boxes have euler (0, 0, 1.57).
_TOPDOWN_HOLE = _rot(0, -1.57, (0.0, -0.1, 0.0))
_TOPDOWN_START = _rot(0, -1.57, (0.0, -0.1935, 0.0))
_PRESS, _PULL = (0.0, -0.216, 0.075), (0.0, -0.216, 0.172)
_HANDLE_START_PRESS = (0.0, -0.216, 0.171)  # q = -0.001
_HANDLE_CENTER_PULL = (0.0, -0.17, 0.05)  # q = -0.1
_LOCK_LINK = (0.0, -0.118, 0.061)  # door_link (-0.185, -0.1, 0) + lock_link (0.185, -0.018, 0.061)


@dataclasses.dataclass(frozen=True)
class TaskSpecMT50(tasks.TaskSpec):
    """``tasks.TaskSpec`` plus what differs among the 40 tasks.

    Attributes:
      hand_low, hand_high: the mocap bounds (``tasks.HAND_LOW``/``HAND_HIGH`` unless the task changes them).
    """

    hand_low: tuple[float, float, float] = tasks.HAND_LOW
    hand_high: tuple[float, float, float] = tasks.HAND_HIGH


def _s(name, hand_y, low, high, goal=None, rej=0.0, hand_low_z=None, hand_low_y=None, rej_ref=None):
    hand_low = (tasks.HAND_LOW[0], hand_low_y or tasks.HAND_LOW[1],
                tasks.HAND_LOW[2] if hand_low_z is None else hand_low_z)
    if goal is None:  # the task's goal_space is its hand box
        goal = (hand_low, tasks.HAND_HIGH)
    return TaskSpecMT50(name, (-0.5 if name == "door-close" else 0.0, hand_y, 0.2), tuple(low), tuple(high),
                        tuple(goal[0]), tuple(goal[1]), rej, None, rej_ref, hand_low=hand_low, hand_high=tasks.HAND_HIGH)


def _add(a, b):
    return tuple(float(x) + float(y) for x, y in zip(a, b, strict=True))


_CB_LO, _CB_HI = (-0.1, 0.8, -0.001), (0.1, 0.9, 0.001)  # coffee-button machine
_PU_LO, _PU_HI = (-0.25, 0.6, -0.001), (-0.15, 0.8, 0.001)  # peg-unplug-side box

SPECS: dict[str, TaskSpecMT50] = {s.name: s for s in (
    _s("assembly", 0.6, (0, 0.6, 0.02, -0.1, 0.75, 0.1), (0, 0.6, 0.02, 0.1, 0.85, 0.1),
       ((-0.1, 0.75, 0.1), (0.1, 0.85, 0.1)), rej=0.1),
    _s("basketball", 0.6, (-0.1, 0.6, 0.0299, -0.1, 0.85, 0.0), (0.1, 0.7, 0.0301, 0.1, 0.9 + 1e-7, 0.0),
       ((-0.1, 0.767, 0.2499), (0.1, 0.817 + 1e-7, 0.2501)), rej=0.15),
    _s("bin-picking", 0.6, (-0.21, 0.65, 0.02, 0.1199, 0.699, -0.001), (-0.03, 0.75, 0.02, 0.1201, 0.701, 0.001),
       ((0.1199, 0.699, -0.001), (0.1201, 0.701, 0.001)), hand_low_z=0.07),
    _s("box-close", 0.6, (-0.05, 0.5, 0.02, -0.1, 0.7, 0.133), (0.05, 0.55, 0.02, 0.1, 0.8, 0.133),
       ((-0.1, 0.7, 0.133), (0.1, 0.8, 0.133)), rej=0.25),
    _s("button-press-topdown-wall", 0.4, (-0.1, 0.8, 0.115), (0.1, 0.9, 0.115)),
    _s("button-press", 0.4, (-0.1, 0.85, 0.115), (0.1, 0.9, 0.115)),
    _s("button-press-wall", 0.4, (-0.05, 0.85, 0.1149), (0.05, 0.9, 0.1151)),
    _s("coffee-button", 0.4, _CB_LO, _CB_HI,
       (_add(_CB_LO, (-0.001, -0.19, 0.299)), _add(_CB_HI, (0.001, -0.19, 0.301)))),
    _s("coffee-pull", 0.4, (-0.05, 0.7, -0.001, -0.1, 0.55, -0.001), (0.05, 0.75, 0.001, 0.1, 0.65, 0.001),
       ((-0.1, 0.55, -0.001), (0.1, 0.65, 0.001)), rej=0.15),
    _s("coffee-push", 0.4, (-0.1, 0.55, -0.001, -0.05, 0.7, -0.001), (0.1, 0.65, 0.001, 0.05, 0.75, 0.001),
       ((-0.05, 0.7, -0.001), (0.05, 0.75, 0.001)), rej=0.15),
    _s("dial-turn", 0.6, (-0.1, 0.7, 0.0), (0.1, 0.8, 0.0), ((-0.1, 0.73, 0.0299), (0.1, 0.83, 0.0301))),
    _s("disassemble", 0.4, (0.0, 0.6, 0.025, -0.1, 0.6, 0.1699), (0.1, 0.75, 0.02501, 0.1, 0.75, 0.1701),
       ((-0.1, 0.6, 0.1749), (0.1, 0.75, 0.1751)), rej=0.1),
    _s("door-close", 0.6, (0.0, 0.85, 0.15), (0.1, 0.95, 0.15), ((0.2, 0.65, 0.1499), (0.3, 0.75, 0.1501))),
    _s("door-lock", 0.6, (-0.1, 0.8, 0.15), (0.1, 0.85, 0.15), hand_low_z=-0.15),
    _s("door-unlock", 0.6, (-0.1, 0.8, 0.15), (0.1, 0.85, 0.15), ((0.0, 0.64, 0.21), (0.2, 0.7, 0.2111)),
       hand_low_z=-0.15),
    _s("hand-insert", 0.6, (-0.1, 0.6, 0.05, -0.04, 0.8, -0.0201), (0.1, 0.7, 0.05, 0.04, 0.88, -0.0199),
       ((-0.04, 0.8, -0.0201), (0.04, 0.88, -0.0199)), rej=0.15, hand_low_z=-0.15),
    _s("faucet-open", 0.4, (-0.05, 0.8, 0.0), (0.05, 0.85, 0.0), hand_low_z=-0.15),
    _s("faucet-close", 0.4, (-0.1, 0.8, 0.0), (0.1, 0.85, 0.0), hand_low_z=-0.15),
    _s("hammer", 0.4, (-0.1, 0.4, 0.0), (0.1, 0.5, 0.0), ((0.2399, 0.7399, 0.109), (0.2401, 0.7401, 0.111))),
    _s("handle-press-side", 0.6, (-0.35, 0.65, -0.001), (-0.25, 0.75, 0.001)),
    _s("handle-press", 0.6, (-0.1, 0.8, -0.001), (0.1, 0.9, 0.001), ((-0.1, 0.55, 0.04), (0.1, 0.7, 0.08))),
    _s("handle-pull-side", 0.6, (-0.35, 0.65, 0.0), (-0.25, 0.75, 0.0)),
    _s("handle-pull", 0.6, (-0.1, 0.8, -0.001), (0.1, 0.9, 0.001), ((-0.1, 0.55, 0.04), (0.1, 0.7, 0.18))),
    _s("lever-pull", 0.4, (-0.1, 0.7, 0.0), (0.1, 0.8, 0.0), hand_low_z=-0.15),
    _s("pick-place-wall", 0.6, (-0.05, 0.6, 0.015, -0.05, 0.85, 0.05), (0.05, 0.65, 0.015, 0.05, 0.9, 0.3),
       ((-0.05, 0.85, 0.05), (0.05, 0.9, 0.3)), rej=0.15),
    _s("pick-out-of-hole", 0.6, (0.0, 0.75, 0.02, -0.1, 0.5, 0.15), (0.0, 0.75, 0.02, 0.1, 0.6, 0.3),
       ((-0.1, 0.5, 0.15), (0.1, 0.6, 0.3)), rej=0.15, hand_low_z=-0.05),
    _s("plate-slide", 0.6, (0.0, 0.6, 0.0, -0.1, 0.85, 0.0), (0.0, 0.6, 0.0, 0.1, 0.9, 0.0),
       ((-0.1, 0.85, 0.0), (0.1, 0.9, 0.0))),
    _s("plate-slide-side", 0.6, (0.0, 0.6, 0.0, -0.3, 0.54, 0.0), (0.0, 0.6, 0.0, -0.25, 0.66, 0.0),
       ((-0.3, 0.54, 0.0), (-0.25, 0.66, 0.0))),
    _s("plate-slide-back", 0.6, (0.0, 0.85, 0.0, -0.1, 0.6, 0.015), (0.0, 0.85, 0.0, 0.1, 0.6, 0.015),
       ((-0.1, 0.6, 0.015), (0.1, 0.6, 0.015))),
    _s("plate-slide-back-side", 0.6, (-0.25, 0.6, 0.0, -0.05, 0.6, 0.015), (-0.25, 0.6, 0.0, 0.15, 0.6, 0.015),
       ((-0.05, 0.6, 0.015), (0.15, 0.6, 0.015))),
    _s("peg-unplug-side", 0.6, _PU_LO, _PU_HI, (_add(_PU_LO, (0.194, 0, 0.131)), _add(_PU_HI, (0.194, 0, 0.131)))),
    _s("soccer", 0.6, (-0.1, 0.6, 0.03, -0.1, 0.8, 0.0), (0.1, 0.7, 0.03, 0.1, 0.9, 0.0),
       ((-0.1, 0.8, 0.0), (0.1, 0.9, 0.0)), rej=0.15),
    _s("stick-push", 0.6, (-0.08, 0.58, 0.0, 0.399, 0.55, 0.1319), (-0.03, 0.62, 0.001, 0.401, 0.6, 0.1321),
       ((0.399, 0.55, 0.1319), (0.401, 0.6, 0.1321)), rej=0.1),
    _s("stick-pull", 0.6, (-0.1, 0.55, 0.0, 0.35, 0.45, 0.0199), (0.0, 0.65, 0.001, 0.45, 0.55, 0.0201),
       ((0.35, 0.45, 0.0199), (0.45, 0.55, 0.0201)), rej=0.1, hand_low_y=0.35),
    _s("push-wall", 0.6, (-0.05, 0.6, 0.015, -0.05, 0.85, 0.01), (0.05, 0.65, 0.015, 0.05, 0.9, 0.02),
       ((-0.05, 0.85, 0.01), (0.05, 0.9, 0.02)), rej=0.15),
    _s("push-back", 0.6, (-0.1, 0.8, 0.02, -0.1, 0.6, 0.0199), (0.1, 0.85, 0.02, 0.1, 0.7, 0.0201),
       ((-0.1, 0.6, 0.0199), (0.1, 0.7, 0.0201)), rej=0.15),
    _s("reach-wall", 0.6, (-0.05, 0.6, 0.015, -0.05, 0.85, 0.05), (0.05, 0.65, 0.015, 0.05, 0.9, 0.3),
       ((-0.05, 0.85, 0.05), (0.05, 0.9, 0.3)), rej=0.15),
    _s("shelf-place", 0.6, (-0.1, 0.5, 0.019, -0.1, 0.8, 0.299), (0.1, 0.6, 0.021, 0.1, 0.9, 0.301),
       ((-0.1, 0.8, 0.299), (0.1, 0.9, 0.301)), rej=0.1),
    _s("sweep-into", 0.6, (-0.1, 0.6, 0.02, -0.001, 0.8399, 0.0199), (0.1, 0.7, 0.02, 0.001, 0.8401, 0.0201),
       ((-0.001, 0.8399, 0.0199), (0.001, 0.8401, 0.0201)), rej=0.15, rej_ref=SWEEP_INTO_GOAL[:2]),
    _s("sweep", 0.6, (-0.1, 0.6, 0.02), (0.1, 0.7, 0.02), ((0.49, 0.6, 0.0), (0.51, 0.7, 0.02))),
)}


rejection_ok = tasks.rejection_ok  # one rule for MT10 and MT50 (``spec.rej_ref`` covers sweep-into)


def sample_rand_vec(key: jax.Array, spec: TaskSpecMT50, tries: int = 64) -> jax.Array:
    """``tasks.sample_rand_vec`` with 64 candidates: the strictest rule, box-close's 0.25, rejects 66% of draws
    (coffee-pull/push, disassemble 59%), so all 64 fail with p = 0.66^64 < 1e-11."""
    return tasks.sample_rand_vec(key, spec, tries)


def _f(*v) -> jax.Array:
    return jnp.asarray(v, jnp.float32)


def _with_z(xy: jax.Array, z: float) -> jax.Array:
    return jnp.concatenate([xy[:2], _f(z)])


def _button(rv, hole, start, axis):
    # obj_to_target_init = |hole - buttonStart| along the press axis (y, or z for the top-down box).
    return {"goal": rv + hole, "obj_init": rv, "body": rv, "joint": 0.0,
            "obj_to_target_init": jnp.abs(hole[axis] - start[axis]).astype(jnp.float32)}


def _side(v) -> jax.Array:
    return jnp.asarray(_rot(2, 1.57, v), jnp.float32)


def _free_pair(rv):  # object at rv[:3], goal rv[3:6], both used as given
    return {"goal": rv[3:6], "obj_init": rv[:3], "body": rv[:3], "joint": 0.0}


def _pair_z(z_obj, z_goal=None):
    def fn(rv):
        obj = _with_z(rv[:3], z_obj)
        goal = rv[3:6] if z_goal is None else _with_z(rv[3:6], z_goal)
        return {"goal": goal, "obj_init": obj, "body": obj, "joint": 0.0}
    return fn


def _fixture(offset, joint=0.0, obj_offset=(0.0, 0.0, 0.0)):  # a body moved to rv, goal a fixed offset
    return lambda rv: {"goal": rv + _f(*offset), "obj_init": rv + _f(*obj_offset), "body": rv, "joint": joint}


def _stick(goal_z):
    def fn(rv):
        stick = _with_z(rv[:3], 0.02)
        goal = _with_z(rv[3:6], INSERTION_Z if goal_z is None else goal_z)
        return {"goal": goal, "obj_init": _f(*CONTAINER_POS), "body": stick, "joint": 0.0, "stick_init_pos": stick}
    return fn


def _handle_press(rv, rot):
    r = _side if rot else (lambda v: _f(*v))
    return {"goal": rv + r(_PRESS), "obj_init": rv, "body": rv, "joint": -0.001,
            "handle_init_pos": rv + r(_HANDLE_START_PRESS)}


_PLACE = {
    "assembly": _free_pair,
    "basketball": lambda rv: {"goal": rv[3:6] + _f(0.0, -0.083, 0.25), "obj_init": _with_z(rv[:3], 0.03),
                              "body": _with_z(rv[:3], 0.03), "joint": 0.0},
    "bin-picking": lambda rv: {"goal": _f(*BIN_GOAL), "obj_init": _with_z(rv[:3], BIN_OBJ_Z),
                               "body": _with_z(rv[:3], BIN_OBJ_Z), "joint": 0.0},
    "box-close": _free_pair,
    "button-press-topdown-wall": lambda rv: _button(rv, _f(*_TOPDOWN_HOLE), _f(*_TOPDOWN_START), 2),
    "button-press": lambda rv: _button(rv, _f(0.0, -0.1, 0.0), _f(0.0, -0.1935, 0.0), 1),
    "button-press-wall": lambda rv: _button(rv, _f(0.0, -0.1, 0.0), _f(0.0, -0.1935, 0.0), 1),
    "coffee-button": _fixture((0.0, -0.19, 0.3)),
    "coffee-pull": _free_pair,
    "coffee-push": _free_pair,
    "dial-turn": lambda rv: {**_fixture((0.0, 0.03, 0.03))(rv), "dial_push_init": rv + _f(0.05, -0.03, 0.09)},
    "disassemble": lambda rv: {"goal": rv[:3] + _f(0.0, 0.0, 0.15), "obj_init": rv[:3], "body": rv[:3],
                               "joint": 0.0},
    "door-close": _fixture((0.2, -0.2, 0.0), joint=-1.5708),
    "door-lock": _fixture(_add(_LOCK_LINK, (0.0, -0.04, -0.1)), obj_offset=_LOCK_LINK),
    "door-unlock": _fixture(_add(_LOCK_LINK, (0.1, -0.04, 0.0)), joint=1.5708, obj_offset=_LOCK_LINK),
    "hand-insert": _free_pair,
    "faucet-open": _fixture((0.175, 0.0, 0.125)),
    "faucet-close": _fixture((-0.175, 0.0, 0.125)),
    "hammer": lambda rv: {"goal": _f(*HAMMER_GOAL), "obj_init": rv, "body": rv, "joint": 0.0},
    "handle-press-side": lambda rv: _handle_press(rv, True),
    "handle-press": lambda rv: _handle_press(rv, False),
    "handle-pull-side": lambda rv: {"goal": rv + _side(_PULL), "obj_init": rv + _side(_HANDLE_CENTER_PULL),
                                    "body": rv, "joint": -0.1},
    "handle-pull": lambda rv: {"goal": rv + _f(*_PULL), "obj_init": rv, "body": rv, "joint": -0.1},
    "lever-pull": _fixture((0.12, 0.0, 0.45)),
    "pick-place-wall": _free_pair,
    "pick-out-of-hole": _free_pair,
    # Plate slides: obj_init is the vector's first part; the puck sits on two slide joints (qpos below).
    "plate-slide": lambda rv: {**_free_pair(rv), "joint": _f(0.0, 0.0)},
    "plate-slide-side": lambda rv: {**_free_pair(rv), "joint": _f(0.0, 0.0)},
    "plate-slide-back": lambda rv: {**_free_pair(rv), "joint": _f(0.0, 0.15)},
    "plate-slide-back-side": lambda rv: {**_free_pair(rv), "joint": _f(-0.15, 0.0)},
    # The plug (free body) sits at box + (0.044, 0, 0.131); obj_init is its ``pegEnd`` site, plug + (0.04, 0, 0).
    "peg-unplug-side": lambda rv: {"goal": rv + _f(0.194, 0.0, 0.131), "obj_init": rv + _f(0.084, 0.0, 0.131),
                                   "body": rv + _f(0.044, 0.0, 0.131), "joint": 0.0},
    "soccer": _pair_z(0.03),
    "stick-push": _stick(None),
    "stick-pull": _stick(0.02),
    "push-wall": _pair_z(tasks.PUSH_REST_Z, tasks.PUSH_REST_Z),
    "push-back": _pair_z(PUCK_REST_Z, PUCK_REST_Z),
    "reach-wall": _free_pair,
    # The shelf body goes to rv[3:6] - (0, 0, 0.3) and its goal site sits 0.3 above it.
    "shelf-place": _pair_z(PUCK_REST_Z),
    "sweep-into": lambda rv: {"goal": _f(*SWEEP_INTO_GOAL), "obj_init": _with_z(rv[:3], SWEEP_INTO_OBJ_Z),
                              "body": _with_z(rv[:3], SWEEP_INTO_OBJ_Z), "joint": 0.0},
    "sweep": lambda rv: {"goal": _f(0.5, 0.0, 0.01).at[1].set(rv[1]), "obj_init": rv, "body": rv, "joint": 0.0},
}


def place(name: str, rv: jax.Array) -> dict[str, jax.Array]:
    """Meta-World's ``reset_model`` placement of one variation vector of one of the 40 tasks.

    Args:
      name: task name (``TASKS``).
      rv: ``[D]`` random vector (D = ``len(SPECS[name].rand_low)``).

    Returns:
      dict with ``goal`` [3] (``_target_pos``), ``obj_init`` [3] (``obj_init_pos`` as the reward reads it),
      ``body`` [3] (the free object's or the moved fixture's position), ``joint`` (the task joint's reset value;
      ``[2]`` for the plate slides), ``hand_init_pos`` [3], and where Meta-World keeps them
      ``obj_to_target_init``, ``dial_push_init``, ``handle_init_pos``, ``stick_init_pos``.
    """
    if name not in _PLACE:
        raise ValueError(f"unknown MT50 task {name!r}; valid tasks: {', '.join(TASKS)}")
    return {**_PLACE[name](jnp.asarray(rv, jnp.float32)), "hand_init_pos": _f(*SPECS[name].hand_init)}
