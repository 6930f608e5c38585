"""Scripted policies of the MT50 articulated-object tasks outside MT10 (buttons, doors, faucets, handles, dial,
lever), in JAX (our own code).

The logic follows Meta-World's stateless scripted policies (Yu et al., 2019, arXiv 1910.10897), as listed in
``docs/metaworld_policies.md``; conventions in ``policies_common``. Each function maps ``obs [39]`` to
``(action [4], branch [])``; branch = index of the waypoint taken in the task's cascade.
"""

from __future__ import annotations

import jax.numpy as jnp

from envs_bridge.metaworld.policies_common import Waypointed, act, cascade, dxy, parts, vec

__all__ = ["WAYPOINTS_ARTICULATED"]


def _button_press_topdown_wall(o):
    hand, _, button_obs, _ = parts(o)
    button = button_obs + vec(0, -0.06, 0)
    tgt, b = cascade([dxy(hand, button) > 0.04], [button + vec(0, 0, 0.1), button])
    return act(hand, tgt, 25.0, -1.0), b


def _isclose(a, b, atol):
    """numpy's ``isclose`` with its default ``rtol = 1e-5``: ``|a - b| <= atol + rtol * |b|``."""
    return jnp.abs(a - b) <= atol + 1e-5 * jnp.abs(b)


def _button_press(o):
    hand, _, button_obs, _ = parts(o)
    button = button_obs + vec(0, 0, -0.07)
    aligned = _isclose(hand[0], button[0], 0.02) & _isclose(hand[2], button[2], 0.02)
    tgt, b = cascade([~aligned], [vec(button[0], hand[1] - 0.1, button[2]), button + vec(0, 0.02, 0)])
    return act(hand, tgt, 25.0, 0.0), b


def _button_press_wall(o):
    hand, _, button_obs, _ = parts(o)
    button = button_obs + vec(0, 0, 0.04)
    conds = [jnp.abs(hand[0] - button[0]) > 0.02, button[1] - hand[1] > 0.09, jnp.abs(hand[2] - button[2]) > 0.02]
    tgt, b = cascade(conds, [vec(button[0], hand[1], 0.3), vec(button[0], button[1], 0.3),
                             button + vec(0, -0.05, 0), button + vec(0, -0.02, 0)])
    return act(hand, tgt, 15.0, jnp.where(conds[0] | conds[1] | conds[2], 1.0, -1.0)), b


def _coffee_button(o):
    hand, _, button_obs, _ = parts(o)
    button = button_obs + vec(0, 0, -0.07)
    tgt, b = cascade([jnp.linalg.norm(hand[::2] - button[::2]) > 0.02],
                     [vec(button[0], hand[1], button[2]), button + vec(0, 0.2, 0)])
    return act(hand, tgt, 10.0, -1.0), b


def _dial_turn(o):
    hand, _, dial_obs, _ = parts(o)
    dial = dial_obs + vec(0.05, 0.02, 0.09)
    tgt, b = cascade([dxy(hand, dial) > 0.02, jnp.abs(hand[2] - dial[2]) > 0.02],
                     [vec(dial[0], dial[1], 0.2), dial, dial + vec(-0.05, 0.005, 0)])
    return act(hand, tgt, 10.0, 1.0), b


def _door_close(o):
    hand, _, door_obs, goal = parts(o)
    door = door_obs + vec(0.05, 0.12, 0.1)
    behind = hand[0] > door[0]
    tgt, b = cascade(
        [behind & (hand[2] < door[2] + 0.2), behind, jnp.abs(hand[2] - door[2]) > 0.04],
        [vec(hand[0], hand[1], door[2] + 0.25), vec(door[0] - 0.02, door[1], hand[2]), door + vec(-0.02, 0, 0),
         goal])
    return act(hand, tgt, 25.0, 1.0), b


def _door_lock(o):
    hand, _, lock_obs, _ = parts(o)
    lock = lock_obs + vec(-0.02, -0.02, 0)
    far = dxy(hand, lock) > 0.02
    tgt, b = cascade(
        [far & (hand[2] < 0.25), far, jnp.abs(hand[2] - lock[2]) > 0.02],
        [hand + vec(0, -0.1, 0.1), lock + vec(0, 0, 0.3), lock, lock + vec(-0.1, 0, -0.1)])
    return act(hand, tgt, 25.0, -1.0), b


def _door_unlock(o):
    hand, _, lock_obs, _ = parts(o)
    lock = lock_obs + vec(-0.04, -0.02, -0.03)
    far = dxy(hand, lock) > 0.02
    tgt, b = cascade([far & (hand[2] > 0.15), far],
                     [hand + vec(0, -0.1, -0.1), lock, lock + vec(0.1, 0, 0.01)])
    return act(hand, tgt, 25.0, 1.0), b


def _faucet(dx, push_x):
    """faucet-open (grip point 4 cm to the -x side, then push +x) and faucet-close (+x side, push -x)."""
    def policy(o):
        hand, _, faucet_obs, _ = parts(o)
        faucet = faucet_obs + vec(dx, 0, 0.03)
        tgt, b = cascade([dxy(hand, faucet) > 0.04, jnp.abs(hand[2] - faucet[2]) > 0.04],
                         [faucet + vec(0, 0, 0.1), faucet, faucet + vec(push_x, 0.05, 0)])
        return act(hand, tgt, 25.0, 1.0), b

    return policy


def _handle_press(dy, grab):
    """handle-press-side (the handle point itself, grab 1) and handle-press (2 cm towards the robot, grab -1)."""
    def policy(o):
        hand, _, handle_obs, _ = parts(o)
        handle = handle_obs + vec(0, dy, 0)
        tgt, b = cascade([dxy(hand, handle) > 0.02], [handle + vec(0, 0, 0.2), handle + vec(0, 0, -0.5)])
        return act(hand, tgt, 25.0, grab), b

    return policy


def _handle_pull_side(o):
    hand, _, handle, _ = parts(o)
    tgt, b = cascade([dxy(hand, handle) > 0.04, jnp.abs(hand[2] - handle[2]) > 0.03],
                     [handle + vec(0, 0, 0.1), handle, handle + vec(0, 0, 1.0)])
    far = (dxy(hand, handle) > 0.04) | (jnp.abs(hand[2] - handle[2]) > 0.04)
    return act(hand, tgt, 25.0, jnp.where(far, 0.0, 0.6)), b


def _handle_pull(o):
    hand, _, handle_obs, _ = parts(o)
    handle = handle_obs + vec(0, -0.04, 0)
    # Meta-World's second waypoint is the scalar handle height, broadcast against the hand: all three action
    # components are gain * (handle_z - hand_i).
    tgt, b = cascade([dxy(hand, handle) > 0.02, jnp.abs(hand[2] - handle[2]) > 0.02],
                     [handle, jnp.full(3, handle[2]), handle + vec(0, 0, 0.1)])
    return act(hand, tgt, 25.0, 1.0), b


def _lever_pull(o):
    hand, _, lever_obs, _ = parts(o)
    lever = lever_obs + vec(0, -0.055, 0)
    tgt, b = cascade([dxy(hand, lever) > 0.02, jnp.abs(hand[2] - lever[2]) > 0.02],
                     [lever + vec(0, 0, -0.1), lever, lever + vec(0, 0.08, 0.02)])
    return act(hand, tgt, 25.0, 1.0), b


WAYPOINTS_ARTICULATED: dict[str, Waypointed] = {
    "button-press-topdown-wall": _button_press_topdown_wall,
    "button-press": _button_press,
    "button-press-wall": _button_press_wall,
    "coffee-button": _coffee_button,
    "dial-turn": _dial_turn,
    "door-close": _door_close,
    "door-lock": _door_lock,
    "door-unlock": _door_unlock,
    "faucet-open": _faucet(-0.04, 0.1),
    "faucet-close": _faucet(0.04, -0.1),
    "handle-press-side": _handle_press(0.0, 1.0),
    "handle-press": _handle_press(-0.02, -1.0),
    "handle-pull-side": _handle_pull_side,
    "handle-pull": _handle_pull,
    "lever-pull": _lever_pull,
}
