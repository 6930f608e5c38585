"""Exact JAX re-implementations of Meta-World's reward utilities (``metaworld/utils/reward_utils.py``).

Meta-World (Yu et al., 2019, "Meta-World: A Benchmark and Evaluation for Multi-Task and Meta Reinforcement
Learning", arXiv 1910.10897) shapes its "v2" rewards with the ``tolerance`` function of the DeepMind Control
Suite (Tassa et al., 2018, arXiv 1801.00690), the Hamacher product t-norm and a gripper-caging term. These are
the same formulas (Meta-World 3.1.1's ``reward_utils.py`` and ``SawyerXYZEnv._gripper_caging_reward``) written
with ``jnp.where`` so they are jittable and vmappable; every function is unbatched (scalars / 3-vectors) and
keeps the dtype of its inputs.

Differences from the numpy originals, all outside the domain Meta-World ever reaches:
  * Meta-World raises on ``lower > upper``, on a negative margin and on Hamacher inputs outside [0, 1]; a traced
    function cannot raise, so a negative margin behaves like its absolute value (both sigmoids used are even in
    the scaled distance) and Hamacher inputs are not checked.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

__all__ = [
    "SIGMOIDS",
    "gripper_caging_reward",
    "hamacher_product",
    "norm",
    "rect_prism_tolerance",
    "sigmoid",
    "tolerance",
    "touch_grasp",
]

SIGMOIDS = (
    "gaussian",
    "hyperbolic",
    "long_tail",
    "reciprocal",
    "cosine",
    "linear",
    "quadratic",
    "tanh_squared",
)


def sigmoid(x, value_at_1: float, kind: str):
    """Meta-World's ``_sigmoids``: a bump with value 1 at ``x = 0`` and ``value_at_1`` at ``|x| = 1``.

    Args:
      x: scaled distance (any shape).
      value_at_1: value at ``|x| = 1``, in (0, 1) (``[0, 1)`` for the compact-support kinds).
      kind: one of ``SIGMOIDS``.

    Returns:
      Array like ``x``.
    """
    if kind not in SIGMOIDS:
        raise ValueError(f"Unknown sigmoid {kind!r}; valid choices: {', '.join(SIGMOIDS)}")
    v = float(value_at_1)
    if kind in ("cosine", "linear", "quadratic"):
        if not 0.0 <= v < 1.0:
            raise ValueError(f"value_at_1 must be in [0, 1) for {kind}, got {v}")
    elif not 0.0 < v < 1.0:
        raise ValueError(f"value_at_1 must be in (0, 1) for {kind}, got {v}")
    x = jnp.asarray(x)
    if kind == "gaussian":
        scale = math.sqrt(-2.0 * math.log(v))
        return jnp.exp(-0.5 * (x * scale) ** 2)
    if kind == "hyperbolic":
        scale = math.acosh(1.0 / v)
        return 1.0 / jnp.cosh(x * scale)
    if kind == "long_tail":
        scale = math.sqrt(1.0 / v - 1.0)
        return 1.0 / ((x * scale) ** 2 + 1.0)
    if kind == "reciprocal":
        scale = 1.0 / v - 1.0
        return 1.0 / (jnp.abs(x) * scale + 1.0)
    if kind == "cosine":
        scale = math.acos(2.0 * v - 1.0) / math.pi
        sx = x * scale
        return jnp.where(jnp.abs(sx) < 1.0, (1.0 + jnp.cos(math.pi * sx)) / 2.0, 0.0)
    if kind == "linear":
        scale = 1.0 - v
        sx = x * scale
        return jnp.where(jnp.abs(sx) < 1.0, 1.0 - sx, 0.0)
    if kind == "quadratic":
        scale = math.sqrt(1.0 - v)
        sx = x * scale
        return jnp.where(jnp.abs(sx) < 1.0, 1.0 - sx**2, 0.0)
    scale = math.atanh(math.sqrt(1.0 - v))  # tanh_squared
    return 1.0 - jnp.tanh(x * scale) ** 2


def tolerance(x, bounds=(0.0, 0.0), margin=0.0, sigmoid_kind: str = "gaussian", value_at_margin: float = 0.1):
    """1 inside ``[lower, upper]``, decaying outside through ``sigmoid_kind`` over ``margin``.

    ``margin`` may be traced; where it equals 0 the result is the indicator of the bounds (Meta-World's
    ``margin == 0`` branch). Otherwise ``d = distance-to-nearer-bound / margin`` and the value is
    ``sigmoid(d, value_at_margin, sigmoid_kind)``.

    Args:
      x: value (scalar or any shape).
      bounds: ``(lower, upper)``, scalars or arrays broadcastable with ``x``.
      margin: scale of the decay (>= 0 in every Meta-World call).
      sigmoid_kind: one of ``SIGMOIDS``; Meta-World's v2 rewards use ``"long_tail"`` and ``"gaussian"``.
      value_at_margin: value at distance ``margin`` outside the bounds (0.1 in all v2 rewards).

    Returns:
      Array of the broadcast shape of ``x``, ``bounds`` and ``margin``.
    """
    lower, upper = bounds
    x = jnp.asarray(x)
    margin = jnp.asarray(margin)
    in_bounds = (lower <= x) & (x <= upper)
    dist = jnp.where(x < lower, lower - x, x - upper)
    zero_margin = margin == 0
    safe_margin = jnp.where(zero_margin, 1.0, margin)
    soft = sigmoid(dist / safe_margin, value_at_margin, sigmoid_kind)
    outside = jnp.where(zero_margin, 0.0, soft)
    return jnp.where(in_bounds, 1.0, outside).astype(x.dtype)


def hamacher_product(a, b):
    """Hamacher t-norm ``a*b / (a + b - a*b)``, 0 where the denominator is not positive (inputs in [0, 1])."""
    a = jnp.asarray(a)
    b = jnp.asarray(b)
    den = a + b - a * b
    pos = den > 0
    return jnp.where(pos, a * b / jnp.where(pos, den, 1.0), 0.0)


def rect_prism_tolerance(curr, zero, one):
    """Meta-World's box penalty: ``prod_i (curr_i - zero_i) / (one_i - zero_i)`` inside the box, else 1.

    Args:
      curr: ``[3]`` point.
      zero: ``[3]`` corner where the value is 0.
      one: ``[3]`` opposite corner; each coordinate of ``curr`` must lie between ``zero_i`` and ``one_i``
        (either order, inclusive) for the point to count as inside.

    Returns:
      Scalar.
    """
    curr, zero, one = jnp.asarray(curr), jnp.asarray(zero), jnp.asarray(one)
    lo = jnp.minimum(zero, one)
    hi = jnp.maximum(zero, one)
    inside = jnp.all((lo <= curr) & (curr <= hi))
    diff = one - zero
    safe = jnp.where(diff == 0, 1.0, diff)
    return jnp.where(inside, jnp.prod((curr - zero) / safe), 1.0)


def gripper_caging_reward(
    action,
    obj_pos,
    tcp_center,
    left_pad,
    right_pad,
    obj_init_pos,
    init_tcp,
    *,
    obj_radius: float,
    pad_success_thresh: float,
    object_reach_radius: float,
    xz_thresh: float,
    desired_gripper_effort: float = 1.0,
    high_density: bool = False,
    medium_density: bool = False,
):
    """Base-class ``SawyerXYZEnv._gripper_caging_reward`` (uses the *current* pads and the episode-start o0, tcp0).

    Args:
      action: ``[4]`` action (only ``action[3]`` is used).
      obj_pos: ``[3]`` object position the caging is measured against.
      tcp_center: ``[3]`` current fingertip midpoint.
      left_pad, right_pad: ``[3]`` current pad body origins (only y is used).
      obj_init_pos: ``[3]`` episode-start object position (``obj_init_pos``).
      init_tcp: ``[3]`` tcp at the end of the reset settle.
      obj_radius, pad_success_thresh, object_reach_radius, xz_thresh: shaping constants of the task.
      desired_gripper_effort: effort at which the gripping term saturates.
      high_density, medium_density: Meta-World's density switches (high takes precedence in the code order:
        high is applied first, then medium on top if both are set, exactly as in Meta-World).

    Returns:
      Scalar in [0, 1].
    """
    obj_pos, obj_init_pos = jnp.asarray(obj_pos), jnp.asarray(obj_init_pos)
    tcp_center, init_tcp = jnp.asarray(tcp_center), jnp.asarray(init_tcp)
    cages = []
    for pad in (left_pad, right_pad):
        pad_y = jnp.asarray(pad)[1]
        to_obj = jnp.abs(pad_y - obj_pos[1])
        to_init = jnp.abs(pad_y - obj_init_pos[1])
        margin = jnp.abs(to_init - pad_success_thresh)
        cages.append(tolerance(to_obj, (obj_radius, pad_success_thresh), margin, "long_tail"))
    caging_y = hamacher_product(cages[0], cages[1])
    xz = jnp.array([0, 2])
    xz_margin = jnp.linalg.norm(obj_init_pos[xz] - init_tcp[xz]) - xz_thresh
    caging_xz = tolerance(
        jnp.linalg.norm(tcp_center[xz] - obj_pos[xz]), (0.0, xz_thresh), xz_margin, "long_tail"
    )
    a3 = jnp.asarray(action)[3]
    gripper_closed = jnp.minimum(jnp.maximum(0.0, a3), desired_gripper_effort) / desired_gripper_effort
    caging = hamacher_product(caging_y, caging_xz)
    gripping = jnp.where(caging > 0.97, gripper_closed, 0.0)
    out = hamacher_product(caging, gripping)
    if high_density:
        out = (out + caging) / 2.0
    if medium_density:
        tcp_to_obj = jnp.linalg.norm(obj_pos - tcp_center)
        init_dist = jnp.linalg.norm(obj_init_pos - init_tcp)
        reach = tolerance(
            tcp_to_obj, (0.0, object_reach_radius), jnp.abs(init_dist - object_reach_radius), "long_tail"
        )
        out = (out + reach) / 2.0
    return out


def touch_grasp(q, obj, lift: float | None):
    """``info["grasp_success"]`` of the grasp and sliding MT50 tasks: gripper open (``tcp_opened > 0``), both pads
    touching the main geom (only if the quantity ``touching_object`` is given) and, unless ``lift`` is None, the
    object ``lift`` above its start."""
    ok = q["tcp_opened"] > 0
    if lift is not None:
        ok = ok & (obj[2] - lift > q["obj_init_pos"][2])
    if "touching_object" in q:
        ok = ok & jnp.asarray(q["touching_object"]).astype(bool)
    return ok


def norm(v):
    """Euclidean norm of a vector (``np.linalg.norm`` in Meta-World's reward code)."""
    return jnp.linalg.norm(v)
