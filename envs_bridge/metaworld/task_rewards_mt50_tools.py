"""MT50 rewards, tool family: wrench (assembly, disassemble), hammer, box lid and stick (stick-push, stick-pull).

Meta-World (Yu et al., 2019, arXiv 1910.10897), metaworld 3.1.1, "v2" rewards of the ``*-v3`` envs, re-implemented
term by term (``compute_reward`` + ``evaluate_state``; task table in ``docs/metaworld_rewards.md``) and checked
step by step against recordings of the real package (``tests/test_metaworld_rewards_mt50.py``). The wrench, hammer
and lid rewards are scaled by an orientation factor ``max(1 - ||obs[7:11] - ideal|| / s, 0)`` on the observed
quaternion (``obj_quat``), and their ``info`` slots follow Meta-World's (near_object = the orientation factor or
the "ready" term, grasp_success = grasp term >= 0.5, obj_to_target = 0). Quantities:
``quantities_mt50.QUANTITIES_MT50`` (see ``rewards.py``).
"""

from __future__ import annotations

import jax.numpy as jnp

from envs_bridge.metaworld.reward_utils import gripper_caging_reward, hamacher_product, norm
from envs_bridge.metaworld.task_rewards import _f, _info, _lt

__all__ = ["REWARD_FNS_TOOLS"]

_LAID_DOWN = (0.707, 0.0, 0.0, 0.707)  # Meta-World's "ideal" (w, x, y, z) of the wrench and the box lid


def _quat_factor(q, ideal, scale: float):
    return jnp.maximum(1.0 - norm(q["obj_quat"] - jnp.array(ideal)) / scale, 0.0)


def _snapped_grab(q, half_length: float, **kw):
    """Base caging on the handle with its x snapped to the hand's when within ``half_length`` (Meta-World's way of
    treating a long handle as a sphere)."""
    obj, hand = q["obj_pos"], q["hand_pos"]
    obj = obj.at[0].set(jnp.where(jnp.abs(obj[0] - hand[0]) < half_length, hand[0], obj[0]))
    return gripper_caging_reward(q["action"], obj, q["tcp_center"], q["left_pad"], q["right_pad"],
                                 q["obj_init_pos"], q["init_tcp"], obj_radius=0.015, pad_success_thresh=0.02,
                                 object_reach_radius=0.01, xz_thresh=0.01, **kw)


def _tool_info(quat, grab, in_place, reward, success):
    return _f(reward), success, _info(quat, grab >= 0.5, grab, in_place, 0.0, reward, in_place)


def _assembly(q):
    """obj_pos: site ``RoundNut-8`` (wrench handle end); obj_init_pos the nut start; target: the peg top.
    The ring centre (``wrench_center``) must be within 2 cm of the peg in xy and below its top; the target height
    is a log funnel around the peg whose throat widens from 1 to 2 cm once that holds."""
    quat = _quat_factor(q, _LAID_DOWN, 0.4)
    grab = _snapped_grab(q, 0.01, medium_density=True)
    centre, target = q["wrench_center"], q["target_pos"]
    err = target - centre
    radius = norm(err[:2])
    success = (radius < 0.02) & (err[2] > 0.0)
    threshold = jnp.where(success, 0.02, 0.01)
    height = jnp.where(radius > threshold, 0.02 * jnp.log(jnp.maximum(radius - threshold, 1e-30)) + 0.2, 0.0)
    err = jnp.stack([err[0], err[1], height - centre[2]]) * jnp.array([1.0, 1.0, 3.0])
    lifted = (centre[2] > 0.02) | (radius < threshold)
    in_place = 0.1 * lifted + 0.9 * _lt(norm(err), 0.0, 0.02, 0.4)
    reward = jnp.where(success, 10.0, (2.0 * grab + 6.0 * in_place) * quat)
    return _tool_info(quat, grab, in_place, reward, success)


def _disassemble(q):
    """obj_pos: site ``RoundNut-8``; target: nut start + (0, 0, 0.15); success once the handle end is above it."""
    quat = _quat_factor(q, _LAID_DOWN, 0.4)
    grab = _snapped_grab(q, 0.01, high_density=True)
    centre = q["wrench_center"]
    in_place = 0.1 * (centre[2] > 0.02) + 0.9 * _lt(
        norm(q["target_pos"] + jnp.array([0.0, 0.0, 0.1]) - centre), 0.0, 0.02, 0.2)
    success = q["obj_pos"][2] > q["target_pos"][2]
    reward = jnp.where(success, 10.0, (2.0 * grab + 6.0 * in_place) * quat)
    return _tool_info(quat, grab, in_place, reward, success)


def _hammer(q):
    """obj_pos: body ``hammer``; its head is obj_pos + (0.16, 0.06, 0); target: site ``goal`` at the nail.
    Success is the nail driven (``nail_qpos`` > 0.09); the reward jumps to 10 only if it also exceeds 5."""
    quat = _quat_factor(q, (1.0, 0.0, 0.0, 0.0), 0.4)
    grab = _snapped_grab(q, 0.07, high_density=True)
    head = q["obj_pos"] + jnp.array([0.16, 0.06, 0.0])
    in_place = 0.1 * (head[2] > 0.02) + 0.9 * _lt(norm(q["target_pos"] - head), 0.0, 0.02, 0.2)
    reward = (2.0 * grab + 6.0 * in_place) * quat
    success = q["nail_qpos"] > 0.09
    reward = jnp.where(success & (reward > 5.0), 10.0, reward)
    return _tool_info(quat, grab, in_place, reward, success)


def _box_close(q):
    """obj_pos: body ``top_link`` (the lid); the handle point is obj_pos + (0, 0, 0.02). The orientation factor
    multiplies the reward *after* the success override (so a tilted lid scores < 10 even on success)."""
    hand, target = q["hand_pos"], q["target_pos"]
    grab = jnp.clip((jnp.clip(q["action"][3], -1.0, 1.0) + 1.0) / 2.0, 0.0, 1.0)
    quat = _quat_factor(q, _LAID_DOWN, 0.2)
    lid = q["obj_pos"] + jnp.array([0.0, 0.0, 0.02])
    radius = norm(hand[:2] - lid[:2])
    floor = jnp.where(radius <= 0.02, 0.0, 0.04 * jnp.log(jnp.maximum(radius - 0.02, 1e-30)) + 0.4)
    above = jnp.where(hand[2] >= floor, 1.0, _lt(floor - hand[2], 0.0, 0.01, floor / 2.0))
    ready = hamacher_product(above, _lt(norm(hand - lid), 0.0, 0.02, 0.5))
    lifted = 0.2 * (lid[2] > 0.04) + 0.8 * _lt(norm((target - lid) * jnp.array([1.0, 1.0, 3.0])), 0.0, 0.05, 0.25)
    success = norm(q["obj_pos"] - target) < 0.08
    reward = jnp.where(success, 10.0, 2.0 * hamacher_product(grab, ready) + 8.0 * lifted) * quat
    return _f(reward), success, _info(ready, grab >= 0.5, grab, lifted, 0.0, reward, lifted)


def _stick_push(q):
    """obj_pos: body ``stick`` (the grasp point is obj_pos + (0.015, 0, 0)); obj2_pos: the container (site
    ``insertion`` + (0, 0.09, 0)); obj_init_pos: body ``object`` (container) at reset. The caging term is the
    task's own copy measured from ``stick_init_pos``. Success needs the contact grasp (``touching_object``)."""
    stick, container, s0 = q["obj_pos"] + jnp.array([0.015, 0.0, 0.0]), q["obj2_pos"], q["stick_init_pos"]
    target, tcp = q["target_pos"], q["tcp_center"]
    tcp_to_stick = norm(stick - tcp)
    stick_in_place = _lt(norm(stick - target), 0.0, 0.12, norm(s0 - target) - 0.12)
    to_target = norm(container - target)
    container_in_place = _lt(to_target, 0.0, 0.12, norm(q["obj_init_pos"] - target) - 0.12)
    grasped = gripper_caging_reward(q["action"], stick, tcp, q["left_pad"], q["right_pad"], s0, q["init_tcp"],
                                    obj_radius=0.04, pad_success_thresh=0.05, object_reach_radius=0.01,
                                    xz_thresh=0.01, high_density=True)
    lifted = (tcp_to_stick < 0.02) & (q["tcp_opened"] > 0) & (stick[2] - 0.01 > s0[2])
    grasped = jnp.where(lifted, 1.0, grasped)
    carried = jnp.where(to_target <= 0.12, 10.0, 2.0 + 5.0 * stick_in_place + 3.0 * container_in_place)
    reward = jnp.where(lifted, carried, grasped)
    touching = jnp.asarray(q["touching_object"]).astype(bool)
    grasp_success = touching & (q["tcp_opened"] > 0) & (q["obj_pos"][2] - 0.01 > s0[2])
    info = _info(tcp_to_stick <= 0.03, grasp_success, grasped, stick_in_place, to_target, reward, stick_in_place)
    return _f(reward), grasp_success & (to_target <= 0.12), info


def _stick_pull(q):
    """obj_pos: body ``stick``; obj2_pos: the container handle (site ``insertion``), the container itself 5 cm
    further in x; obj_init_pos: body ``object`` (container) at reset, also the caging term's initial object.
    Success: handle within 0.12 of the target and the stick end (``stick_end_pos``) inserted in the handle."""
    stick, handle, s0, target = q["obj_pos"], q["obj2_pos"], q["stick_init_pos"], q["target_pos"]
    shift = jnp.array([0.05, 0.0, 0.0])
    container, o0 = handle + shift, q["obj_init_pos"]
    scale = jnp.array([1.0, 1.0, 2.0])
    stick_in_place = _lt(norm((stick - container) * scale), 0.0, 0.05, norm((s0 - (o0 + shift)) * scale))
    stick_in_place_2 = _lt(norm(stick - target), 0.0, 0.05, norm(s0 - target))
    container_in_place = _lt(norm(container - target), 0.0, 0.05, norm(o0 - target))
    grasped = gripper_caging_reward(q["action"], stick, q["tcp_center"], q["left_pad"], q["right_pad"], o0,
                                    q["init_tcp"], obj_radius=0.014, pad_success_thresh=0.05,
                                    object_reach_radius=0.01, xz_thresh=0.01, high_density=True)
    tcp_to_stick = norm(stick - q["tcp_center"])
    grasp = (tcp_to_stick < 0.02) & (q["tcp_opened"] > 0) & (stick[2] - 0.01 > s0[2])
    grasped = jnp.where(grasp, 1.0, grasped)
    both = hamacher_product(grasped, stick_in_place)
    end = q["stick_end_pos"]
    inserted = (end[0] >= handle[0]) & (jnp.abs(end[1] - handle[1]) <= 0.04) & (jnp.abs(end[2] - handle[2]) <= 0.06)
    handle_to_target = norm(handle - target)
    in_hole = jnp.where(handle_to_target <= 0.12, 10.0,
                        1.0 + both + 5.0 + 2.0 * stick_in_place_2 + container_in_place)
    reward = jnp.where(grasp, jnp.where(inserted, in_hole, 1.0 + both + 5.0 * stick_in_place), both)
    grasp_success = (q["tcp_opened"] > 0) & (stick[2] - 0.02 > o0[2])
    if "touching_object" in q:
        grasp_success = grasp_success & jnp.asarray(q["touching_object"]).astype(bool)
    success = (handle_to_target <= 0.12) & inserted
    info = _info(tcp_to_stick <= 0.03, grasp_success, grasped, stick_in_place, handle_to_target, reward,
                 stick_in_place)
    return _f(reward), success, info


REWARD_FNS_TOOLS = {
    "assembly": _assembly,
    "disassemble": _disassemble,
    "hammer": _hammer,
    "box-close": _box_close,
    "stick-push": _stick_push,
    "stick-pull": _stick_pull,
}
