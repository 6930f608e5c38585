"""Scripted policies of the MT50 grasp-and-carry tasks outside MT10, in JAX (our own code).

The logic follows Meta-World's stateless scripted policies (Yu et al., 2019, arXiv 1910.10897), as listed in
``docs/metaworld_policies.md``; conventions in ``policies_common``. Each function maps ``obs [39]`` to
``(action [4], branch [])``; branch = index of the waypoint taken in the task's cascade.
"""

from __future__ import annotations

import jax.numpy as jnp

from envs_bridge.metaworld.policies_common import Waypointed, act, cascade, dxy, parts, vec

__all__ = ["WAYPOINTS_GRASP"]


def _assembly(o):
    hand, _, wrench_obs, goal = parts(o)
    wrench, peg = wrench_obs + vec(-0.02, 0, 0), goal + vec(0.12, 0, 0.14)
    far = dxy(hand, wrench) > 0.02
    tgt, b = cascade(
        [far, dxy(hand, peg) <= 0.02, jnp.abs(hand[2] - wrench[2]) > 0.05, jnp.abs(hand[2] - peg[2]) > 0.04],
        [wrench + vec(0, 0, 0.1), peg + vec(0, 0, -0.2), wrench + vec(0, 0, 0.03), vec(hand[0], hand[1], peg[2]),
         peg])
    grab = jnp.where(far | (jnp.abs(hand[2] - wrench[2]) > 0.12), 0.0, 0.6)
    return act(hand, tgt, 10.0, grab), b


def _basketball(o):
    hand, _, ball_obs, goal = parts(o)
    ball, hoop = ball_obs + vec(0, 0, 0.01), vec(goal[0], 0.875, 0.35)
    tgt, b = cascade(
        [dxy(hand, ball) > 0.04, jnp.abs(hand[2] - ball[2]) > 0.025, jnp.abs(ball[2] - hoop[2]) > 0.025],
        [ball + vec(0, 0, 0.3), ball, vec(hand[0], hand[1], hoop[2]), hoop])
    far = (dxy(hand, ball_obs) > 0.04) | (jnp.abs(hand[2] - ball_obs[2]) > 0.15)
    return act(hand, tgt, 25.0, jnp.where(far, -1.0, 0.6)), b


def _bin_picking(o):
    hand, _, cube_obs, _ = parts(o)
    cube = cube_obs + vec(0, 0, 0.03)
    cube = cube.at[1].set(jnp.clip(cube[1], 0.675, 0.725))
    bin_ = vec(0.12, 0.7, 0.02)
    off_bin = dxy(hand, bin_) > 0.02
    tgt, b = cascade(
        [dxy(hand, cube) > 0.02, jnp.abs(hand[2] - cube[2]) > 0.01, off_bin & (hand[2] < 0.15), off_bin],
        [cube + vec(0, 0, 0.15), cube, hand + vec(0, 0, 0.1), vec(0.12, 0.7, 0.18), bin_])
    far = (dxy(hand, cube) > 0.02) | (jnp.abs(hand[2] - cube[2]) > 0.02)
    return act(hand, tgt, 25.0, jnp.where(far, -1.0, 0.6)), b


def _box_close(o):
    hand, _, lid_obs, goal = parts(o)
    lid, box = lid_obs + vec(0, 0, 0.02), vec(goal[0], goal[1], 0.15)
    tgt, b = cascade(
        [dxy(hand, lid) > 0.01, jnp.abs(hand[2] - lid[2]) > 0.05, jnp.abs(hand[2] - box[2]) > 0.04],
        [vec(lid[0], lid[1], 0.2), lid, vec(hand[0], hand[1], box[2]), box])
    far = (dxy(hand, lid) > 0.01) | (jnp.abs(hand[2] - lid[2]) > 0.13)
    return act(hand, tgt, 25.0, jnp.where(far, 0.5, 1.0)), b


def _coffee(reach_dx, hover, final, grab_on):
    """coffee-pull (hover 0.15, the goal) and coffee-push (0.2, the goal's xy at z 0.1); the grab test uses the mug
    point shifted by +0.01 in x in both."""
    def policy(o):
        hand, _, mug_obs, goal = parts(o)
        mug, grip_ref = mug_obs + vec(reach_dx, 0, 0.05), mug_obs + vec(0.01, 0, 0.05)
        tgt, b = cascade([dxy(hand, mug) > 0.06, jnp.abs(hand[2] - mug[2]) > 0.02],
                         [mug + vec(0, 0, hover), mug, final(goal)])
        far = (dxy(hand, grip_ref) > 0.06) | (jnp.abs(hand[2] - grip_ref[2]) > 0.1)
        return act(hand, tgt, 10.0, jnp.where(far, -1.0, grab_on)), b

    return policy


def _disassemble(o):
    hand, _, wrench_obs, _ = parts(o)
    wrench = wrench_obs + vec(-0.02, 0, 0.01)
    far = dxy(hand, wrench) > 0.02
    tgt, b = cascade([far, jnp.abs(hand[2] - wrench[2]) > 0.03],
                     [wrench + vec(0, 0, 0.1), wrench, hand + vec(0, 0, 0.1)])
    grab = jnp.where(far | (jnp.abs(hand[2] - wrench[2]) > 0.07), 0.0, 0.8)
    return act(hand, tgt, 10.0, grab), b


def _hammer(o):
    hand, _, hammer_obs, _ = parts(o)
    handle, nail = hammer_obs + vec(-0.04, 0, -0.01), vec(0.05, 0.71, 0.16)  # (0.24, 0.71, 0.11) + (-0.19, 0, 0.05)
    far = dxy(hand, handle) > 0.04
    tgt, b = cascade(
        [far, (jnp.abs(hand[2] - handle[2]) > 0.05) & (handle[2] < 0.03),
         jnp.linalg.norm(hand[::2] - nail[::2]) > 0.02],
        [handle + vec(0, 0, 0.1), handle + vec(0, 0, 0.03), vec(nail[0], hand[1], nail[2]), nail])
    grab = jnp.where(far | (jnp.abs(hand[2] - handle[2]) > 0.1), 0.0, 0.8)
    return act(hand, tgt, 10.0, grab), b


def _hand_insert(o):
    hand, _, obj, goal = parts(o)
    far = dxy(hand, obj) > 0.02
    tgt, b = cascade(
        [far, jnp.abs(hand[2] - obj[2]) > 0.05, dxy(hand, goal) > 0.04],
        [obj + vec(0, 0, 0.1), obj + vec(0, 0, 0.03), vec(goal[0], goal[1], hand[2]), goal])
    grab = jnp.where(far | (jnp.abs(hand[2] - obj[2]) > 0.1), 0.0, 0.65)
    return act(hand, tgt, 10.0, grab), b


def _pick_place_wall(o):
    hand, _, puck_obs, goal = parts(o)
    puck = puck_obs + vec(-0.005, 0, 0)
    over_wall = (-0.15 <= hand[0]) & (hand[0] <= 0.35) & (0.60 <= hand[1]) & (hand[1] <= 0.80)
    tgt, b = cascade(
        [dxy(hand, puck) > 0.015, (jnp.abs(hand[2] - puck[2]) > 0.04) & (puck[2] < 0.03),
         over_wall & (hand[2] < 0.25), over_wall & (hand[2] < 0.35), jnp.abs(hand[2] - goal[2]) > 0.01],
        [puck + vec(0, 0, 0.1), puck + vec(0, 0, 0.03), hand + vec(0, 0, 1), vec(goal[0], goal[1], hand[2]),
         vec(hand[0], hand[1], goal[2]), goal])
    far = (dxy(hand, puck_obs) > 0.015) | (jnp.abs(hand[2] - puck_obs[2]) > 0.1)
    return act(hand, tgt, 10.0, jnp.where(far, 0.0, 0.9)), b


def _pick_out_of_hole(o):
    hand, _, puck_obs, goal = parts(o)
    puck = puck_obs + vec(0, 0, 0.02)
    far = dxy(hand, puck) > 0.02
    tgt, b = cascade(
        [far, jnp.abs(hand[2] - puck[2]) > 0.01, jnp.abs(hand[2] - goal[2]) > 0.04],
        [puck + vec(0, 0, 0.15), puck, vec(hand[0], hand[1], goal[2]), goal])
    grab = jnp.where(far | (jnp.abs(hand[2] - puck[2]) > 0.15), 0.0, 0.1)
    return act(hand, tgt, 25.0, grab), b


def _peg_unplug_side(o):
    hand, _, peg_obs, _ = parts(o)
    peg = peg_obs + vec(-0.02, 0, 0.035)
    far = dxy(hand, peg) > 0.04
    tgt, b = cascade([far, jnp.abs(hand[2] - 0.15) > 0.02],
                     [peg + vec(0, 0, 0.2), vec(peg[0], peg[1], 0.15), hand + vec(0.01, 0, 0)])
    grab = jnp.where(far | (jnp.abs(hand[2] - peg[2]) > 0.15), -1.0, 0.1)
    return act(hand, tgt, 25.0, grab), b


def _shelf_place(o):
    hand, _, block_obs, goal = parts(o)
    block, shelf_x = block_obs + vec(-0.005, 0, 0.015), goal[0]
    tgt, b = cascade(
        [dxy(hand, block) > 0.04, jnp.abs(hand[2] - block[2]) > 0.04, jnp.abs(hand[0] - shelf_x) > 0.02,
         hand[2] < 0.30],
        [block + vec(0, 0, 0.3), block, vec(shelf_x, hand[1], 0.3), hand + vec(0, 0, 0.30), hand + vec(0, 0.05, 0)])
    far = (dxy(hand, block_obs) > 0.04) | (jnp.abs(hand[2] - block_obs[2]) > 0.15)
    return act(hand, tgt, 25.0, jnp.where(far, -1.0, 0.7)), b


def _stick(stick_dx, thermos_offset, goal_offset, gain):
    """stick-pull and stick-push: grab the stick, line it up with the thermos (obs[11:14]) in y, then z, touch it,
    then head for the goal once the stick's x is within 4 cm of the thermos'."""
    def policy(o):
        hand, _, stick_obs, goal_obs = parts(o)
        stick = stick_obs + vec(stick_dx, 0, 0.03)
        thermos, goal = o[11:14] + vec(*thermos_offset), goal_obs + vec(*goal_offset)
        apart = jnp.abs(stick[0] - thermos[0]) > 0.04
        tgt, b = cascade(
            [apart & (dxy(hand, stick) > 0.02), apart & (jnp.abs(hand[2] - stick[2]) > 0.02),
             apart & (jnp.abs(stick[1] - thermos[1]) > 0.02), apart & (jnp.abs(stick[2] - thermos[2]) > 0.02),
             apart],
            [stick + vec(0, 0, 0.1), stick, vec(stick[0], thermos[1], stick[2]),
             vec(stick[0], thermos[1], thermos[2]), thermos, goal])
        far = (dxy(hand, stick) > 0.02) | (jnp.abs(hand[2] - stick[2]) > 0.1)
        return act(hand, tgt, gain, jnp.where(far, -1.0, 0.7)), b

    return policy


WAYPOINTS_GRASP: dict[str, Waypointed] = {
    "assembly": _assembly,
    "basketball": _basketball,
    "bin-picking": _bin_picking,
    "box-close": _box_close,
    "coffee-pull": _coffee(-0.005, 0.15, lambda goal: goal, 0.7),
    "coffee-push": _coffee(0.01, 0.2, lambda goal: vec(goal[0], goal[1], 0.1), 0.5),
    "disassemble": _disassemble,
    "hammer": _hammer,
    "hand-insert": _hand_insert,
    "pick-place-wall": _pick_place_wall,
    "pick-out-of-hole": _pick_out_of_hole,
    "peg-unplug-side": _peg_unplug_side,
    "shelf-place": _shelf_place,
    "stick-push": _stick(0.015, (0, 0, 0), (0, 0, 0.132), 10.0),
    "stick-pull": _stick(-0.015, (-0.015, 0, 0.03), (-0.05, 0, 0), 25.0),
}
