"""The ten MT10 reward functions in pure JAX: Meta-World's ``compute_reward`` + ``evaluate_state`` ("v2" rewards
of the ``*-v3`` envs, metaworld 3.1.1; Yu et al., 2019, arXiv 1910.10897), term by term.

Each ``REWARD_FNS[task](q) -> (reward, success, info)`` reads the unbatched per-env quantities ``q`` described in
``rewards.py`` (the public interface, which re-exports ``REWARD_FNS``, ``INFO_KEYS`` and the two constants
below); the shaping primitives are in ``reward_utils.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

from envs_bridge.metaworld.reward_utils import gripper_caging_reward, hamacher_product, rect_prism_tolerance
from envs_bridge.metaworld.reward_utils import tolerance as _tol

__all__ = ["BUTTON_OBJ_TO_TARGET_INIT", "INFO_KEYS", "PEG_HEAD_POS_INIT", "REWARD_FNS", "RewardFn"]

INFO_KEYS = (
    "near_object",
    "grasp_success",
    "grasp_reward",
    "in_place_reward",
    "obj_to_target",
    "unscaled_reward",
    "progress",
)
# Constants that are identical in every variation: peg-insert-side's ``peg_head_pos_init`` (Meta-World reads it
# from the XML default, not from the sampled peg) and button-press-topdown's ``_obj_to_target_init``.
PEG_HEAD_POS_INIT = (-0.1, 0.6, 0.0147846849)
BUTTON_OBJ_TO_TARGET_INIT = 0.09349997035412655


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


def _caging(q, obj, tcp, obj_radius: float, pad_success_thresh: float):
    """push's and peg-insert-side's caging term: Meta-World's dense (``high_density``) variant with a 1 cm reach
    radius and 5 mm xz threshold; only the object radius and the pad threshold differ between the two."""
    return gripper_caging_reward(q["action"], obj, tcp, q["left_pad"], q["right_pad"], q["obj_init_pos"],
                                 q["init_tcp"], obj_radius=obj_radius, pad_success_thresh=pad_success_thresh,
                                 object_reach_radius=0.01, xz_thresh=0.005, high_density=True)


def _push(q):
    obj, tcp, tcp_to_obj, obj_to_target, in_place = _puck_common(q)
    grasped = _caging(q, obj, tcp, obj_radius=0.015, pad_success_thresh=0.05)
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
    grasped = _caging(q, obj, tcp, obj_radius=0.0075, pad_success_thresh=0.03)
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
