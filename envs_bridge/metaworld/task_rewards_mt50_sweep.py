"""MT50 rewards, sliding family: push-back, soccer, sweep, sweep-into (own caging term), the four plate slides and
reach-wall.

Meta-World (Yu et al., 2019, arXiv 1910.10897), metaworld 3.1.1, "v2" rewards of the ``*-v3`` envs, re-implemented
term by term (``compute_reward`` + ``evaluate_state``; task table in ``docs/metaworld_rewards.md``) and checked
step by step against recordings of the real package (``tests/test_metaworld_rewards_mt50.py``). Quantities:
``quantities_mt50.QUANTITIES_MT50`` (see ``rewards.py``); obj_pos is the object point of obs[4:7] (push-back: geom
``objGeom`` centre; soccer: body ``soccer_ball``; sweep/sweep-into: body ``obj``; plate slides: geom ``puck``
centre).
"""

from __future__ import annotations

import jax.numpy as jnp

from envs_bridge.metaworld.reward_utils import hamacher_product, norm, touch_grasp
from envs_bridge.metaworld.task_rewards import _f, _info, _lt

__all__ = ["REWARD_FNS_SWEEP", "sliding_caging"]


def sliding_caging(q, obj, obj_radius: float, grip_margin: float, xz_thresh: float):
    """The caging term push-back, soccer, sweep and sweep-into define for themselves (not the base class's).

    Per pad a signed y distance (left pad - object, object - right pad) is scored twice with the long-tail
    tolerance, "caged" on [r, 0.05] and "gripped" on [r, grip_margin], both with margin ``| |obj_y - pad_y| -
    0.05 |``. Meta-World takes that margin from its ``init_*_pad`` attributes, which are live views of the
    current pads (quirk 1), so the current pads are used. The xz term is the base class's; gripping counts only
    once caging exceeds 0.95; the result is ``(caging + gripping) / 2`` (the gripper action is not used).

    Args:
      q: quantities (``left_pad``, ``right_pad``, ``tcp_center``, ``obj_init_pos``, ``init_tcp``).
      obj: ``[3]`` object point.
      obj_radius, grip_margin, xz_thresh: the task's constants.

    Returns:
      Scalar in [0, 1].
    """
    d_left = q["left_pad"][1] - obj[1]
    d_right = obj[1] - q["right_pad"][1]
    m_left = jnp.abs(jnp.abs(d_left) - 0.05)
    m_right = jnp.abs(jnp.abs(d_right) - 0.05)
    y_cage = hamacher_product(_lt(d_right, obj_radius, 0.05, m_right), _lt(d_left, obj_radius, 0.05, m_left))
    y_grip = hamacher_product(_lt(d_right, obj_radius, grip_margin, m_right),
                              _lt(d_left, obj_radius, grip_margin, m_left))
    xz = jnp.array([0, 2])
    xz_margin = norm(q["obj_init_pos"][xz] - q["init_tcp"][xz]) - xz_thresh
    x_z = _lt(norm(q["tcp_center"][xz] - obj[xz]), 0.0, xz_thresh, xz_margin)
    caging = hamacher_product(y_cage, x_z)
    gripping = jnp.where(caging > 0.95, y_grip, 0.0)
    return (caging + gripping) / 2.0


def _push_back(q):
    obj, target = q["obj_pos"], q["target_pos"]
    d = norm(obj - target)
    d0 = norm(q["obj_init_pos"] - target)
    in_place = _lt(d, 0.0, 0.05, d0)
    grasped = sliding_caging(q, obj, 0.007, 0.01, 0.01)
    reward = hamacher_product(grasped, in_place)
    tcp_to_obj = norm(obj - q["tcp_center"])
    opened = q["tcp_opened"]
    pushing = (tcp_to_obj < 0.01) & (opened > 0) & (opened < 0.55) & (d0 - d > 0.01)
    reward = jnp.where(pushing, reward + 1.0 + 5.0 * in_place, reward)
    reward = jnp.where(d < 0.05, 10.0, reward)
    info = _info(tcp_to_obj <= 0.03, touch_grasp(q, obj, 0.02), grasped, in_place, d, reward, in_place)
    return _f(reward), d <= 0.07, info


def _soccer(q):
    """Quirk kept: the in-place margin is the ball's (x-scaled) displacement *so far*, ``||(o - o0) * (3, 1, 1)||``,
    so before the ball moves the term is a step function (margin 0)."""
    obj, target = q["obj_pos"], q["target_pos"]
    scale = jnp.array([3.0, 1.0, 1.0])
    x = norm((obj - target) * scale)
    in_place = _lt(x, 0.0, 0.07, norm((obj - q["obj_init_pos"]) * scale))
    line = target[1] - 0.1
    wide = (obj[1] > line) & (jnp.abs(obj[0] - target[0]) > 0.1)
    in_place = jnp.where(wide, jnp.clip(in_place - 2.0 * (obj[1] - line) / (1.0 - line), 0.0, 1.0), in_place)
    grasped = sliding_caging(q, obj, 0.013, 0.023, 0.005)
    reward = jnp.where(x < 0.07, 10.0, 3.0 * grasped + 6.5 * in_place)
    d = norm(obj - target)
    tcp_to_obj = norm(obj - q["tcp_center"])
    info = _info(tcp_to_obj <= 0.03, touch_grasp(q, obj, 0.02), grasped, in_place, d, reward, in_place)
    return _f(reward), d <= 0.07, info


def _sweep_common(q, target, grip_margin: float, xz_thresh: float):
    obj = q["obj_pos"]
    d = norm(obj - target)
    in_place = _lt(d, 0.0, 0.05, norm(q["obj_init_pos"] - target))
    grasped = sliding_caging(q, obj, 0.02, grip_margin, xz_thresh)
    reward = jnp.where(d < 0.05, 10.0, 2.0 * grasped + 6.0 * hamacher_product(grasped, in_place))
    tcp_to_obj = norm(obj - q["tcp_center"])
    info = _info(tcp_to_obj <= 0.03, touch_grasp(q, obj, None), grasped, in_place, d, reward, in_place)
    return _f(reward), d <= 0.05, info


def _sweep_into(q):
    """The goal (fixed (0, 0.84, 0.02), the hole) is compared at the object's own height."""
    target = q["target_pos"].at[2].set(q["obj_pos"][2])
    return _sweep_common(q, target, 0.025, 0.01)


def _sweep(q):
    """Goal: the table edge (0.5, o0_y, 0.01)."""
    return _sweep_common(q, q["target_pos"], 0.03, 0.005)


def _plate_terms(q, margin_offset: float):
    obj, tcp, target = q["obj_pos"], q["tcp_center"], q["target_pos"]
    d = norm(obj - target)
    in_place = _lt(d, 0.0, 0.05, norm(q["obj_init_pos"] - target) - margin_offset)
    tcp_to_obj = norm(tcp - obj)
    grasped = _lt(tcp_to_obj, 0.0, 0.05, norm(q["init_tcp"] - q["obj_init_pos"]) - margin_offset)
    return d, in_place, tcp_to_obj, grasped


def _plate_info(d, in_place, tcp_to_obj, grasped, reward):
    return _f(reward), d <= 0.07, _info(tcp_to_obj <= 0.03, 0.0, grasped, in_place, d, reward, in_place)


def _plate_slide(q):
    """obj_init_pos (0, 0.6, 0); init_tcp is re-read after the settle (Meta-World assigns it again)."""
    d, in_place, tcp_to_obj, grasped = _plate_terms(q, 0.0)
    reward = jnp.where(d < 0.05, 10.0, 8.0 * hamacher_product(grasped, in_place))
    return _plate_info(d, in_place, tcp_to_obj, grasped, reward)


def _plate_slide_sideways(q):
    """plate-slide-side, -back and -back-side: margins shortened by the 5 cm radius; a flat 2 + 7 in_place once
    the tcp is low (z <= 0.03) and within 7 cm of the puck. -back's obj_init_pos (0, 0.85, 0) is only a margin
    reference (the puck starts at (0, 0.75, 0.015)); -back-side's is (-0.25, 0.6, 0)."""
    d, in_place, tcp_to_obj, grasped = _plate_terms(q, 0.05)
    pushing = (q["tcp_center"][2] <= 0.03) & (tcp_to_obj < 0.07)
    reward = jnp.where(pushing, 2.0 + 7.0 * in_place, 1.5 * grasped)
    reward = jnp.where(d < 0.05, 10.0, reward)
    return _plate_info(d, in_place, tcp_to_obj, grasped, reward)


def _reach_wall(q):
    """As MT10's reach (tcp to the goal behind a wall), with reach-wall's info slots."""
    d = norm(q["tcp_center"] - q["target_pos"])
    in_place = _lt(d, 0.0, 0.05, norm(q["hand_init_pos"] - q["target_pos"]))
    reward = 10.0 * in_place
    return _f(reward), d <= 0.05, _info(0.0, 0.0, 0.0, in_place, d, reward, in_place)


REWARD_FNS_SWEEP = {
    "push-back": _push_back,
    "soccer": _soccer,
    "sweep-into": _sweep_into,
    "sweep": _sweep,
    "plate-slide": _plate_slide,
    "plate-slide-side": _plate_slide_sideways,
    "plate-slide-back": _plate_slide_sideways,
    "plate-slide-back-side": _plate_slide_sideways,
    "reach-wall": _reach_wall,
}
