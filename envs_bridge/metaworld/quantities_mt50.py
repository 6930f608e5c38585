"""Meta-World's MT50 task list and the reward quantities of the 40 tasks outside MT10 (pure data, no imports).

Meta-World: Yu et al., 2019, arXiv 1910.10897 (metaworld 3.1.1, "v2" rewards of the ``*-v3`` envs). The quantities
are defined in ``rewards.py``'s docstring (MT10 ones) and in ``task_rewards_mt50_*.py`` (the new ones); the
reward functions read exactly ``QUANTITIES_MT50[task]`` (+ ``OPTIONAL_QUANTITIES_MT50[task]`` if present).

This module imports nothing so that ``scripts/record_metaworld_traces.py`` can load it by path inside the
Meta-World venv (no jax there): the recorder and the rewards read the same table, with no mirror to keep equal.
"""

from __future__ import annotations

__all__ = ["GRASP_QUANTITIES", "MT10_TASKS", "MT50_TASKS", "NEW_TASKS", "OPTIONAL_QUANTITIES_MT50", "QUANTITIES_MT50"]

# Meta-World's MT50 order (``metaworld.MT50``; the benchmark's ``task_id`` is the position in this list; equal to
# ``list(metaworld.MT50(seed=0).train_classes)`` and ``metaworld.env_dict.MT50_V3`` of metaworld 3.1.1, checked).
MT50_TASKS = (
    "assembly",
    "basketball",
    "bin-picking",
    "box-close",
    "button-press-topdown",
    "button-press-topdown-wall",
    "button-press",
    "button-press-wall",
    "coffee-button",
    "coffee-pull",
    "coffee-push",
    "dial-turn",
    "disassemble",
    "door-close",
    "door-lock",
    "door-open",
    "door-unlock",
    "hand-insert",
    "drawer-close",
    "drawer-open",
    "faucet-open",
    "faucet-close",
    "hammer",
    "handle-press-side",
    "handle-press",
    "handle-pull-side",
    "handle-pull",
    "lever-pull",
    "pick-place-wall",
    "pick-out-of-hole",
    "pick-place",
    "plate-slide",
    "plate-slide-side",
    "plate-slide-back",
    "plate-slide-back-side",
    "peg-insert-side",
    "peg-unplug-side",
    "soccer",
    "stick-push",
    "stick-pull",
    "push",
    "push-wall",
    "push-back",
    "reach",
    "reach-wall",
    "shelf-place",
    "sweep-into",
    "sweep",
    "window-open",
    "window-close",
)
# The ten MT10 tasks in MT10's order (the one definition: tasks.TASKS and the recorder read it).
MT10_TASKS = (
    "reach",
    "push",
    "pick-place",
    "door-open",
    "drawer-open",
    "drawer-close",
    "button-press-topdown",
    "peg-insert-side",
    "window-open",
    "window-close",
)
# The 40 MT50 tasks outside MT10, in MT50 order.
NEW_TASKS = tuple(t for t in MT50_TASKS if t not in MT10_TASKS)

# An object gripped with the base-class caging term: pads, tcp, action and the episode-start object/tcp.
GRASP_QUANTITIES = (
    "obj_pos",
    "tcp_opened",
    "tcp_center",
    "target_pos",
    "obj_init_pos",
    "init_tcp",
    "left_pad",
    "right_pad",
    "action",
)
# push-back, soccer, sweep, sweep-into: their own caging term ignores the gripper action.
_SLIDE = tuple(k for k in GRASP_QUANTITIES if k != "action")
_WRENCH = (
    "hand_pos",
    "obj_pos",
    "obj_quat",
    "tcp_center",
    "left_pad",
    "right_pad",
    "action",
    "target_pos",
    "obj_init_pos",
    "init_tcp",
)
_BUTTON = ("obj_pos", "tcp_center", "tcp_opened", "target_pos", "init_tcp")
_FAUCET = ("obj_pos", "tcp_center", "target_pos", "obj_init_pos", "init_tcp")
_HANDLE_PRESS = ("obj_pos", "tcp_center", "target_pos", "init_tcp", "handle_init_pos")
_PLATE = ("obj_pos", "tcp_center", "target_pos", "obj_init_pos", "init_tcp")

QUANTITIES_MT50: dict[str, tuple[str, ...]] = {
    "assembly": _WRENCH + ("wrench_center",),
    "basketball": GRASP_QUANTITIES,
    "bin-picking": GRASP_QUANTITIES + ("hand_pos", "target_to_obj_init"),
    "box-close": ("hand_pos", "obj_pos", "obj_quat", "action", "target_pos"),
    "button-press-topdown-wall": _BUTTON,
    "button-press": _BUTTON,
    "button-press-wall": _BUTTON,
    "coffee-button": _BUTTON,
    "coffee-pull": GRASP_QUANTITIES,
    "coffee-push": GRASP_QUANTITIES,
    "dial-turn": ("obj_pos", "tcp_center", "target_pos", "init_tcp", "action", "dial_push_init"),
    "disassemble": _WRENCH + ("wrench_center",),
    "door-close": ("obj_pos", "tcp_center", "target_pos", "obj_init_pos", "hand_init_pos"),
    "door-lock": ("obj_pos", "tcp_opened", "left_pad", "target_pos"),
    "door-unlock": ("hand_pos", "obj_pos", "tcp_opened", "target_pos", "obj_init_pos", "init_tcp"),
    "hand-insert": GRASP_QUANTITIES,
    "faucet-open": _FAUCET,
    "faucet-close": _FAUCET,
    "hammer": _WRENCH + ("nail_qpos",),
    "handle-press-side": _HANDLE_PRESS,
    "handle-press": _HANDLE_PRESS,
    "handle-pull-side": GRASP_QUANTITIES,
    "handle-pull": GRASP_QUANTITIES,
    "lever-pull": ("hand_pos", "obj_pos", "target_pos", "obj_init_pos", "init_tcp", "lever_qpos"),
    "pick-place-wall": GRASP_QUANTITIES,
    "pick-out-of-hole": GRASP_QUANTITIES,
    "plate-slide": _PLATE,
    "plate-slide-side": _PLATE,
    "plate-slide-back": _PLATE,
    "plate-slide-back-side": _PLATE,
    "peg-unplug-side": GRASP_QUANTITIES,
    "soccer": _SLIDE,
    "stick-push": GRASP_QUANTITIES + ("obj2_pos", "stick_init_pos", "touching_object"),
    "stick-pull": GRASP_QUANTITIES + ("obj2_pos", "stick_init_pos", "stick_end_pos"),
    "push-wall": GRASP_QUANTITIES,
    "push-back": _SLIDE,
    "reach-wall": ("tcp_center", "target_pos", "hand_init_pos"),
    "shelf-place": GRASP_QUANTITIES,
    "sweep-into": _SLIDE,
    "sweep": _SLIDE,
}
# ``touching_object`` (both pads pressing the task's main geom) only enters ``info["grasp_success"]`` of these
# tasks; without it that flag drops the contact condition (stick-push needs it for success: required above).
_TOUCH = (
    "coffee-pull",
    "coffee-push",
    "hand-insert",
    "pick-place-wall",
    "soccer",
    "stick-pull",
    "push-wall",
    "push-back",
    "shelf-place",
    "sweep-into",
    "sweep",
)
OPTIONAL_QUANTITIES_MT50: dict[str, tuple[str, ...]] = {
    t: (("touching_object",) if t in _TOUCH else ()) for t in NEW_TASKS
}
