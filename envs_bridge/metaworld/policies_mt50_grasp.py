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


WAYPOINTS_GRASP: dict[str, Waypointed] = {
    "assembly": _assembly,
    "basketball": _basketball,
    "bin-picking": _bin_picking,
}
