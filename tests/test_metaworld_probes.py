"""Reward-following probes in our MJX scenes against the real Meta-World's recorded results.

The fixture ``tests/fixtures/metaworld/probes.json`` was recorded from Meta-World 3.1.1 (MuJoCo 3.3.0) by
``scripts/record_metaworld_probes.py`` with the same probe code (``envs_bridge/metaworld/probes.py``). Per
articulated MT10 task: 30 probe episodes (5 initial states x 6 variants: TCP at the reach point, 2 or 4.5 cm below,
gripper open or closed, then 10 cm on in the task's direction), 15 straight-line probes (5 x 3 heights, then
pushing on), 20 door hook probes, and the share of 200 uniform-random-action episodes in which the task joint
moves by more than 1 cm (0.01 rad for the door).

Tolerances: the issue's 0.15 for the random-action share (our 200 episodes use other random actions and initial
states than the real 200, so at the real shares (0 or 0.89) the binomial standard deviation of the difference is
0 or ~0.03: 0.15 is about five of those). The probes are deterministic and start from the same initial states; 0.15
of 30 episodes is 4.5 episodes, less than one variant's five, so a missing surface that fails a whole variant
(the old drawer front: 0.00 vs 0.77, window handle arms: 0.33 vs 1.00) cannot pass.

The episodes run in the session's shared MT10 env (fixture ``mt10``, ``tests/metaworld_shared.py``): its six
articulated task blocks take 20 of a task's 265 episodes at a time (14 batches; the other rows idle).
"""

import os

import jax
import numpy as np
import pytest

from envs_bridge.metaworld import probe_runner, probes, tasks

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "metaworld", "probes.json")
INITS, HOOK_INITS, RANDOM = 5, 10, 200
TOL = 0.15
LINE_TOL = 0.2  # 15 straight-line episodes per task: 3 episodes


LINE_KNOWN_DEVIATION: dict[str, str] = {}  # none since the hand's rotational inertia was raised (window-close)
# none since the blocking changes (weld impedance 0.3, stiff joint limits): drawer-close's closed-gripper probes
# used to push the drawer shut where the real hand is blocked by the handle bar (0.93 vs 0.77).
PROBE_KNOWN_DEVIATION: dict[str, str] = {}


def _known(table):
    return [pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=table[t])) if t in table else t
            for t in probes.TASKS]


@pytest.fixture(scope="module")
def fixture():
    return probe_runner.load_fixture(FIXTURE)


@pytest.fixture(scope="module")
def results(fixture, mt10):
    ours = probe_runner.run(mt10, fixture, INITS, HOOK_INITS, RANDOM, jax.random.key(0), tasks=probes.TASKS)
    return ours, probe_runner.compare(ours, fixture, INITS)


def test_fixture_matches_the_probe_code(fixture):
    """The fixture was recorded with today's probe definition (a changed probe needs a re-recording)."""
    p = fixture["protocol"]
    assert [tuple(v) for v in p["variants"]] == list(probes.VARIANTS)
    assert [tuple(v) for v in p["line_variants"]] == list(probes.LINE_VARIANTS)
    assert (p["steps"], p["approach_steps"], p["push_distance"], p["gain"], p["moved_threshold"]) == (
        probes.PROBE_STEPS, probes.APPROACH_STEPS, probes.PUSH_DISTANCE, probes.GAIN, probes.MOVED_THRESHOLD)
    assert p["inits"] >= INITS and p["random"] >= RANDOM and p["hook_inits"] >= HOOK_INITS
    assert fixture["versions"]["metaworld"] == "3.1.1"
    assert set(fixture["tasks"]) == set(probes.TASKS)


def test_probe_joints_are_the_task_joints():
    """probes.py (numpy-only, for the Meta-World venv) repeats the task joint names of tasks.SPECS."""
    assert probes.JOINTS == {t: s.joint for t, s in tasks.SPECS.items() if s.joint}


def test_probe_action_hand_case():
    """TCP 5 cm below the hand, reach point 3 cm ahead in +y: action 10 * 0.03 = 0.3 in y; after the approach the
    target is the frozen anchor + 0.1 m in the direction."""
    obs = np.zeros(39)
    obs[0:3] = (0.0, 0.6, 0.2)
    obs[4:7] = (0.0, 0.63, 0.15)
    off, d = np.array([0.0, 0.0, -0.05]), np.array(probes.DIRECTIONS["drawer-close"])
    a = probes.probe_action(np, obs, 0, off, np.zeros(3), np.float64(0.0), np.float64(1.0), d)
    np.testing.assert_allclose(a, (0.0, 0.3, 0.0, 1.0), atol=1e-12)  # float64 rounding of 0.15 - 0.15
    anchor = np.array([0.0, 0.58, 0.15])  # push target (0, 0.68, 0.13) with dz = -0.02; tcp (0, 0.6, 0.15)
    a = probes.probe_action(np, obs, probes.APPROACH_STEPS, off, anchor, np.float64(-0.02), np.float64(-1.0), d)
    np.testing.assert_allclose(a, (0.0, 0.8, -0.2, -1.0), atol=1e-12)


def test_straight_line_probe_action_hand_case():
    """Target 0.3 m in x and 0.4 m in y away: the line move is the unit direction (0.6, 0.8, 0) (distance 0.5,
    capped at 1 cm/step), the per-axis move clips each axis to 1. After the approach the line probe keeps its
    target 10 cm ahead of the live point, the axis probe ahead of the frozen anchor."""
    obs = np.zeros(39)
    obs[0:3] = (0.0, 0.6, 0.2)
    obs[4:7] = (0.3, 1.0, 0.2)
    off, d = np.zeros(3), np.array(probes.DIRECTIONS["window-close"])
    args = (off, np.zeros(3), np.float64(0.0), np.float64(-1.0), d)
    np.testing.assert_allclose(probes.probe_action(np, obs, 0, *args, line=True), (0.6, 0.8, 0.0, -1.0), atol=1e-12)
    np.testing.assert_allclose(probes.probe_action(np, obs, 0, *args, line=False), (1.0, 1.0, 0.0, -1.0))
    obs[4:7] = (0.02, 0.6, 0.2)  # live point 2 cm ahead in x; push target 0.02 - 0.1 = -0.08 -> 10 * -0.08 = -0.8
    a = probes.probe_action(np, obs, probes.APPROACH_STEPS, *args, line=True)
    np.testing.assert_allclose(a, (-0.8, 0.0, 0.0, -1.0), atol=1e-12)


@pytest.mark.parametrize("task", _known(PROBE_KNOWN_DEVIATION))
def test_probe_success_matches_real_env(results, task):
    _, table = results
    row = table[task]
    assert abs(row["probe_any_ours"] - row["probe_any_real"]) <= TOL, (task, row)


@pytest.mark.parametrize("task", probes.TASKS)
def test_random_actions_move_the_joint_as_often_as_in_real_env(results, task):
    _, table = results
    row = table[task]
    assert abs(row["moved_ours"] - row["moved_real"]) <= TOL, (task, row)


@pytest.mark.parametrize("task", _known(LINE_KNOWN_DEVIATION))
def test_straight_line_probe_success_matches_real_env(results, task):
    _, table = results
    row = table[task]
    assert abs(row["line_any_ours"] - row["line_any_real"]) <= LINE_TOL, (task, row)


def test_drawer_and_window_close_probes_move_the_joint(results):
    """The two tasks that stayed at 0 % in training: the probes close them by about as much as in the real env
    (mean final joint change; drawer-close real +0.133 m, window-close real -0.181 m)."""
    _, table = results
    for task in ("drawer-close", "window-close"):
        real, ours = table[task]["dq_final_real"], table[task]["dq_final_ours"]
        assert np.sign(ours) == np.sign(real) and abs(ours - real) <= 0.3 * abs(real), (task, real, ours)


def test_door_hook_probe_from_above_opens_the_door_as_in_real_env(results):
    """door-open's reward-led pose, reached from above, then a pull along the handle's circle: success in the
    real env on every initial state; ours too (the straight approach is a documented deviation:
    docs/metaworld_mjx.md)."""
    _, table = results
    row = table["door-open"]
    assert row["hook_above_real"] == 1.0 and abs(row["hook_above_ours"] - row["hook_above_real"]) <= TOL, row


def test_cli_builds_the_env_with_the_hand_model_and_physics_options(monkeypatch):
    """``--hand arm --frame-skip 2 --iterations 6`` reach ``MetaWorldEnv`` (the arm's probe table in
    docs/metaworld_mjx.md was run this way); nothing is compiled: ``make_env`` is stopped once called."""
    seen = {}

    class _Built(Exception):
        pass

    def fake_make_env(task_names, n, **kwargs):
        seen.update(tasks=tuple(task_names), n=n, **kwargs)
        raise _Built

    monkeypatch.setattr(probe_runner, "make_env", fake_make_env)
    with pytest.raises(_Built):
        probe_runner.main(["--fixture", FIXTURE, "--tasks", "window-close", "--hand", "arm", "--frame-skip", "2",
                           "--iterations", "6", "--random", "4"])
    # 5 inits x (6 + 3) probes + 10 x 2 hook probes + 4 random episodes = 69 per task
    assert seen == {"tasks": ("window-close",), "n": 69, "hand": "arm", "frame_skip": 2, "iterations": 6,
                    "ls_iterations": 6}
