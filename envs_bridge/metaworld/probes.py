"""Reward-following probes of the articulated MT10 tasks: the hand goes where the reward leads a learner.

Meta-World's scripted policies approach fixtures from low, offset poses that the dense reward never leads to,
so a scene whose fixtures lack the surfaces a learner's hand meets (a drawer front that collides with nothing, a
window handle without its arms) still passes scripted-policy tests and stays at 0 % in training
(``docs/metaworld_mjx.md``, "Reward-following probes"). A probe instead drives the TCP (the fingertip midpoint
the rewards use) onto the reward's reach point ``obs[4:7]``, optionally a little below it, with the gripper open
or closed, for ``APPROACH_STEPS`` steps, then moves ``PUSH_DISTANCE`` metres further in the task's direction.

This module imports nothing: ``scripts/record_metaworld_probes.py`` loads it by path inside the Meta-World venv
(``record_metaworld_traces.load_probes_module``), so the real env and ours run the same probe. Functions take
an array module ``xp`` (numpy or ``jax.numpy``) and work on one env (``[39 + T]`` obs) or a batch
(``[N, 39 + T]``).
"""

from __future__ import annotations

__all__ = [
    "APPROACH_STEPS",
    "DIRECTIONS",
    "DOOR_HOOK_MODES",
    "GAIN",
    "JOINTS",
    "JOINTS_MT50",
    "LINE_VARIANTS",
    "MOVED_THRESHOLD",
    "PROBE_STEPS",
    "PUSH_DISTANCE",
    "TASKS",
    "VARIANTS",
    "door_hook_action",
    "probe_action",
    "variant_name",
]

# Task -> the articulated joint whose motion the task asks for (names as in Meta-World's and our MJCF).
JOINTS = {
    "door-open": "doorjoint",
    "drawer-open": "goal_slidey",
    "drawer-close": "goal_slidey",
    "button-press-topdown": "btnbox_joint",
    "window-open": "window_slide",
    "window-close": "window_slide",
}
TASKS = tuple(JOINTS)
# The MT50 tasks outside MT10 -> Meta-World's joint whose value the task is about, as ``(kind, name)``: ``("joint",
# name)`` for a named joint, ``("body", name)`` for Meta-World's unnamed joints (the first joint of that body: the
# door lock's hinge, the handle's slide). Read by ``scripts/record_metaworld_trajectories.py --mt50`` (``joint_q``).
# The plate slides record the slide along which the task moves the plate (y for plate-slide(-back), x for the side
# variants), the stick tasks the container's x slide (the thermos moves along x), hammer the nail. Tasks about a free
# object (the grasp, push, sweep and insert tasks, box-close's lid) and reach-wall have none (``joint_q`` 0).
JOINTS_MT50 = {
    "button-press-topdown-wall": ("joint", "btnbox_joint"),
    "button-press": ("joint", "btnbox_joint"),
    "button-press-wall": ("joint", "btnbox_joint"),
    "coffee-button": ("joint", "goal_slidey"),
    "dial-turn": ("joint", "knob_Joint_1"),
    "door-close": ("joint", "doorjoint"),
    "door-lock": ("body", "lock_link"),
    "door-unlock": ("body", "lock_link"),
    "faucet-open": ("joint", "knob_Joint_1"),
    "faucet-close": ("joint", "knob_Joint_1"),
    "hammer": ("joint", "NailSlideJoint"),
    "handle-press-side": ("body", "handle_link"),
    "handle-press": ("body", "handle_link"),
    "handle-pull-side": ("body", "handle_link"),
    "handle-pull": ("body", "handle_link"),
    "lever-pull": ("joint", "LeverAxis"),
    "plate-slide": ("joint", "goal_slidey"),
    "plate-slide-side": ("joint", "goal_slidex"),
    "plate-slide-back": ("joint", "goal_slidey"),
    "plate-slide-back-side": ("joint", "goal_slidex"),
    "stick-push": ("joint", "obj_slidex"),
    "stick-pull": ("joint", "obj_slidex"),
}
# Unit direction in which the hand moves the object point to solve the task (door: the handle's initial
# tangent about the hinge, -y; the door opens towards the robot).
DIRECTIONS = {
    "door-open": (0.0, -1.0, 0.0),
    "drawer-open": (0.0, -1.0, 0.0),
    "drawer-close": (0.0, 1.0, 0.0),
    "button-press-topdown": (0.0, 0.0, -1.0),
    "window-open": (1.0, 0.0, 0.0),
    "window-close": (-1.0, 0.0, 0.0),
}
# (height offset of the TCP target below the reach point [m], gripper command): at the point and 2 or 4.5 cm
# below it, gripper open (-1) or closed (+1).
VARIANTS = tuple((dz, grip) for dz in (0.0, -0.02, -0.045) for grip in (-1.0, 1.0))
# Straight-line probes: the TCP moves along the straight line to its target (the direction the reach term's
# gradient points), at most 1 cm per step, gripper open; target at the point, 2 cm below or 2 cm above it; after
# the approach the target stays 10 cm ahead of the *current* point (keeps pushing, as the in-place term asks).
LINE_VARIANTS = tuple((dz, -1.0) for dz in (0.0, -0.02, 0.02))
PROBE_STEPS = 150  # MTBench's episode length
APPROACH_STEPS = 60  # steps spent chasing the reach point before the push starts
PUSH_DISTANCE = 0.1  # metres beyond the reach point (as seen at APPROACH_STEPS) in the task's direction
GAIN = 10.0  # action = clip(GAIN * (target - tcp)); one action unit moves the mocap 1 cm per step
MOVED_THRESHOLD = 0.01  # random-action statistic: |q - q0| > 1 cm (or 0.01 rad for the door) at some step


def variant_name(variant: tuple[float, float]) -> str:
    """E.g. ``"dz-0.045/closed"``."""
    dz, grip = variant
    return f"dz{dz:+.3f}/{'open' if grip < 0 else 'closed'}"


def probe_action(xp, obs, t, tcp_offset, anchor, dz, grip, direction, line=False):
    """One probe action.

    Args:
      xp: ``numpy`` or ``jax.numpy``.
      obs: ``[..., >=7]`` current observation (hand ``0:3``, reach point ``4:7``).
      t: step index (scalar; the action for the transition ``t -> t + 1``).
      tcp_offset: ``[..., 3]`` TCP minus observed hand position at reset (Meta-World's ``init_tcp - obs0[0:3]``).
      anchor: ``[..., 3]`` the reach point observed at step ``APPROACH_STEPS`` (ignored before it).
      dz: ``[...]`` height offset of the target below the reach point.
      grip: ``[...]`` gripper command.
      direction: ``[..., 3]`` the task's unit direction.
      line: ``[...]`` (or a Python bool) True for a straight-line move (``LINE_VARIANTS``), False for the
        per-axis clipped move of ``VARIANTS``.

    Returns:
      ``[..., 4]`` action in ``[-1, 1]``.
    """
    up = xp.stack([xp.zeros_like(dz), xp.zeros_like(dz), dz], axis=-1)
    chase = obs[..., 4:7] + up
    push = xp.where(xp.asarray(line)[..., None], chase, anchor + up) + PUSH_DISTANCE * direction
    target = xp.where(t < APPROACH_STEPS, chase, push)
    tcp = obs[..., 0:3] + tcp_offset
    err = target - tcp
    dist = xp.linalg.norm(err, axis=-1, keepdims=True)
    straight = err / xp.maximum(dist, 1e-9) * xp.minimum(1.0, GAIN * dist)
    move = xp.where(xp.asarray(line)[..., None], straight, xp.clip(GAIN * err, -1.0, 1.0))
    return xp.concatenate([move, xp.clip(grip, -1.0, 1.0)[..., None]], axis=-1)


# door-open's reward asks for the *hand* (obs[0:3]) at the handle point + (0, 0.03, -0.01) (behind and under the
# grip bar), and from afar above a floor height; the hook probe goes there either from above ("above": 10 cm over
# the point until within 3 cm in xy) or straight ("direct"), gripper closed, then for the remaining steps pulls
# the hand 8 cm along the handle's circle about the hinge, towards opening.
DOOR_HOOK_MODES = ("above", "direct")
DOOR_HINGE_OFFSET = (-0.185, -0.1, 0.0)  # hinge axis position relative to the door anchor (the task's rand_vec)


def door_hook_action(xp, obs, t, hinge, above):
    """One door hook-probe action.

    Args:
      xp: ``numpy`` or ``jax.numpy``.
      obs: ``[..., >=7]`` observation (hand ``0:3``, handle point ``4:7``).
      t: step index.
      hinge: ``[..., 3]`` hinge axis position (``anchor + DOOR_HINGE_OFFSET``).
      above: ``[...]`` 1.0 for the "above" approach, 0.0 for "direct".

    Returns:
      ``[..., 4]`` action (gripper closed).
    """
    hand, handle = obs[..., 0:3], obs[..., 4:7]
    near = handle + xp.asarray((0.0, 0.03, -0.01))
    far = xp.linalg.norm(hand[..., :2] - near[..., :2], axis=-1) > 0.03
    lift = xp.where((above > 0.5) & far, 0.1, 0.0)
    approach = near + xp.stack([xp.zeros_like(lift), xp.zeros_like(lift), lift], axis=-1)
    r = handle[..., :2] - hinge[..., :2]
    tangent = xp.stack([r[..., 1], -r[..., 0]], axis=-1) / xp.linalg.norm(r, axis=-1, keepdims=True)
    pull = near + xp.concatenate([0.08 * tangent, xp.zeros_like(tangent[..., :1])], axis=-1)
    target = xp.where(t < APPROACH_STEPS, approach, pull)
    move = xp.clip(GAIN * (target - hand), -1.0, 1.0)
    return xp.concatenate([move, xp.ones_like(move[..., :1])], axis=-1)
