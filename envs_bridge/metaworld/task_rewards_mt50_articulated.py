"""MT50 rewards, articulated-fixture family: buttons, doors, faucets, handle presses, dial and lever.

Meta-World (Yu et al., 2019, arXiv 1910.10897), metaworld 3.1.1, "v2" rewards of the ``*-v3`` envs:
button-press-topdown-wall, button-press, button-press-wall, coffee-button, door-close, door-lock, door-unlock,
faucet-open, faucet-close, handle-press-side, handle-press, dial-turn and lever-pull, re-implemented term by term
(``compute_reward`` + ``evaluate_state``; task table in ``docs/metaworld_rewards.md``) and checked step by step
against recordings of the real package (``tests/test_metaworld_rewards_mt50.py``). Nothing is grasped: the reach
terms are tolerances on a tcp (or pad / "shoulder") distance, the progress terms tolerances on the fixture's
displacement. Quantities: ``quantities_mt50.QUANTITIES_MT50`` (see ``rewards.py``).
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from envs_bridge.metaworld.reward_utils import hamacher_product, norm
from envs_bridge.metaworld.reward_utils import tolerance as _tol
from envs_bridge.metaworld.task_rewards import BUTTON_OBJ_TO_TARGET_INIT, _f, _info, _lt

__all__ = ["BUTTON_Y_OBJ_TO_TARGET_INIT", "REWARD_FNS_ARTICULATED"]

# button-press / button-press-wall ``_obj_to_target_init`` = |hole_y - buttonStart_y| at reset, the same in every
# variation (the box moves rigidly); button-press-topdown-wall's (z) equals MT10's BUTTON_OBJ_TO_TARGET_INIT.
BUTTON_Y_OBJ_TO_TARGET_INIT = 0.09350000000000003
_SHOULDER = (0.0, 0.055, 0.07)  # door-unlock / lever-pull: hand + this = the point that pushes


def _gauss(x, lo, hi, margin):
    return _tol(x, (lo, hi), margin, "gaussian")


def _button(q, axis: int, near_radius: float, margin: float):
    """Common button terms: distances, the near term (margin = ||button - tcp0||, the *current* button) and the
    press term on ``|target_axis - button_axis|``."""
    obj, tcp = q["obj_pos"], q["tcp_center"]
    tcp_to_obj = norm(obj - tcp)
    near = _lt(tcp_to_obj, 0.0, near_radius, norm(obj - q["init_tcp"]))
    ott = jnp.abs(q["target_pos"][axis] - obj[axis])
    pressed = _lt(ott, 0.0, 0.005, margin)
    return tcp_to_obj, near, ott, pressed


def _button_info(q, tcp_to_obj, near, ott, pressed, reward):
    return _info(tcp_to_obj <= 0.05, q["tcp_opened"] > 0, near, pressed, ott, reward, pressed)


def _button_press_topdown_wall(q):
    """obj_pos: body ``button`` + (0, 0, 0.193) (cap top); as MT10's button-press-topdown except that the gripper
    factor is ``max(obs3, 0)`` (open rewarded) instead of ``1 - obs3``."""
    tcp_to_obj, near, ott, pressed = _button(q, 2, 0.01, BUTTON_OBJ_TO_TARGET_INIT)
    reward = 5.0 * hamacher_product(jnp.maximum(q["tcp_opened"], 0.0), near)
    reward = jnp.where(tcp_to_obj <= 0.03, reward + 5.0 * pressed, reward)
    return _f(reward), ott <= 0.024, _button_info(q, tcp_to_obj, near, ott, pressed, reward)


def _button_press(q):
    """obj_pos: body ``button`` + (0, -0.193, 0) (the cap, facing -y); target: site ``hole``."""
    tcp_to_obj, near, ott, pressed = _button(q, 1, 0.05, BUTTON_Y_OBJ_TO_TARGET_INIT)
    reward = 2.0 * hamacher_product(jnp.maximum(q["tcp_opened"], 0.0), near)
    reward = jnp.where(tcp_to_obj <= 0.05, reward + 8.0 * pressed, reward)
    return _f(reward), ott <= 0.02, _button_info(q, tcp_to_obj, near, ott, pressed, reward)


def _button_press_wall(q):
    """As button-press with a 1 cm near radius; close to the button (<= 0.07) the reward is a flat
    ``2 + 2 (1 + obs3) + 4 pressed^2``, farther ``2 H((1 - obs3) / 2, near)``."""
    tcp_to_obj, near, ott, pressed = _button(q, 1, 0.01, BUTTON_Y_OBJ_TO_TARGET_INIT)
    far = 2.0 * hamacher_product((1.0 - q["tcp_opened"]) / 2.0, near)
    close = 2.0 + 2.0 * (1.0 + q["tcp_opened"]) + 4.0 * pressed**2
    reward = jnp.where(tcp_to_obj > 0.07, far, close)
    return _f(reward), ott <= 0.03, _button_info(q, tcp_to_obj, near, ott, pressed, reward)


def _coffee_button(q):
    """obj_pos: site ``buttonStart``; target: machine + (0, -0.19, 0.3); press margin ``max_dist`` = 0.03."""
    tcp_to_obj, near, ott, pressed = _button(q, 1, 0.05, 0.03)
    reward = 2.0 * hamacher_product(jnp.maximum(q["tcp_opened"], 0.0), near)
    reward = jnp.where(tcp_to_obj <= 0.05, reward + 8.0 * pressed, reward)
    return _f(reward), ott <= 0.02, _button_info(q, tcp_to_obj, near, ott, pressed, reward)


def _door_close(q):
    """obj_pos: centre of geom ``handle``; obj_init_pos: the door anchor (rand_vec); hand_init_pos (-0.5, 0.6, 0.2).

    Quirk kept: ``info["in_place_reward"]`` is the *hand* term (Meta-World returns it in that slot), so
    ``progress`` is the door term here.
    """
    obj, target = q["obj_pos"], q["target_pos"]
    d = norm(obj - target)
    in_place = _gauss(d, 0.0, 0.05, norm(q["obj_init_pos"] - target))
    hand = _gauss(norm(q["tcp_center"] - target), 0.0, 0.0125, norm(q["hand_init_pos"] - obj) + 0.1)
    reward = jnp.where(d < 0.05, 10.0, 3.0 * hand + 6.0 * in_place)
    return _f(reward), d <= 0.08, _info(0.0, 1.0, 1.0, hand, d, reward, in_place)


def _door_lock(q):
    """obj_pos: site ``lockStartLock``. The left pad stands in for the tcp; its "initial" position is a live view
    (quirk), so the near margin is the current scaled distance itself."""
    obj = q["obj_pos"]
    x = norm((obj - q["left_pad"]) * jnp.array([0.25, 1.0, 0.5]))
    near = _lt(x, 0.0, 0.01, x)
    ott = jnp.abs(q["target_pos"][2] - obj[2])
    pressed = _lt(ott, 0.0, 0.005, 0.1)
    reward = 2.0 * hamacher_product(jnp.maximum(q["tcp_opened"], 0.0), near) + 8.0 * pressed
    return _f(reward), ott <= 0.02, _info(x <= 0.05, q["tcp_opened"] > 0, near, pressed, ott, reward, pressed)


def _door_unlock(q):
    """obj_pos: site ``lockStartUnlock``; obj_init_pos: body ``lock_link`` origin (constant); the pushing point is
    the hand + (0, 0.055, 0.07), its start ``init_tcp`` + the same offset (Meta-World mixes hand and tcp)."""
    obj, off = q["obj_pos"], jnp.array(_SHOULDER)
    scale = jnp.array([0.25, 1.0, 0.5])
    shoulder = norm((q["hand_pos"] + off - obj) * scale)
    ready = _lt(shoulder, 0.0, 0.02, norm((q["init_tcp"] + off - q["obj_init_pos"]) * scale))
    ott = jnp.abs(q["target_pos"][0] - obj[0])
    pushed = _lt(ott, 0.0, 0.005, 0.1)
    reward = 2.0 * ready + 8.0 * pushed
    info = _info(shoulder <= 0.05, q["tcp_opened"] > 0, ready, pushed, ott, reward, pushed)
    return _f(reward), ott <= 0.02, info


def _faucet(q, shift):
    """faucet-open/-close: obj_pos site ``handleStart{Open,Close}`` + (0, 0, -0.01), shifted by ``shift`` (open
    only); obj_init_pos: the faucet base (rand_vec)."""
    obj, tcp, target, o0 = q["obj_pos"] + jnp.array(shift), q["tcp_center"], q["target_pos"], q["obj_init_pos"]
    d = norm(obj - target)
    in_place = _lt(d, 0.0, 0.07, jnp.abs(norm(o0 - target) - 0.07))
    tcp_to_obj = norm(obj - tcp)
    reach = _gauss(tcp_to_obj, 0.0, 0.01, jnp.abs(norm(o0 - q["init_tcp"]) - 0.01))
    reward = jnp.where(d <= 0.07, 10.0, 2.0 * (2.0 * reach + 3.0 * in_place))
    return _f(reward), d <= 0.07, _info(tcp_to_obj <= 0.01, 1.0, reach, in_place, d, reward, in_place)


def _faucet_open(q):
    return _faucet(q, (-0.04, 0.0, 0.03))


def _faucet_close(q):
    return _faucet(q, (0.0, 0.0, 0.0))


def _handle_press(q):
    """handle-press and handle-press-side: obj_pos site ``handleStart``, handle_init_pos that site at reset."""
    obj, tcp, target, h0 = q["obj_pos"], q["tcp_center"], q["target_pos"], q["handle_init_pos"]
    d = jnp.abs(obj[2] - target[2])
    in_place = _lt(d, 0.0, 0.02, jnp.abs(jnp.abs(h0[2] - target[2]) - 0.02))
    tcp_to_obj = norm(obj - tcp)
    reach = _lt(tcp_to_obj, 0.0, 0.02, jnp.abs(norm(h0 - q["init_tcp"]) - 0.02))
    reward = 10.0 * jnp.where(d <= 0.02, 1.0, hamacher_product(reach, in_place))
    return _f(reward), d <= 0.02, _info(tcp_to_obj <= 0.05, 1.0, reach, in_place, d, reward, in_place)


def _dial_turn(q):
    """obj_pos: dial centre + 0.05 (sin θ, -cos θ, 0); the hand aims at obj_pos + (0.05, 0.02, 0.09), whose
    reset value is ``dial_push_init``; the reach term is gated by the gripper effort ``clip(a3, 0, 1)``."""
    obj, target, push0 = q["obj_pos"], q["target_pos"], q["dial_push_init"]
    push = obj + jnp.array([0.05, 0.02, 0.09])
    d = norm(obj - target)
    in_place = _lt(d, 0.0, 0.07, jnp.abs(norm(push0 - target) - 0.07))
    tcp_to_obj = norm(push - q["tcp_center"])
    reach = _gauss(tcp_to_obj, 0.0, 0.005, jnp.abs(norm(push0 - q["init_tcp"]) - 0.005))
    reach = hamacher_product(reach, jnp.clip(q["action"][3], 0.0, 1.0))
    reward = 10.0 * hamacher_product(reach, in_place)
    return _f(reward), d <= 0.07, _info(tcp_to_obj <= 0.01, 1.0, reach, in_place, d, reward, in_place)


def _lever_pull(q):
    """obj_pos: site ``leverStart``; obj_init_pos: the lever body (rand_vec); success on the joint angle
    ``-lever_qpos`` within pi/24 of pi/2. ``info["obj_to_target"]`` is the scaled shoulder distance (Meta-World's
    slot order) and ``in_place_reward`` the angle term."""
    obj, target = q["obj_pos"], q["target_pos"]
    lever0 = q["obj_init_pos"] + jnp.array([0.12, -0.2, 0.25])
    off, scale = jnp.array(_SHOULDER), jnp.array([4.0, 1.0, 4.0])
    shoulder = norm((q["hand_pos"] + off - obj) * scale)
    ready = _lt(shoulder, 0.0, 0.02, norm((q["init_tcp"] + off - lever0) * scale))
    error = jnp.abs(-q["lever_qpos"] - math.pi / 2.0)
    engaged = _lt(error, 0.0, math.pi / 48.0, math.pi / 2.0 - math.pi / 12.0)
    in_place = _lt(norm(obj - target), 0.0, 0.04, norm(lever0 - target))
    reward = 10.0 * hamacher_product(ready, in_place)
    info = _info(shoulder < 0.03, ready > 0.9, ready, engaged, shoulder, reward, engaged)
    return _f(reward), error <= math.pi / 24.0, info


REWARD_FNS_ARTICULATED = {
    "button-press-topdown-wall": _button_press_topdown_wall,
    "button-press": _button_press,
    "button-press-wall": _button_press_wall,
    "coffee-button": _coffee_button,
    "door-close": _door_close,
    "door-lock": _door_lock,
    "door-unlock": _door_unlock,
    "faucet-open": _faucet_open,
    "faucet-close": _faucet_close,
    "handle-press-side": _handle_press,
    "handle-press": _handle_press,
    "dial-turn": _dial_turn,
    "lever-pull": _lever_pull,
}
