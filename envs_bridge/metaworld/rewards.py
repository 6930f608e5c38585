"""Meta-World MT50 rewards and success flags in pure JAX ("v2" rewards of the ``*-v3`` envs, metaworld 3.1.1).

Meta-World: Yu et al., 2019, "Meta-World: A Benchmark and Evaluation for Multi-Task and Meta Reinforcement
Learning" (arXiv 1910.10897). This module is the interface: the quantities each task reads, the task-variation
ranges, ``compute_reward`` and the peg-insert-side corner geometry. The ten functions (``task_rewards.py``, built
on the primitives of ``reward_utils.py``) re-implement ``compute_reward`` + ``evaluate_state`` of the MT10
environments term by term and are checked step by step against traces recorded from the real package
(``scripts/record_metaworld_traces.py``, ``tests/test_metaworld_rewards.py``). The other 40 MT50 tasks live in
``task_rewards_mt50_{grasp,sweep,articulated,tools}.py`` (their quantity table in ``quantities_mt50.py``), checked
the same way by ``tests/test_metaworld_rewards_mt50.py``. ``REWARD_FNS``, ``QUANTITIES``,
``OPTIONAL_QUANTITIES`` and ``compute_reward`` cover all 50 tasks; ``TASK_NAMES`` stays the MT10 ten (the env's
task list) and ``MT50_TASK_NAMES`` is Meta-World's MT50 order.

Interface (shared with the simulated scenes in ``envs_bridge/metaworld/env.py``):
  ``REWARD_FNS[task](q) -> (reward, success, info)``, where ``q`` is a dict of *unbatched* per-env quantities
  (extra keys are ignored), ``reward`` a scalar float, ``success`` a scalar bool and ``info`` a dict of scalar
  floats with the same keys for every task (``INFO_KEYS``), so the ten outputs stack under ``lax.switch``.
  ``QUANTITIES[task]`` names exactly the keys a task reads; ``OPTIONAL_QUANTITIES[task]`` the keys it reads if
  present. Outputs keep the input dtype (float32 under the default JAX config). Jittable and vmappable.

Quantities (world frame, metres, z up, table top at z = 0; Meta-World's attribute names where they exist):
  ``hand_pos`` [3]: obs[0:3], world position of body ``hand`` (not the fingertips), as in the step observation.
  ``tcp_opened`` []: obs[3], claw-origin distance / 0.1 clipped to [0, 1] (1 open, ~0.297 closed on nothing).
  ``tcp_center`` [3]: midpoint of the fingertip sites ``rightEndEffector``/``leftEndEffector`` (~hand - 0.045 z).
  ``obj_pos`` [3]: obs[4:7], the first object slot, task-specific point: reach/push/pick-place puck body origin;
    door-open centre of the handle geom; drawer-open ``drawer_link`` origin + (0, -0.16, 0); drawer-close
    ``drawer_link`` origin + (0, -0.16, 0.05); button-press-topdown ``button`` body + (0, 0, 0.193) (cap top);
    peg-insert-side site ``pegGrasp``; window-open site ``handleOpenStart``; window-close ``handleCloseStart``.
  ``target_pos`` [3]: the goal ``_target_pos`` (not the clipped obs[36:39]; unchanged within an episode).
  ``init_tcp`` [3]: ``tcp_center`` at the end of the reset settle (hand resting at ``hand_init_pos``, fingers
    open), i.e. including the arm's sag (~(+0.004, +0.001, -0.05) from ``hand_init_pos``).
  ``obj_init_pos`` [3]: per-episode constant, task-specific: reach/pick-place the sampled puck position
    (z = 0.02); push the sampled xy at the settled puck height (z = 0.0194047); drawer-close ``obj_pos`` at the
    reset joint value q = -0.15; peg-insert-side the sampled peg *body* position (z = 0.02, not ``pegGrasp``);
    window-open the window anchor (sampled vector). Not read by door-open, drawer-open, button, window-close.
  ``hand_init_pos`` [3]: commanded hand start (0, 0.6, 0.2) for reach (the only reader).
  ``left_pad``, ``right_pad`` [3]: *current* origins of bodies ``leftpad``/``rightpad``. Meta-World's
    ``init_left_pad``/``init_right_pad`` are live views of these same arrays, so no separate
    "initial pad" quantity exists: pick-place's caging margins use the current pads, as in Meta-World.
  ``action`` [4]: the action as passed to ``env.step`` (unclipped; only action[3] is read).
  ``door_angle`` []: ``doorjoint`` qpos in rad (0 closed, negative = open, range [-2, 0]).
  ``peg_head_pos`` [3]: site ``pegHead`` (peg body + (-0.1, 0, 0)).
  ``collision_box_bottom_1/top_1/bottom_2/top_2`` [3]: peg-insert-side penalty-prism corner sites
    (``bottom_right_corner_collision_box_k`` = "zero" corner, ``top_left_corner_collision_box_k`` = "one"
    corner), constant per episode; ``peg_box_corners(block_pos)`` computes them from the block position.
  ``window_handle_pos_init`` [3]: window handle site at reset (window-open: anchor + (-0.04, -0.095, 0);
    window-close: anchor + (0.21, -0.095, 0), the true position at q = 0.2, not the stale reset obs).
  ``touching_object`` [] (optional, push/pick-place): both pads have positive normal contact force with the
    puck (Meta-World's ``touching_main_object``); only ``info["grasp_success"]`` reads it, and without it that
    flag drops the contact condition.

Quantities of the 40 non-MT10 tasks (same frame and units; ``obj_pos`` = obs[4:7] and ``obj_init_pos`` are
task-specific points, named in each function's docstring in ``task_rewards_mt50_*.py``):
  ``obj_quat`` [4]: obs[7:11], the first object's quaternion slot as observed: body ``RoundNut`` xquat (w, x, y, z)
    for assembly/disassemble, body ``hammer`` xquat for hammer, body ``top_link`` xquat for box-close.
  ``obj2_pos`` [3]: obs[11:14], the second object slot: stick-pull site ``insertion`` (the container's handle);
    stick-push site ``insertion`` + (0, 0.09, 0) (the container).
  ``wrench_center`` [3]: site ``RoundNut`` (the wrench ring centre; assembly, disassemble).
  ``stick_end_pos`` [3]: site ``stick_end`` (stick-pull's insertion test).
  ``stick_init_pos`` [3]: per-episode stick start (attribute ``stick_init_pos``: rand_vec xy, z 0.02).
  ``handle_init_pos`` [3]: handle-press(-side) site ``handleStart`` at reset (q = -0.001).
  ``dial_push_init`` [3]: dial-turn's push point at reset (``dial_push_position`` = obs[4:7] at reset +
    (0.05, 0.02, 0.09)).
  ``nail_qpos`` []: hammer's ``NailSlideJoint`` qpos in m (success when > 0.09).
  ``lever_qpos`` []: lever-pull's ``LeverAxis`` qpos in rad (Meta-World's lever angle is its negative).
  ``target_to_obj_init`` []: bin-picking's in-place margin, ``||obj_pos - target_pos||`` at the episode's first
    reward call (Meta-World caches it lazily on step 1, not at reset: an env must store it on its first step).
  ``touching_object`` []: as above, for the tasks whose ``info["grasp_success"]`` has a contact condition
    (optional there); stick-push *requires* it because its success flag includes that grasp test.
Per-episode constants (``target_pos``, ``obj_init_pos``, ``init_tcp``, ``hand_init_pos``) are as above with the
task-specific points documented per function; door-unlock's ``obj_init_pos`` is a live view of body
``lock_link``'s origin in Meta-World, which never moves, so it is a constant.

Constants that are identical in every variation are built in: peg-insert-side ``peg_head_pos_init`` =
(-0.1, 0.6, 0.0147847) (Meta-World reads it from the XML default, not from the sampled peg) and button-press-topdown
``_obj_to_target_init`` = 0.0935.

Info keys: ``near_object``, ``grasp_success``, ``grasp_reward``, ``in_place_reward``, ``obj_to_target``,
``unscaled_reward`` (Meta-World's values, bools as 0/1 floats) and ``progress`` = ``in_place_reward``, the
task's own "in place" shaping term in [0, 1] (door-open and drawer-open: the opening term; button: the press
term; lever-pull: the angle term; door-close: the door term, because Meta-World puts the hand term in that info
slot), a smooth completion measure. It is not a success indicator: several success thresholds
are looser than the flat top of the term (e.g. pick-place succeeds at 0.07, its term saturates at 0.05).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from envs_bridge.metaworld import quantities_mt50, tasks
from envs_bridge.metaworld.task_rewards import (
    BUTTON_OBJ_TO_TARGET_INIT,
    INFO_KEYS,
    PEG_HEAD_POS_INIT,
)
from envs_bridge.metaworld.task_rewards import REWARD_FNS as _MT10_FNS
from envs_bridge.metaworld.task_rewards_mt50_articulated import REWARD_FNS_ARTICULATED
from envs_bridge.metaworld.task_rewards_mt50_grasp import REWARD_FNS_GRASP
from envs_bridge.metaworld.task_rewards_mt50_sweep import REWARD_FNS_SWEEP
from envs_bridge.metaworld.task_rewards_mt50_tools import REWARD_FNS_TOOLS

__all__ = [
    "BUTTON_OBJ_TO_TARGET_INIT",
    "INFO_KEYS",
    "MT50_TASK_NAMES",
    "OPTIONAL_QUANTITIES",
    "PEG_HEAD_POS_INIT",
    "QUANTITIES",
    "RANGES",
    "REWARD_FNS",
    "TASK_NAMES",
    "compute_reward",
    "peg_box_corners",
]

TASK_NAMES = tasks.TASKS
MT50_TASK_NAMES = quantities_mt50.MT50_TASKS
_ALL = TASK_NAMES + quantities_mt50.NEW_TASKS  # MT10 first (error messages), then the other 40 in MT50 order
REWARD_FNS = {**_MT10_FNS, **REWARD_FNS_GRASP, **REWARD_FNS_ARTICULATED, **REWARD_FNS_SWEEP, **REWARD_FNS_TOOLS}

_PUCK = quantities_mt50.GRASP_QUANTITIES  # puck tasks read the grasp tasks' quantities
_PEG_CORNERS = (
    "collision_box_bottom_1",
    "collision_box_top_1",
    "collision_box_bottom_2",
    "collision_box_top_2",
)
QUANTITIES: dict[str, tuple[str, ...]] = {
    "reach": ("tcp_center", "target_pos", "hand_init_pos"),
    "push": _PUCK,
    "pick-place": _PUCK,
    "door-open": ("hand_pos", "obj_pos", "door_angle", "action", "target_pos"),
    "drawer-open": ("hand_pos", "obj_pos", "tcp_opened", "target_pos", "init_tcp"),
    "drawer-close": ("obj_pos", "tcp_center", "target_pos", "obj_init_pos", "init_tcp", "action"),
    "button-press-topdown": ("obj_pos", "tcp_center", "tcp_opened", "target_pos", "init_tcp"),
    "peg-insert-side": _PUCK + ("peg_head_pos",) + _PEG_CORNERS,
    "window-open": (
        "obj_pos",
        "tcp_center",
        "target_pos",
        "obj_init_pos",
        "init_tcp",
        "window_handle_pos_init",
    ),
    "window-close": ("obj_pos", "tcp_center", "target_pos", "init_tcp", "window_handle_pos_init"),
}
OPTIONAL_QUANTITIES: dict[str, tuple[str, ...]] = {t: () for t in TASK_NAMES}
OPTIONAL_QUANTITIES.update({"push": ("touching_object",), "pick-place": ("touching_object",)})
QUANTITIES.update(quantities_mt50.QUANTITIES_MT50)
OPTIONAL_QUANTITIES.update(quantities_mt50.OPTIONAL_QUANTITIES_MT50)

# Meta-World's ``_random_reset_space`` per task (low, high): the task-variation vector ("rand_vec"). Six-D
# vectors are (object xyz, goal xyz) (peg-insert-side: peg xyz, block xyz); three-D vectors are the anchor.
RANGES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    name: (spec.rand_low, spec.rand_high) for name, spec in tasks.SPECS.items()}

# Peg-insert-side penalty-prism corner sites in the block's local frame (peg_block.xml); the block body has
# euler (0, 0, 1.57) (not exactly pi/2), applied in ``peg_box_corners``. Order as in ``_PEG_CORNERS``.
_PEG_CORNER_LOCAL = ((0.1, -0.11, 0.01), (-0.1, -0.15, 0.096), (0.1, -0.11, 0.16), (-0.1, -0.17, 0.19))
_PEG_BLOCK_YAW = 1.57


def compute_reward(task: str, quantities: dict[str, jax.Array]):
    """Reward, success and info of one MT50 task (Meta-World name, with or without the ``-v3`` suffix).

    Args:
      task: e.g. ``"pick-place"`` or ``"pick-place-v3"``.
      quantities: dict holding at least ``QUANTITIES[task]`` (unbatched; vmap for batches).

    Returns:
      ``(reward [], success [] bool, info dict of [] floats with keys INFO_KEYS)``.
    """
    name = task.removesuffix("-v3")
    if name not in REWARD_FNS:
        raise ValueError(f"Unknown Meta-World task {task!r}; valid choices: {', '.join(_ALL)}")
    missing = [k for k in QUANTITIES[name] if k not in quantities]
    if missing:
        raise ValueError(f"{name}: missing quantities {missing}; needs {list(QUANTITIES[name])}")
    q = {k: jnp.asarray(v) for k, v in quantities.items()}
    reward, success, info = REWARD_FNS[name](q)
    return reward, jnp.asarray(success, dtype=bool), info


def peg_box_corners(block_pos) -> dict[str, jax.Array]:
    """Peg-insert-side penalty-prism corner sites (``collision_box_*`` quantities) from the block position.

    Args:
      block_pos: ``[3]`` world position of the block body ``box`` (the last three rand_vec entries).

    Returns:
      Dict of the four ``[3]`` corner positions.
    """
    block_pos = jnp.asarray(block_pos)
    c, s = math.cos(_PEG_BLOCK_YAW), math.sin(_PEG_BLOCK_YAW)
    out = {}
    for name, (x, y, z) in zip(_PEG_CORNERS, _PEG_CORNER_LOCAL):
        out[name] = block_pos + jnp.asarray((c * x - s * y, s * x + c * y, z), dtype=block_pos.dtype)
    return out
