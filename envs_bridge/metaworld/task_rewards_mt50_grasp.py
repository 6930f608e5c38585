"""MT50 rewards, grasp-and-carry family: tasks scored with Meta-World's base-class gripper-caging term.

Meta-World (Yu et al., 2019, arXiv 1910.10897), metaworld 3.1.1, "v2" rewards of the ``*-v3`` envs:
basketball, bin-picking, coffee-pull, coffee-push, hand-insert, handle-pull-side, handle-pull, pick-place-wall,
pick-out-of-hole, peg-unplug-side, shelf-place and push-wall, re-implemented term by term (``compute_reward`` +
``evaluate_state``; task table in ``docs/metaworld_rewards.md``) and checked step by step against recordings of
the real package (``tests/test_metaworld_rewards_mt50.py``).

Every function reads the unbatched quantities of ``quantities_mt50.QUANTITIES_MT50[task]`` (definitions in
``rewards.py``); the task-specific meaning of ``obj_pos`` / ``obj_init_pos`` is given per function. ``<`` vs
``<=`` is Meta-World's, task by task (reward overrides usually ``<``, success flags ``<=``).
"""

from __future__ import annotations

import jax.numpy as jnp

from envs_bridge.metaworld.reward_utils import gripper_caging_reward, hamacher_product, norm, touch_grasp
from envs_bridge.metaworld.task_rewards import _f, _info, _lt

__all__ = ["REWARD_FNS_GRASP"]


def _cage(q, obj, **kw):
    """Base-class caging of ``obj`` with the episode-start object ``obj_init_pos``."""
    return gripper_caging_reward(q["action"], obj, q["tcp_center"], q["left_pad"], q["right_pad"],
                                 q["obj_init_pos"], q["init_tcp"], **kw)


def _lifted(q, obj, reach: float, lift: float):
    """tcp within ``reach`` of the object, gripper "open" (always true: quirk 8) and the object raised."""
    tcp_to_obj = norm(obj - q["tcp_center"])
    return (tcp_to_obj < reach) & (q["tcp_opened"] > 0) & (obj[2] - lift > q["obj_init_pos"][2])


def _basketball(q):
    """obj_pos: ball body ``bsktball``; target: hoop site ``goal``, whose z Meta-World replaces by 0.3."""
    obj, o0 = q["obj_pos"], q["obj_init_pos"]
    target = q["target_pos"].at[2].set(0.3)
    scale = jnp.array([1.0, 1.0, 2.0])
    d = norm((obj - target) * scale)
    in_place = _lt(d, 0.0, 0.08, norm((o0 - target) * scale))
    tcp_to_obj = norm(obj - q["tcp_center"])
    lifted = _lifted(q, obj, 0.035, 0.01)
    grasped = _cage(q, obj, obj_radius=0.025, pad_success_thresh=0.06, object_reach_radius=0.01,
                    xz_thresh=0.005, high_density=True)
    grasped = jnp.where(lifted, 1.0, grasped)
    reward = hamacher_product(grasped, in_place)
    reward = jnp.where(lifted, reward + 1.0 + 5.0 * in_place, reward)
    reward = jnp.where(d < 0.08, 10.0, reward)
    grasp_success = (q["tcp_opened"] > 0) & (obj[2] - 0.03 > o0[2])
    return _f(reward), d <= 0.08, _info(tcp_to_obj <= 0.05, grasp_success, grasped, in_place, d, reward, in_place)


def _bin_picking(q):
    """obj_pos: body ``obj``; target: body ``bin_goal``. ``target_to_obj_init`` is ``||obj - target||`` at the
    episode's *first reward call* (Meta-World caches it lazily on step 1, not at reset)."""
    hand, obj, o0, target = q["hand_pos"], q["obj_pos"], q["obj_init_pos"], q["target_pos"]
    d = norm(obj - target)
    in_place = _lt(d, 0.0, 0.05, q["target_to_obj_init"])
    floors = []
    for ref in (o0, target):
        r = norm(hand[:2] - ref[:2])
        floors.append(jnp.where(r > 0.03, 0.02 * jnp.log(jnp.maximum(r - 0.03, 1e-30)) + 0.2, 0.0))
    floor = jnp.minimum(floors[0], floors[1])
    above = jnp.where(hand[2] >= floor, 1.0, _lt(jnp.maximum(floor - hand[2], 0.0), 0.0, 0.01, 0.05))
    grasped = _cage(q, obj, obj_radius=0.015, pad_success_thresh=0.05, object_reach_radius=0.01,
                    xz_thresh=0.01, desired_gripper_effort=0.7, high_density=True)
    reward = hamacher_product(grasped, in_place)
    near = norm(obj - hand) < 0.04
    grasp_success = near & (obj[2] - 0.02 > o0[2]) & ~(q["tcp_opened"] < 0.43)
    reward = jnp.where(grasp_success, reward + 1.0 + 5.0 * hamacher_product(above, in_place), reward)
    reward = jnp.where(d < 0.05, 10.0, reward)
    return _f(reward), d <= 0.05, _info(near, grasp_success, grasped, in_place, d, reward, in_place)


def _coffee_mug(q):
    """coffee-pull and coffee-push (identical formulas): obj_pos body ``obj`` (the mug), obj_init_pos its start."""
    obj, tcp, target = q["obj_pos"], q["tcp_center"], q["target_pos"]
    scale = jnp.array([2.0, 2.0, 1.0])
    scaled = norm((obj - target) * scale)
    in_place = _lt(scaled, 0.0, 0.05, norm((q["obj_init_pos"] - target) * scale))
    tcp_to_obj = norm(obj - tcp)
    grasped = _cage(q, obj, obj_radius=0.02, pad_success_thresh=0.05, object_reach_radius=0.04,
                    xz_thresh=0.05, desired_gripper_effort=0.7, medium_density=True)
    reward = hamacher_product(grasped, in_place)
    reward = jnp.where((tcp_to_obj < 0.04) & (q["tcp_opened"] > 0), reward + 1.0 + 5.0 * in_place, reward)
    reward = jnp.where(scaled < 0.05, 10.0, reward)
    d = norm(obj - target)  # the info/success distance is unscaled
    info = _info(tcp_to_obj <= 0.03, touch_grasp(q, obj, None), grasped, in_place, d, reward, in_place)
    return _f(reward), d <= 0.07, info


def _hand_insert(q):
    """obj_pos: body ``obj``; target in the table hole (z about -0.02)."""
    obj, target = q["obj_pos"], q["target_pos"]
    d = norm(obj - target)
    in_place = _lt(d, 0.0, 0.05, norm(q["obj_init_pos"] - target))
    grasped = _cage(q, obj, obj_radius=0.015, pad_success_thresh=0.05, object_reach_radius=0.01,
                    xz_thresh=0.005, high_density=True)
    reward = hamacher_product(grasped, in_place)
    tcp_to_obj = norm(obj - q["tcp_center"])
    reward = jnp.where((tcp_to_obj < 0.02) & (q["tcp_opened"] > 0), reward + 1.0 + 7.0 * in_place, reward)
    reward = jnp.where(d < 0.05, 10.0, reward)
    info = _info(tcp_to_obj <= 0.03, touch_grasp(q, obj, 0.02), grasped, in_place, d, reward, in_place)
    return _f(reward), d <= 0.05, info


def _handle_pull_side(q):
    """obj_pos: site ``handleCenter``; obj_init_pos: that site at reset (q = -0.1); target: site ``goalPull``."""
    obj, o0, target = q["obj_pos"], q["obj_init_pos"], q["target_pos"]
    d = norm(obj - target)
    in_place = _lt(d, 0.0, 0.05, norm(o0 - target))
    grasped = _cage(q, obj, obj_radius=0.032, pad_success_thresh=0.06, object_reach_radius=0.01,
                    xz_thresh=0.01, high_density=True)
    reward = hamacher_product(grasped, in_place)
    reward = jnp.where(_lifted(q, obj, 0.035, 0.01), reward + 1.0 + 5.0 * in_place, reward)
    reward = jnp.where(d < 0.05, 10.0, reward)
    tcp_to_obj = norm(obj - q["tcp_center"])
    grasp_success = (q["tcp_opened"] > 0) & (obj[2] - 0.03 > o0[2])
    return _f(reward), d <= 0.08, _info(tcp_to_obj <= 0.05, grasp_success, grasped, in_place, d, reward, in_place)


def _handle_pull(q):
    """obj_pos: site ``handleRight``; obj_init_pos: the box position (rand_vec); target: site ``goalPull``.

    Quirk kept: the lift bonus compares the handle's *y* with the box's start *z* (``obj[1] - 0.01 > o0[2]``).
    """
    obj, o0, target = q["obj_pos"], q["obj_init_pos"], q["target_pos"]
    d = jnp.abs(target[2] - obj[2])
    in_place = _lt(d, 0.0, 0.05, jnp.abs(target[2] - o0[2]))
    grasped = _cage(q, obj, obj_radius=0.022, pad_success_thresh=0.05, object_reach_radius=0.01,
                    xz_thresh=0.01, high_density=True)
    reward = hamacher_product(grasped, in_place)
    tcp_to_obj = norm(obj - q["tcp_center"])
    bonus = (tcp_to_obj < 0.035) & (q["tcp_opened"] > 0) & (obj[1] - 0.01 > o0[2])
    reward = jnp.where(bonus, reward + 1.0 + 5.0 * in_place, reward)
    reward = jnp.where(d < 0.05, 10.0, reward)
    grasp_success = (q["tcp_opened"] > 0) & (obj[2] - 0.03 > o0[2])
    return _f(reward), d <= 0.05, _info(tcp_to_obj <= 0.05, grasp_success, grasped, in_place, d, reward, in_place)


def _pick_place_wall(q):
    """obj_pos: geom ``objGeom`` centre; the path bends through ``(g_x, 0.77, 0.25)`` over the wall."""
    obj, o0, target = q["obj_pos"], q["obj_init_pos"], q["target_pos"]
    mid = jnp.stack([target[0], jnp.asarray(0.77, target.dtype), jnp.asarray(0.25, target.dtype)])
    scale = jnp.array([1.0, 1.0, 3.0])
    part1 = _lt(norm((obj - mid) * scale), 0.0, 0.05, norm((o0 - mid) * scale))
    d = norm(obj - target)
    part2 = _lt(d, 0.0, 0.05, norm(o0 - target))
    grasped = _cage(q, obj, obj_radius=0.015, pad_success_thresh=0.05, object_reach_radius=0.01,
                    xz_thresh=0.005)
    base = hamacher_product(grasped, part1)
    lifted = _lifted(q, obj, 0.02, 0.015)
    reward = jnp.where(lifted, jnp.where(obj[1] > 0.75, base + 5.0 + 3.0 * part2, base + 1.0 + 4.0 * part1), base)
    reward = jnp.where(d < 0.05, 10.0, reward)
    tcp_to_obj = norm(obj - q["tcp_center"])
    info = _info(tcp_to_obj <= 0.03, touch_grasp(q, obj, 0.02), grasped, part2, d, reward, part2)
    return _f(reward), d <= 0.07, info


def _pick_out_of_hole(q):
    """obj_pos: body ``obj`` (starts in a hole at (0, 0.75, 0.02)); the hole's rim is a log-shaped floor for the
    tcp around ``obj_init_pos``."""
    obj, o0, tcp, target = q["obj_pos"], q["obj_init_pos"], q["tcp_center"], q["target_pos"]
    d = norm(obj - target)
    tcp_to_obj = norm(obj - tcp)
    r = norm(tcp[:2] - o0[:2])
    floor = jnp.where(r <= 0.03, 0.0, 0.015 * jnp.log(jnp.maximum(r - 0.03, 1e-30)) + 0.15)
    above = jnp.where(tcp[2] >= floor, 1.0, _lt(jnp.maximum(floor - tcp[2], 0.0), 0.0, 0.01, 0.02))
    grasped = _cage(q, obj, obj_radius=0.015, pad_success_thresh=0.02, object_reach_radius=0.01,
                    xz_thresh=0.03, desired_gripper_effort=0.1, high_density=True)
    in_place = _lt(d, 0.0, 0.02, norm(o0 - target))
    reward = hamacher_product(grasped, in_place)
    grasp_success = (tcp_to_obj < 0.04) & (obj[2] - 0.02 > o0[2]) & ~(q["tcp_opened"] < 0.33)
    reward = jnp.where(grasp_success, reward + 1.0 + 5.0 * hamacher_product(in_place, above), reward)
    reward = jnp.where(d < 0.05, 10.0, reward)
    return _f(reward), d <= 0.07, _info(tcp_to_obj <= 0.03, grasp_success, grasped, in_place, d, reward, in_place)


def _peg_unplug_side(q):
    """obj_pos: site ``pegEnd``; obj_init_pos: that site at reset; target: plug start + (0.15, 0, 0)."""
    obj, o0, target = q["obj_pos"], q["obj_init_pos"], q["target_pos"]
    tcp_to_obj = norm(obj - q["tcp_center"])
    d = norm(obj - target)
    grasped = _cage(q, obj, obj_radius=0.025, pad_success_thresh=0.05, object_reach_radius=0.01,
                    xz_thresh=0.005, desired_gripper_effort=0.8, high_density=True)
    in_place = _lt(d, 0.0, 0.05, norm(o0 - target))
    grasp_success = (q["tcp_opened"] > 0.5) & (obj[0] - o0[0] > 0.015)
    reward = jnp.where(grasp_success & (tcp_to_obj < 0.035), 1.0 + 2.0 * grasped + 5.0 * in_place, 2.0 * grasped)
    reward = jnp.where(d <= 0.05, 10.0, reward)
    return _f(reward), d <= 0.07, _info(tcp_to_obj <= 0.03, grasp_success, grasped, in_place, d, reward, in_place)


def _shelf_place(q):
    """obj_pos: body ``obj``; target: the shelf's goal site. The reward uses the unmodified in-place term; the
    lift bonus and ``info`` use it after the under-the-shelf penalty (Meta-World's order)."""
    obj, o0, target = q["obj_pos"], q["obj_init_pos"], q["target_pos"]
    d = norm(obj - target)
    tcp_to_obj = norm(obj - q["tcp_center"])
    in_place = _lt(d, 0.0, 0.05, norm(o0 - target))
    grasped = _cage(q, obj, obj_radius=0.02, pad_success_thresh=0.05, object_reach_radius=0.01, xz_thresh=0.01)
    reward = hamacher_product(grasped, in_place)
    low = (obj[2] > 0.0) & (obj[2] < 0.24) & (target[0] - 0.15 < obj[0]) & (obj[0] < target[0] + 0.15)
    front = low & (target[1] - 0.15 < obj[1]) & (obj[1] < target[1])
    loss = hamacher_product((obj[1] - (target[1] - 0.15)) / 0.15, (0.24 - obj[2]) / 0.24)
    in_place = jnp.where(front, jnp.clip(in_place - loss, 0.0, 1.0), in_place)
    in_place = jnp.where(low & (obj[1] > target[1]), 0.0, in_place)
    lifted = (tcp_to_obj < 0.025) & (q["tcp_opened"] > 0) & (obj[2] - 0.01 > o0[2])
    reward = jnp.where(lifted, reward + 1.0 + 5.0 * in_place, reward)
    reward = jnp.where(d < 0.05, 10.0, reward)
    info = _info(tcp_to_obj <= 0.03, touch_grasp(q, obj, 0.02), grasped, in_place, d, reward, in_place)
    return _f(reward), d <= 0.07, info


def _push_wall(q):
    """obj_pos: geom ``objGeom`` centre; the path bends through ``(-0.05, 0.77, obj_z)`` around the wall."""
    obj, o0, target = q["obj_pos"], q["obj_init_pos"], q["target_pos"]
    mid = jnp.stack([jnp.asarray(-0.05, obj.dtype), jnp.asarray(0.77, obj.dtype), obj[2]])
    scale = jnp.array([3.0, 1.0, 1.0])
    part1 = _lt(norm((obj - mid) * scale), 0.0, 0.05, norm((o0 - mid) * scale))
    d = norm(obj - target)
    part2 = _lt(d, 0.0, 0.05, norm(o0 - target))
    grasped = _cage(q, obj, obj_radius=0.015, pad_success_thresh=0.05, object_reach_radius=0.01,
                    xz_thresh=0.005, high_density=True)
    tcp_to_obj = norm(obj - q["tcp_center"])
    near = (tcp_to_obj < 0.02) & (q["tcp_opened"] > 0)
    reward = 2.0 * grasped
    beyond = jnp.where(obj[1] > 0.75, reward + 5.0 + 3.0 * part2, reward + 1.0 + 4.0 * part1)
    reward = jnp.where(near, beyond, reward)
    reward = jnp.where(d < 0.05, 10.0, reward)
    info = _info(tcp_to_obj <= 0.03, touch_grasp(q, obj, 0.02), grasped, part2, d, reward, part2)
    return _f(reward), d <= 0.07, info


REWARD_FNS_GRASP = {
    "basketball": _basketball,
    "bin-picking": _bin_picking,
    "coffee-pull": _coffee_mug,
    "coffee-push": _coffee_mug,
    "hand-insert": _hand_insert,
    "handle-pull-side": _handle_pull_side,
    "handle-pull": _handle_pull,
    "pick-place-wall": _pick_place_wall,
    "pick-out-of-hole": _pick_out_of_hole,
    "peg-unplug-side": _peg_unplug_side,
    "shelf-place": _shelf_place,
    "push-wall": _push_wall,
}
