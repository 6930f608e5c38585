"""Meta-World MT10 rewards and success flags in pure JAX ("v2" rewards of the ``*-v3`` envs, metaworld 3.1.1).

Meta-World: Yu et al., 2019, "Meta-World: A Benchmark and Evaluation for Multi-Task and Meta Reinforcement
Learning" (arXiv 1910.10897). The ten functions below re-implement ``compute_reward`` + ``evaluate_state`` of the
MT10 environments term by term (``shared/reference/metaworld_tasks.md`` section 2) and are checked step by step
against traces recorded from the real package (``scripts/record_metaworld_traces.py``,
``tests/test_metaworld_rewards.py``).

Interface (shared with the simulated scenes in ``envs_bridge/metaworld/env.py``):
  ``REWARD_FNS[task](q) -> (reward, success, info)``, where ``q`` is a dict of *unbatched* per-env quantities
  (extra keys are ignored), ``reward`` a scalar float, ``success`` a scalar bool and ``info`` a dict of scalar
  floats with the same keys for every task (``INFO_KEYS``), so the ten outputs stack under ``lax.switch``.
  ``QUANTITIES[task]`` names exactly the keys a task reads; ``OPTIONAL_QUANTITIES[task]`` the keys it reads if
  present. Outputs keep the input dtype (float32 under the default JAX config). Jittable and vmappable.

Quantities (world frame, metres, z up, table top at z = 0; Meta-World's attribute names where they exist):
  ``hand_pos`` [3]: obs[0:3], world position of body ``hand`` (not the fingertips), as in the step observation.
  ``tcp_opened`` []: obs[3], claw-origin distance / 0.1 clipped to [0, 1] (1 open, ~0.297 closed on nothing).
  ``tcp_center`` [3]: midpoint of the fingertip sites ``rightEndEffector``/``leftEndEffector`` (~hand - 0.045 z).
  ``obj_pos`` [3]: obs[4:7], the first object slot, task-specific point: reach/push/pick-place puck body origin;
    door-open centre of the handle geom; drawer-open ``drawer_link`` origin + (0, -0.16, 0); drawer-close
    ``drawer_link`` origin + (0, -0.16, 0.05); button-press-topdown ``button`` body + (0, 0, 0.193) (cap top);
    peg-insert-side site ``pegGrasp``; window-open site ``handleOpenStart``; window-close ``handleCloseStart``.
  ``target_pos`` [3]: the goal ``_target_pos`` (not the clipped obs[36:39]; unchanged within an episode).
  ``init_tcp`` [3]: ``tcp_center`` at the end of the reset settle (hand resting at ``hand_init_pos``, fingers
    open), i.e. including the arm's sag (~(+0.004, +0.001, -0.05) from ``hand_init_pos``).
  ``obj_init_pos`` [3]: per-episode constant, task-specific: reach/pick-place the sampled puck position
    (z = 0.02); push the sampled xy at the settled puck height (z = 0.0194047); drawer-close ``obj_pos`` at the
    reset joint value q = -0.15; peg-insert-side the sampled peg *body* position (z = 0.02, not ``pegGrasp``);
    window-open the window anchor (sampled vector). Not read by door-open, drawer-open, button, window-close.
  ``hand_init_pos`` [3]: commanded hand start (0, 0.6, 0.2) for reach (the only reader).
  ``left_pad``, ``right_pad`` [3]: *current* origins of bodies ``leftpad``/``rightpad``. Meta-World's
    ``init_left_pad``/``init_right_pad`` are live views of these same arrays (quirk 1), so no separate
    "initial pad" quantity exists: pick-place's caging margins use the current pads, as in Meta-World.
  ``action`` [4]: the action as passed to ``env.step`` (unclipped; only action[3] is read).
  ``door_angle`` []: ``doorjoint`` qpos in rad (0 closed, negative = open, range [-2, 0]).
  ``peg_head_pos`` [3]: site ``pegHead`` (peg body + (-0.1, 0, 0)).
  ``collision_box_bottom_1/top_1/bottom_2/top_2`` [3]: peg-insert-side penalty-prism corner sites
    (``bottom_right_corner_collision_box_k`` = "zero" corner, ``top_left_corner_collision_box_k`` = "one"
    corner), constant per episode; ``peg_box_corners(block_pos)`` computes them from the block position.
  ``window_handle_pos_init`` [3]: window handle site at reset (window-open: anchor + (-0.04, -0.095, 0);
    window-close: anchor + (0.21, -0.095, 0), the true position at q = 0.2, not the stale reset obs).
  ``touching_object`` [] (optional, push/pick-place): both pads have positive normal contact force with the
    puck (Meta-World's ``touching_main_object``); only ``info["grasp_success"]`` reads it, and without it that
    flag drops the contact condition.

Constants that are identical in every variation are built in: peg-insert-side ``peg_head_pos_init`` =
(-0.1, 0.6, 0.0147847) (quirk 2: read from the XML default, not the sampled peg) and button-press-topdown
``_obj_to_target_init`` = 0.0935.

Info keys: ``near_object``, ``grasp_success``, ``grasp_reward``, ``in_place_reward``, ``obj_to_target``,
``unscaled_reward`` (Meta-World's values, bools as 0/1 floats) and ``progress`` = ``in_place_reward``, the
task's own "in place" shaping term in [0, 1] (door-open and drawer-open: the opening term; button: the press
term), a smooth completion measure. It is not a success indicator: several success thresholds
are looser than the flat top of the term (e.g. pick-place succeeds at 0.07, its term saturates at 0.05).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

from envs_bridge.metaworld.reward_utils import gripper_caging_reward, hamacher_product, rect_prism_tolerance
from envs_bridge.metaworld.reward_utils import tolerance as _tol

__all__ = [
    "BUTTON_OBJ_TO_TARGET_INIT",
    "INFO_KEYS",
    "OPTIONAL_QUANTITIES",
    "PEG_HEAD_POS_INIT",
    "QUANTITIES",
    "RANGES",
    "REWARD_FNS",
    "TASK_NAMES",
    "compute_reward",
    "peg_box_corners",
]

TASK_NAMES = (
    "reach",
    "push",
    "pick-place",
    "door-open",
    "drawer-open",
    "drawer-close",
    "button-press-topdown",
    "peg-insert-side",
    "window-open",
    "window-close",
)
INFO_KEYS = (
    "near_object",
    "grasp_success",
    "grasp_reward",
    "in_place_reward",
    "obj_to_target",
    "unscaled_reward",
    "progress",
)
PEG_HEAD_POS_INIT = (-0.1, 0.6, 0.0147846849)
BUTTON_OBJ_TO_TARGET_INIT = 0.09349997035412655

_PUCK = (
    "obj_pos",
    "tcp_opened",
    "tcp_center",
    "target_pos",
    "obj_init_pos",
    "init_tcp",
    "left_pad",
    "right_pad",
    "action",
)
_PEG_CORNERS = (
    "collision_box_bottom_1",
    "collision_box_top_1",
    "collision_box_bottom_2",
    "collision_box_top_2",
)
QUANTITIES: dict[str, tuple[str, ...]] = {
    "reach": ("tcp_center", "target_pos", "hand_init_pos"),
    "push": _PUCK,
    "pick-place": _PUCK,
    "door-open": ("hand_pos", "obj_pos", "door_angle", "action", "target_pos"),
    "drawer-open": ("hand_pos", "obj_pos", "tcp_opened", "target_pos", "init_tcp"),
    "drawer-close": ("obj_pos", "tcp_center", "target_pos", "obj_init_pos", "init_tcp", "action"),
    "button-press-topdown": ("obj_pos", "tcp_center", "tcp_opened", "target_pos", "init_tcp"),
    "peg-insert-side": _PUCK + ("peg_head_pos",) + _PEG_CORNERS,
    "window-open": (
        "obj_pos",
        "tcp_center",
        "target_pos",
        "obj_init_pos",
        "init_tcp",
        "window_handle_pos_init",
    ),
    "window-close": ("obj_pos", "tcp_center", "target_pos", "init_tcp", "window_handle_pos_init"),
}
OPTIONAL_QUANTITIES: dict[str, tuple[str, ...]] = {t: () for t in TASK_NAMES}
OPTIONAL_QUANTITIES.update({"push": ("touching_object",), "pick-place": ("touching_object",)})

# Meta-World's ``_random_reset_space`` per task (low, high): the task-variation vector ("rand_vec"). Six-D
# vectors are (object xyz, goal xyz) (peg-insert-side: peg xyz, block xyz); three-D vectors are the anchor.
RANGES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "reach": ((-0.1, 0.6, 0.02, -0.1, 0.8, 0.05), (0.1, 0.7, 0.02, 0.1, 0.9, 0.3)),
    "push": ((-0.1, 0.6, 0.02, -0.1, 0.8, 0.01), (0.1, 0.7, 0.02, 0.1, 0.9, 0.02)),
    "pick-place": ((-0.1, 0.6, 0.02, -0.1, 0.8, 0.05), (0.1, 0.7, 0.02, 0.1, 0.9, 0.3)),
    "door-open": ((0.0, 0.85, 0.15), (0.1, 0.95, 0.15)),
    "drawer-open": ((-0.1, 0.9, 0.0), (0.1, 0.9, 0.0)),
    "drawer-close": ((-0.1, 0.9, 0.0), (0.1, 0.9, 0.0)),
    "button-press-topdown": ((-0.1, 0.8, 0.115), (0.1, 0.9, 0.115)),
    "peg-insert-side": ((0.0, 0.5, 0.02, -0.35, 0.4, -0.001), (0.2, 0.7, 0.02, -0.25, 0.7, 0.001)),
    "window-open": ((-0.1, 0.7, 0.16), (0.1, 0.9, 0.16)),
    "window-close": ((0.0, 0.75, 0.2), (0.0, 0.9, 0.2)),
}

# Peg-insert-side penalty-prism corner sites in the block's local frame (peg_block.xml); the block body has
# euler (0, 0, 1.57) (not exactly pi/2), applied in ``peg_box_corners``. Order as in ``_PEG_CORNERS``.
_PEG_CORNER_LOCAL = ((0.1, -0.11, 0.01), (-0.1, -0.15, 0.096), (0.1, -0.11, 0.16), (-0.1, -0.17, 0.19))
_PEG_BLOCK_YAW = 1.57


def _lt(x, lo, hi, margin):
    return _tol(x, (lo, hi), margin, "long_tail")


def _f(x):
    return jnp.asarray(x).astype(jnp.result_type(float))


def _info(near, grasp_success, grasp_reward, in_place, obj_to_target, reward, progress):
    vals = (near, grasp_success, grasp_reward, in_place, obj_to_target, reward, progress)
    return {k: _f(v) for k, v in zip(INFO_KEYS, vals)}


def _reach(q):
    tcp, target = q["tcp_center"], q["target_pos"]
    d = jnp.linalg.norm(tcp - target)
    in_place = _lt(d, 0.0, 0.05, jnp.linalg.norm(q["hand_init_pos"] - target))
    reward = 10.0 * in_place
    return _f(reward), d <= 0.05, _info(d, 1.0, d, in_place, d, reward, in_place)


def _puck_common(q):
    obj, tcp, target = q["obj_pos"], q["tcp_center"], q["target_pos"]
    tcp_to_obj = jnp.linalg.norm(obj - tcp)
    obj_to_target = jnp.linalg.norm(obj - target)
    in_place = _lt(obj_to_target, 0.0, 0.05, jnp.linalg.norm(q["obj_init_pos"] - target))
    return obj, tcp, tcp_to_obj, obj_to_target, in_place


def _puck_grasp_success(q, obj):
    ok = (q["tcp_opened"] > 0) & (obj[2] - 0.02 > q["obj_init_pos"][2])
    if "touching_object" in q:
        ok = ok & jnp.asarray(q["touching_object"]).astype(bool)
    return ok


def _push(q):
    obj, tcp, tcp_to_obj, obj_to_target, in_place = _puck_common(q)
    grasped = gripper_caging_reward(
        q["action"],
        obj,
        tcp,
        q["left_pad"],
        q["right_pad"],
        q["obj_init_pos"],
        q["init_tcp"],
        obj_radius=0.015,
        pad_success_thresh=0.05,
        object_reach_radius=0.01,
        xz_thresh=0.005,
        high_density=True,
    )
    reward = 2.0 * grasped
    near_grip = (tcp_to_obj < 0.02) & (q["tcp_opened"] > 0)
    reward = jnp.where(near_grip, reward + 1.0 + reward + 5.0 * in_place, reward)
    reward = jnp.where(obj_to_target < 0.05, 10.0, reward)
    info = _info(
        tcp_to_obj <= 0.03, _puck_grasp_success(q, obj), grasped, in_place, obj_to_target, reward, in_place
    )
    return _f(reward), obj_to_target <= 0.05, info


def _pick_place_caging(q, obj, tcp):
    """Pick-place's own caging term: signed pad-object y distances, margins from the (live) pads."""
    d_left = q["left_pad"][1] - obj[1]
    d_right = obj[1] - q["right_pad"][1]
    c_left = _lt(d_left, 0.015, 0.05, jnp.abs(jnp.abs(d_left) - 0.05))
    c_right = _lt(d_right, 0.015, 0.05, jnp.abs(jnp.abs(d_right) - 0.05))
    caging_y = hamacher_product(c_left, c_right)
    xz = jnp.array([0, 2])
    xz_margin = jnp.linalg.norm(q["obj_init_pos"][xz] - q["init_tcp"][xz]) - 0.005
    caging_xz = _lt(jnp.linalg.norm(tcp[xz] - obj[xz]), 0.0, 0.005, xz_margin)
    closed = jnp.minimum(jnp.maximum(0.0, q["action"][3]), 1.0)
    caging = hamacher_product(caging_y, caging_xz)
    gripping = jnp.where(caging > 0.97, closed, 0.0)
    return (hamacher_product(caging, gripping) + caging) / 2.0


def _pick_place(q):
    obj, tcp, tcp_to_obj, obj_to_target, in_place = _puck_common(q)
    grasped = _pick_place_caging(q, obj, tcp)
    reward = hamacher_product(grasped, in_place)
    lifted = (tcp_to_obj < 0.02) & (q["tcp_opened"] > 0) & (obj[2] - 0.01 > q["obj_init_pos"][2])
    reward = jnp.where(lifted, reward + 1.0 + 5.0 * in_place, reward)
    reward = jnp.where(obj_to_target < 0.05, 10.0, reward)
    info = _info(
        tcp_to_obj <= 0.03, _puck_grasp_success(q, obj), grasped, in_place, obj_to_target, reward, in_place
    )
    return _f(reward), obj_to_target <= 0.07, info


def _door_open(q):
    hand, handle, theta = q["hand_pos"], q["obj_pos"], q["door_angle"]
    grab = (jnp.clip(q["action"][3], -1.0, 1.0) + 1.0) / 2.0
    door = handle + jnp.array([-0.05, 0.0, 0.0])
    radius = jnp.linalg.norm(hand[:2] - door[:2])
    floor = jnp.where(radius <= 0.12, 0.0, 0.04 * jnp.log(jnp.maximum(radius - 0.12, 1e-30)) + 0.4)
    above = jnp.where(hand[2] >= floor, 1.0, _lt(floor - hand[2], 0.0, 0.01, floor / 2.0))
    near = _lt(jnp.linalg.norm(hand - door - jnp.array([0.05, 0.03, -0.01])), 0.0, 0.06, 0.5)
    ready = hamacher_product(above, near)
    opened = 0.2 * (theta < -math.pi / 90.0) + 0.8 * _lt(
        math.pi / 2.0 + math.pi / 6.0 + theta, 0.0, 0.5, math.pi / 3.0
    )
    success = jnp.abs(handle[0] - q["target_pos"][0]) <= 0.08
    reward = 2.0 * hamacher_product(ready, grab) + 8.0 * opened
    reward = jnp.where(success, 10.0, reward)
    return _f(reward), success, _info(ready, grab >= 0.5, grab, opened, 0.0, reward, opened)


def _drawer_open(q):
    hand, handle, target = q["hand_pos"], q["obj_pos"], q["target_pos"]
    handle_error = jnp.linalg.norm(handle - target)
    opening = _lt(handle_error, 0.0, 0.02, 0.2)
    handle_init = target + jnp.array([0.0, 0.2, 0.0])
    scale = jnp.array([3.0, 3.0, 1.0])
    caging_margin = jnp.linalg.norm((handle_init - q["init_tcp"]) * scale)
    caging = _lt(jnp.linalg.norm((handle - hand) * scale), 0.0, 0.01, caging_margin)
    reward = 5.0 * (caging + opening)
    hand_dist = jnp.linalg.norm(handle - hand)
    info = _info(hand_dist <= 0.03, q["tcp_opened"] > 0, caging, opening, handle_error, reward, opening)
    return _f(reward), handle_error <= 0.03, info


def _drawer_close(q):
    obj, tcp, target = q["obj_pos"], q["tcp_center"], q["target_pos"]
    obj_to_target = jnp.linalg.norm(obj - target)
    init_to_target = jnp.linalg.norm(q["obj_init_pos"] - target)
    in_place = _lt(obj_to_target, 0.0, 0.05, jnp.abs(init_to_target - 0.05))
    tcp_to_obj = jnp.linalg.norm(obj - tcp)
    reach_margin = jnp.abs(jnp.linalg.norm(q["obj_init_pos"] - q["init_tcp"]) - 0.005)
    reach = _tol(tcp_to_obj, (0.0, 0.005), reach_margin, "gaussian")
    reach = hamacher_product(reach, jnp.minimum(jnp.maximum(0.0, q["action"][3]), 1.0))
    success = obj_to_target <= 0.065
    reward = 10.0 * jnp.where(success, 1.0, hamacher_product(reach, in_place))
    return (
        _f(reward),
        success,
        _info(tcp_to_obj <= 0.01, 1.0, reach, in_place, obj_to_target, reward, in_place),
    )


def _button_press_topdown(q):
    obj, tcp = q["obj_pos"], q["tcp_center"]
    tcp_to_obj = jnp.linalg.norm(obj - tcp)
    near = _lt(tcp_to_obj, 0.0, 0.01, jnp.linalg.norm(obj - q["init_tcp"]))
    obj_to_target = jnp.abs(q["target_pos"][2] - obj[2])
    pressed = _lt(obj_to_target, 0.0, 0.005, BUTTON_OBJ_TO_TARGET_INIT)
    reward = 5.0 * hamacher_product(1.0 - q["tcp_opened"], near)
    reward = jnp.where(tcp_to_obj <= 0.03, reward + 5.0 * pressed, reward)
    info = _info(tcp_to_obj <= 0.05, q["tcp_opened"] > 0, near, pressed, obj_to_target, reward, pressed)
    return _f(reward), obj_to_target <= 0.024, info


def _peg_insert_side(q):
    obj, tcp, target, head = q["obj_pos"], q["tcp_center"], q["target_pos"], q["peg_head_pos"]
    tcp_to_obj = jnp.linalg.norm(obj - tcp)
    scale = jnp.array([1.0, 2.0, 2.0])
    obj_to_target = jnp.linalg.norm((head - target) * scale)
    margin = jnp.linalg.norm((jnp.asarray(PEG_HEAD_POS_INIT, dtype=head.dtype) - target) * scale)
    in_place = _lt(obj_to_target, 0.0, 0.07, margin)
    box1 = rect_prism_tolerance(head, q["collision_box_bottom_1"], q["collision_box_top_1"])
    box2 = rect_prism_tolerance(head, q["collision_box_bottom_2"], q["collision_box_top_2"])
    in_place = hamacher_product(in_place, hamacher_product(box2, box1))
    grasped = gripper_caging_reward(
        q["action"],
        obj,
        tcp,
        q["left_pad"],
        q["right_pad"],
        q["obj_init_pos"],
        q["init_tcp"],
        obj_radius=0.0075,
        pad_success_thresh=0.03,
        object_reach_radius=0.01,
        xz_thresh=0.005,
        high_density=True,
    )
    lifted_cond = (q["tcp_opened"] > 0) & (obj[2] - 0.01 > q["obj_init_pos"][2])
    lifted = (tcp_to_obj < 0.08) & lifted_cond
    grasped = jnp.where(lifted, 1.0, grasped)
    reward = hamacher_product(grasped, in_place)
    reward = jnp.where(lifted, reward + 1.0 + 5.0 * in_place, reward)
    success = obj_to_target <= 0.07
    reward = jnp.where(success, 10.0, reward)
    grasp_success = (tcp_to_obj < 0.02) & lifted_cond
    info = _info(tcp_to_obj <= 0.03, grasp_success, grasped, in_place, obj_to_target, reward, in_place)
    return _f(reward), success, info


def _window(q, init_x, reach_sigmoid):
    obj, tcp, target = q["obj_pos"], q["tcp_center"], q["target_pos"]
    obj_to_target = jnp.abs(obj[0] - target[0])
    in_place = _lt(obj_to_target, 0.0, 0.05, jnp.abs(jnp.abs(init_x - target[0]) - 0.05))
    tcp_to_obj = jnp.linalg.norm(obj - tcp)
    reach_margin = jnp.abs(jnp.linalg.norm(q["window_handle_pos_init"] - q["init_tcp"]) - 0.02)
    reach = _tol(tcp_to_obj, (0.0, 0.02), reach_margin, reach_sigmoid)
    reward = 10.0 * hamacher_product(reach, in_place)
    info = _info(tcp_to_obj <= 0.05, 1.0, reach, in_place, obj_to_target, reward, in_place)
    return _f(reward), obj_to_target <= 0.05, info


def _window_open(q):
    return _window(q, q["obj_init_pos"][0], "long_tail")


def _window_close(q):
    return _window(q, q["window_handle_pos_init"][0], "gaussian")


RewardFn = Callable[[dict[str, jax.Array]], tuple[jax.Array, jax.Array, dict[str, jax.Array]]]
REWARD_FNS: dict[str, RewardFn] = {
    "reach": _reach,
    "push": _push,
    "pick-place": _pick_place,
    "door-open": _door_open,
    "drawer-open": _drawer_open,
    "drawer-close": _drawer_close,
    "button-press-topdown": _button_press_topdown,
    "peg-insert-side": _peg_insert_side,
    "window-open": _window_open,
    "window-close": _window_close,
}


def compute_reward(task: str, quantities: dict[str, jax.Array]):
    """Reward, success and info of one MT10 task (Meta-World name, with or without the ``-v3`` suffix).

    Args:
      task: e.g. ``"pick-place"`` or ``"pick-place-v3"``.
      quantities: dict holding at least ``QUANTITIES[task]`` (unbatched; vmap for batches).

    Returns:
      ``(reward [], success [] bool, info dict of [] floats with keys INFO_KEYS)``.
    """
    name = task.removesuffix("-v3")
    if name not in REWARD_FNS:
        raise ValueError(f"Unknown Meta-World task {task!r}; valid choices: {', '.join(TASK_NAMES)}")
    missing = [k for k in QUANTITIES[name] if k not in quantities]
    if missing:
        raise ValueError(f"{name}: missing quantities {missing}; needs {list(QUANTITIES[name])}")
    q = {k: jnp.asarray(v) for k, v in quantities.items()}
    reward, success, info = REWARD_FNS[name](q)
    return reward, jnp.asarray(success, dtype=bool), info


def peg_box_corners(block_pos) -> dict[str, jax.Array]:
    """Peg-insert-side penalty-prism corner sites (``collision_box_*`` quantities) from the block position.

    Args:
      block_pos: ``[3]`` world position of the block body ``box`` (the last three rand_vec entries).

    Returns:
      Dict of the four ``[3]`` corner positions.
    """
    block_pos = jnp.asarray(block_pos)
    c, s = math.cos(_PEG_BLOCK_YAW), math.sin(_PEG_BLOCK_YAW)
    out = {}
    for name, (x, y, z) in zip(_PEG_CORNERS, _PEG_CORNER_LOCAL):
        out[name] = block_pos + jnp.asarray((c * x - s * y, s * x + c * y, z), dtype=block_pos.dtype)
    return out
