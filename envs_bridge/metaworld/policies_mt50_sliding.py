"""Scripted policies of the MT50 pushing and sliding tasks outside MT10 (plate slides, push-wall, push-back,
reach-wall, soccer, sweep, sweep-into), in JAX (our own code).

The logic follows Meta-World's stateless scripted policies (Yu et al., 2019, arXiv 1910.10897), as listed in
``docs/metaworld_policies.md``; conventions in ``policies_common``. Each function maps ``obs [39]`` to
``(action [4], branch [])``; branch = index of the waypoint taken in the task's cascade.
"""

from __future__ import annotations

import jax.numpy as jnp

from envs_bridge.metaworld.policies_common import Waypointed, act, cascade, dxy, parts, vec

__all__ = ["WAYPOINTS_SLIDING"]


def _plate_slide(o):
    hand, _, puck_obs, goal = parts(o)
    puck = puck_obs + vec(0, -0.055, 0.03)
    tgt, b = cascade([dxy(hand, puck) > 0.03, jnp.abs(hand[2] - puck[2]) > 0.04],
                     [puck + vec(0, 0, 0.1), puck, vec(goal[0], 0.9, puck[2])])
    return act(hand, tgt, 10.0, -1.0), b


def _plate_slide_side(o):
    hand, _, puck_obs, _ = parts(o)
    puck = puck_obs + vec(0.07, 0, -0.005)
    tgt, b = cascade([dxy(hand, puck) > 0.04, jnp.abs(hand[2] - puck[2]) > 0.04, hand[0] > -0.2],
                     [puck + vec(0, 0, 0.1), puck, vec(hand[0] - 0.1, 0.6, hand[2]), puck + vec(-0.1, 0, 0)])
    return act(hand, tgt, 25.0, 1.0), b


def _plate_slide_back(o):
    hand, _, puck_obs, _ = parts(o)
    puck = puck_obs + vec(0, -0.065, 0.025)
    tgt, b = cascade(
        [dxy(hand, puck) > 0.01, jnp.abs(hand[2] - puck[2]) > 0.04, hand[1] > 0.7, hand[1] > 0.6],
        [puck + vec(0, 0, 0.1), puck, hand + vec(0, -0.1, 0), vec(0.15, 0.55, hand[2]),
         vec(hand[0] - 0.1, 0.55, hand[2])])
    return act(hand, tgt, 10.0, -1.0), b


def _plate_slide_back_side(o):
    hand, _, puck_obs, _ = parts(o)
    puck = puck_obs + vec(0.023, 0, 0.025)
    tgt, b = cascade([dxy(hand, puck) > 0.01, jnp.abs(hand[2] - puck[2]) > 0.04],
                     [puck + vec(0, 0, 0.07), puck, vec(hand[0] + 0.1, 0.6, hand[2])])
    return act(hand, tgt, 10.0, 1.0), b


def _push_wall(o):
    hand, _, obj_obs, goal = parts(o)
    obj = obj_obs + vec(-0.005, 0, 0)
    x, y = obj[0], obj[1]
    before_wall = (-0.1 <= x) & (x <= 0.3) & (0.65 <= y) & (y <= 0.75)
    beside_wall = (((-0.15 < x) & (x < 0.05)) | ((0.15 < x) & (x < 0.35))) & (0.695 <= y) & (y <= 0.755)
    tgt, b = cascade(
        [dxy(hand, obj) > 0.02, jnp.abs(hand[2] - obj[2]) > 0.04, before_wall, beside_wall],
        [obj + vec(0, 0, 0.2), obj + vec(0, 0, 0.03), hand + vec(-1, 0, 0), hand + vec(0, 1, 0), goal])
    far = (dxy(hand, obj_obs) > 0.02) | (jnp.abs(hand[2] - obj_obs[2]) > 0.1)
    return act(hand, tgt, 10.0, jnp.where(far, 0.0, 0.6)), b


def _push_back(o):
    hand, _, puck, goal = parts(o)
    tgt, b = cascade([dxy(hand, puck) > 0.04, jnp.abs(hand[2] - puck[2]) > 0.055],
                     [puck + vec(0, 0, 0.3), puck, goal + vec(0, 0, hand[2])])
    far = (dxy(hand, puck) > 0.04) | (jnp.abs(hand[2] - puck[2]) > 0.05)
    return act(hand, tgt, 10.0, jnp.where(far, 0.0, 0.9)), b


def _reach_wall(o):
    hand, _, _, goal = parts(o)
    below_wall_top = (-0.1 <= hand[0]) & (hand[0] <= 0.3) & (0.60 <= hand[1]) & (hand[1] <= 0.80) & (hand[2] < 0.25)
    tgt, b = cascade([below_wall_top], [goal + vec(0, 0, 1.0), goal])
    return act(hand, tgt, 5.0, 0.0), b


def _soccer(o):
    hand, _, ball_obs, goal = parts(o)
    ball = ball_obs + vec(0, 0, 0.03)
    z = jnp.where(dxy(hand, ball) < 0.02, 0.1, 0.03)
    left, right = ball[0] - goal[0] < -0.05, ball[0] - goal[0] > 0.05
    # push from the ball's -x side if it is left of the goal, from its +x side if right, else from behind (-y),
    # at height z; once the hand is within 1 cm of that point, head for the ball
    pushes = [vec(ball[0] - 0.03, ball[1], z), vec(ball[0] + 0.03, ball[1], z), vec(ball[0], ball[1] - 0.03, z)]
    sides = [left, right, ~left & ~right]
    tgt, b = cascade([s & (jnp.linalg.norm(hand - p) > 0.01) for s, p in zip(sides, pushes)], [*pushes, ball])
    return act(hand, tgt, 25.0, 1.0), b


def _sweep_into(o):
    hand, _, cube_obs, goal = parts(o)
    cube = cube_obs + vec(-0.005, 0, 0.01)
    tgt, b = cascade([dxy(hand, cube) > 0.04, jnp.abs(hand[2] - cube[2]) > 0.04],
                     [cube + vec(0, 0, 0.3), cube, goal])
    far = (dxy(hand, cube_obs) > 0.04) | (jnp.abs(hand[2] - cube_obs[2]) > 0.15)
    return act(hand, tgt, 25.0, jnp.where(far, -1.0, 0.7)), b


def _sweep(o):
    hand, _, cube_obs, goal = parts(o)
    cube = cube_obs + vec(0, 0, 0.015)
    short = hand[0] < 0.2  # only while the hand is left of x = 0.2 does it go back for the cube
    tgt, b = cascade([short & (dxy(hand, cube) > 0.04), short & (jnp.abs(hand[2] - cube[2]) > 0.04)],
                     [cube + vec(0, 0, 0.3), cube, goal + vec(0, 0, 0.1)])
    far = (dxy(hand, cube_obs) > 0.04) | (jnp.abs(hand[2] - cube_obs[2]) > 0.15)
    grab = jnp.where(far | (cube_obs[0] >= 0.4), -1.0, 0.7)
    return act(hand, tgt, 25.0, grab), b


WAYPOINTS_SLIDING: dict[str, Waypointed] = {
    "plate-slide": _plate_slide,
    "plate-slide-side": _plate_slide_side,
    "plate-slide-back": _plate_slide_back,
    "plate-slide-back-side": _plate_slide_back_side,
    "soccer": _soccer,
    "push-wall": _push_wall,
    "push-back": _push_back,
    "reach-wall": _reach_wall,
    "sweep-into": _sweep_into,
    "sweep": _sweep,
}
