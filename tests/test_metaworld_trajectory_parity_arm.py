"""Trajectory parity of the MT10 configs' physics, our Sawyer arm at 4 x 3.125 ms, Newton 4 (``ARM_PHYSICS``), in CI.

The same fixture, targets and metrics as ``test_metaworld_trajectory_parity.py`` (which checks the floating hand in
the session's shared MJX env) but all 20 recorded Meta-World 3.1.1 episodes x 500 steps per MT10 task, open-loop replay and
closed-loop scripted policy from the same initial states. The arm's MT10 MJX step takes minutes to compile on two CPU
cores, so this runs the arm's scenes in C MuJoCo (``trajectory_parity.run(..., backend="cpu")``: ``CpuRollout``,
the env's own JAX observation, reward and success code on C MuJoCo physics; ~40 s). C MuJoCo and MJX agree on the
floating hand's transfer table task by task, but not on every cell for the arm: on 20 episodes MJX (the trained
physics) meets window-open's success and joint targets (last-step 1.00, 415 success steps vs the real 415, joint
excess 0.005 m) that C MuJoCo misses (0.65, 291, 0.020 m;
``benchmarks/results/metaworld_trajectory_parity_arm_fs4_grip_wrist.json``). Targets missed today are strict xfails
naming the measured gap (ours vs real); window-open's two are checked in MJX as well (the last test, ~1 min).
"""

import jax
import pytest
from test_metaworld_trajectory_parity import FIXTURE, TARGET_KEYS, TASKS, check_target

from envs_bridge.metaworld import ARM_PHYSICS
from envs_bridge.metaworld import trajectory_parity as tp

# Measured (C MuJoCo, all 20 episodes, mujoco 3.17.0, session 19): ours vs real. With 5 episodes (sessions 12-18) the
# sample decided three more cells (button TCP 6.7 mm, peg success 0.2 vs 0.8, window-open's at 0.8 vs 1.0).
KNOWN_MISSES = {
    ("window-open", "ok_success"): "last-step 0.65 vs 1.00, success steps 291 vs 415 (MJX, the training physics: 1.00, "
                                   "415)",
    ("window-open", "ok_joint"): "0.020 m beyond the range vs the real 0.003 + 0.01 (MJX: 0.005)",
}


@pytest.fixture(scope="module")
def table():
    fixture = tp.load_fixture(FIXTURE, TASKS)
    return tp.metrics(tp.run(fixture, jax.random.key(0), backend="cpu", **ARM_PHYSICS), fixture)


def test_the_arm_meets_every_tcp_and_object_target(table):
    """The arm's headline in C MuJoCo: 10 of 10 TCP targets (the floating hand meets none; at 2 x 6.25 ms: 7 of 10) and
    every object target."""
    assert sum(table[t]["ok_tcp"] for t in TASKS) == 10
    assert all(table[t]["ok_obj"] for t in ("push", "pick-place", "peg-insert-side"))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("target", TARGET_KEYS)
def test_arm_trajectory_parity_target(table, task, target, request):
    check_target(table, task, target, KNOWN_MISSES, request)


def test_window_open_meets_every_target_in_mjx_the_training_physics():
    """The two cells C MuJoCo misses above (its sash drags behind) are met by MJX, the physics the MT10 configs train
    on: all 20 episodes, one-task MJX env (~1 min on two CPU cores). With the C MuJoCo table this covers every target
    of every MT10 task in CI."""
    fixture = tp.load_fixture(FIXTURE, ["window-open"])
    row = tp.metrics(tp.run(fixture, jax.random.key(0), **ARM_PHYSICS), fixture)["window-open"]
    assert all(row[k] for k in TARGET_KEYS), {k: row[k] for k in row if not k.startswith("ok_")}
    assert row["last_ours"] == 1.0 and abs(row["steps_ours"] - row["steps_real"]) < 5
