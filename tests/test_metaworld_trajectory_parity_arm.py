"""Trajectory parity of the MT10 configs' physics, our Sawyer arm at 4 x 3.125 ms, Newton 4 (``ARM_PHYSICS``), in CI.

The same fixture, targets and metrics as ``test_metaworld_trajectory_parity.py`` (which checks the floating hand in
the session's shared MJX env): 5 recorded Meta-World 3.1.1 episodes x 500 steps per MT10 task, open-loop replay and
closed-loop scripted policy from the same initial states. The arm's MT10 MJX step takes minutes to compile on two CPU
cores, so this runs the arm's scenes in C MuJoCo (``trajectory_parity.run(..., backend="cpu")``: ``CpuRollout``,
the env's own JAX observation, reward and success code on C MuJoCo physics; ~20 s). C MuJoCo and MJX agree on the
floating hand's transfer table task by task, but not on every cell for the arm: on 20 episodes MJX (the trained
physics) meets window-open's success and joint targets (last-step 1.00, 415 success steps vs the real 415, joint
excess 0.005 m) that C MuJoCo misses (0.65, 291, 0.020 m;
``benchmarks/results/metaworld_trajectory_parity_arm_fs4.json``). Targets missed today are strict xfails naming the
measured gap (ours vs real).
"""

import jax
import pytest
from test_metaworld_trajectory_parity import FIXTURE, TARGET_KEYS, TASKS, check_target

from envs_bridge.metaworld import ARM_PHYSICS
from envs_bridge.metaworld import trajectory_parity as tp

# Measured (C MuJoCo, 5 episodes, mujoco 3.17.0, sessions 18-19): ours vs real.
KNOWN_MISSES = {
    ("button-press-topdown", "ok_tcp"): "TCP median 6.7 mm (limit 5; 20 episodes: 3.3 mm)",
    ("peg-insert-side", "ok_success"): "any-step 0.8 vs 1.0, last-step 0.2 vs 0.8 (20 episodes: every target, last-step "
                                       "0.40 vs 0.45)",
    ("window-open", "ok_success"): "last-step 0.8 vs 1.0, success steps 268 vs 414 (MJX, 20 episodes: 1.00, 415)",
    ("window-open", "ok_joint"): "0.020 m beyond the range vs the real 0.003 + 0.01 (MJX: 0.005)",
}


@pytest.fixture(scope="module")
def table():
    fixture = tp.load_fixture(FIXTURE, TASKS, episodes=5)
    return tp.metrics(tp.run(fixture, jax.random.key(0), backend="cpu", **ARM_PHYSICS), fixture)


def test_the_arm_meets_nine_tcp_targets_and_every_object_target(table):
    """The arm's headline in C MuJoCo: 9 of 10 TCP targets (the floating hand meets none; at 2 x 6.25 ms: 8) and
    every object target."""
    assert sum(table[t]["ok_tcp"] for t in TASKS) == 9
    assert all(table[t]["ok_obj"] for t in ("push", "pick-place", "peg-insert-side"))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("target", TARGET_KEYS)
def test_arm_trajectory_parity_target(table, task, target, request):
    check_target(table, task, target, KNOWN_MISSES, request)
