"""MTBench's task tables (Joshi et al., 2025, arXiv 2507.23172).

Maps our task names to MTBench's integer task ids, which is what its Hydra config takes (``task_id=[...]``,
``task_counts=[...]``). Names are Meta-World's with underscores; ``-`` and a ``-v2``/``-v3`` suffix are accepted.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["GO1_TERRAINS", "METAWORLD_TASKS", "MT10_IDS", "SUITES", "normalize_name", "task_ids_for"]

METAWORLD_TASKS = (
    "assembly", "basketball", "bin_picking", "box_close", "button_press_topdown", "button_press_topdown_wall",
    "button_press", "button_press_wall", "coffee_button", "coffee_pull", "coffee_push", "dial_turn",
    "disassemble", "door_close", "door_lock", "door_unlock", "door_open", "drawer_close", "drawer_open",
    "faucet_close", "faucet_open", "hammer", "hand_insert", "handle_press_side", "handle_press",
    "handle_pull_side", "handle_pull", "lever_pull", "peg_insert_side", "peg_unplug_side", "pick_out_of_hole",
    "pick_place", "pick_place_wall", "plate_slide_back_side", "plate_slide_back", "plate_slide_side",
    "plate_slide", "push_back", "push", "push_wall", "reach", "reach_wall", "shelf_place", "soccer",
    "stick_pull", "stick_push", "sweep_into_goal", "sweep", "window_close", "window_open",
)
assert len(METAWORLD_TASKS) == 50

# MT10(-rand) as in MTBench's exec/ppo_exps/mt10-rand scripts (door_open=16, not the "fixed" scripts' 15).
MT10_IDS = (4, 16, 17, 18, 28, 31, 38, 40, 48, 49)

GO1_TERRAINS = (
    "jump_on_and_off_box", "forward_ramp_lips", "sphere_bump_lips", "forward_ramp_no_lips", "flush_a_frame",
    "sphere_bump", "box_jump_even", "box_jump_uneven", "flat_circle_jump", "bump_jump", "sideways_ramp",
    "stepping_stones_cylinder", "stepping_stones_randomly_arranged", "staircase_walking_full_width",
    "staircase_walking", "staircase_climbing", "staircase_spiral", "squeeze", "agility_poles", "balance_beam",
    "flat",
)
assert len(GO1_TERRAINS) == 21

# suite -> (Hydra task config name, task-name table, default task ids)
SUITES = {
    "mt10": ("meta-world-v2", METAWORLD_TASKS, MT10_IDS),
    "mt50": ("meta-world-v2", METAWORLD_TASKS, tuple(range(50))),
    "metaworld": ("meta-world-v2", METAWORLD_TASKS, ()),
    "go1_easy": ("final_go1_easy", GO1_TERRAINS, tuple(range(21))),
    "go1_hard": ("final_go1_hard", GO1_TERRAINS, tuple(range(21))),
    "go1_hard_cl": ("final_go1_hard_cl", GO1_TERRAINS, tuple(range(21))),
}


def normalize_name(name: str) -> str:
    n = name.strip().lower().replace("-", "_")
    for suffix in ("_v2", "_v3"):
        n = n.removesuffix(suffix)
    return n


def task_ids_for(suite: str, task_names: Sequence[str] = ()) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """MTBench task ids and our names for a suite, or for an explicit list of task names within it.

    Returns ids sorted ascending: MTBench's one-hot index is the rank of the id among the ids present
   , so sorting makes our task index equal MTBench's ``extras["task_indices"]``.

    Raises:
      ValueError: unknown suite or task name (lists the valid choices).
    """
    if suite not in SUITES:
        raise ValueError(f"unknown IsaacGym suite {suite!r}; valid: {', '.join(sorted(SUITES))}")
    _, table, default = SUITES[suite]
    if task_names:
        ids = []
        for name in task_names:
            n = normalize_name(name)
            if n not in table:
                raise ValueError(f"unknown task {name!r} for suite {suite!r}; valid: {', '.join(table)}")
            ids.append(table.index(n))
    else:
        if not default:
            raise ValueError(f"suite {suite!r} needs explicit task_names; valid: {', '.join(table)}")
        ids = list(default)
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate tasks in {task_names}")
    ids = tuple(sorted(ids))
    return ids, tuple(table[i] for i in ids)
