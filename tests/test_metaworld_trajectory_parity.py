"""Trajectory parity with the real Meta-World 3.1.1 (issue "Meta-World on MJX behaves like the real Meta-World").

Per MT10 task and fidelity target (``trajectory_parity.TARGETS``): open-loop TCP error, object error at step 50,
closed-loop scripted-policy success, joint-range excursions, on the first 5 recorded episodes x 500 steps
(``tests/fixtures/metaworld/trajectories.npz``, recorded by ``scripts/record_metaworld_trajectories.py``).
Targets our scenes miss today are strict xfails listing the measured gap, so a physics change that meets one
fails this test until the mark is removed (and one that breaks a met target fails too).

The rollouts run in the session's shared MT10 env (fixture ``mt10``, ``tests/metaworld_shared.py``): rows 0-4 of
each task block replay the recorded actions, rows 5-9 run our scripted policies, the other rows idle.
"""

import os

import jax
import numpy as np
import pytest

from envs_bridge.metaworld import trajectory_parity as tp

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "metaworld", "trajectories.npz")
TASKS = ("reach", "push", "pick-place", "door-open", "drawer-open", "drawer-close", "button-press-topdown",
         "peg-insert-side", "window-open", "window-close")
TARGET_KEYS = ("ok_tcp", "ok_obj", "ok_success", "ok_joint")
# Measured misses (5 episodes, CPU, mujoco 3.17.0; docs/metaworld_mjx.md "Trajectory parity"), ours vs real.
KNOWN_MISSES = {
    ("reach", "ok_tcp"): "24.2 mm: no reach limit at y ~0.9 (real TCP stops at 0.888-0.907)",
    ("push", "ok_tcp"): "27.5 mm", ("push", "ok_success"): "last-step 1.0 vs 0.8",
    ("pick-place", "ok_tcp"): "28.1 mm",
    ("pick-place", "ok_obj"): "0.00 within 10 mm",
    ("pick-place", "ok_success"): "last-step 0.8 vs 1.0",
    ("door-open", "ok_tcp"): "12.6 mm",
    ("door-open", "ok_success"): "last-step 0.2 vs 0.0, success steps 92 vs 32: the floating hand lets the opened "
                                 "door swing back through the goal zone late in the episode",
    ("drawer-open", "ok_tcp"): "9.7 mm",
    ("drawer-close", "ok_tcp"): "10.5 mm",
    ("button-press-topdown", "ok_tcp"): "40.8 mm",
    ("peg-insert-side", "ok_tcp"): "8.7 mm",
    ("peg-insert-side", "ok_success"): "last-step 0.0 vs 0.8",
    ("window-open", "ok_tcp"): "11.2 mm",
    ("window-close", "ok_tcp"): "14.9 mm",
}


@pytest.fixture(scope="module")
def fixture():
    return tp.load_fixture(FIXTURE, TASKS, episodes=5)


@pytest.fixture(scope="module")
def table(fixture, mt10):
    return tp.metrics(tp.run(fixture, jax.random.key(0), jenv=mt10), fixture)


def test_metrics_of_the_real_env_against_itself_meet_every_target(fixture):
    # the recorded real episodes fed back as "ours": zero errors, identical success -> every target met
    real = {t: {"open": {k: fixture[t][k] for k in ("tcp", "obj", "joint_q")},
                "closed": {"joint_q": fixture[t]["joint_q"], "success": fixture[t]["success"].astype(bool)},
                "range": (-10.0, 10.0)} for t in TASKS}
    table = tp.metrics(real, fixture)
    for t, row in table.items():
        assert row["tcp_median"] == 0.0 and row["obj_within_10mm_share"] == 1.0, t
        assert all(row[k] for k in TARGET_KEYS), t


def test_metrics_flag_a_shifted_tcp_and_a_joint_beyond_its_range(fixture):
    t = "drawer-open"
    shifted = {"open": {"tcp": fixture[t]["tcp"] + np.array([0.0, 0.0, 0.006]), "obj": fixture[t]["obj"],
                        "joint_q": fixture[t]["joint_q"]},
               "closed": {"joint_q": fixture[t]["joint_q"] - 0.5, "success": fixture[t]["success"].astype(bool)},
               "range": (-0.16, 0.0)}
    row = tp.metrics({t: shifted}, fixture)[t]
    assert row["tcp_median"] == pytest.approx(0.006, abs=1e-6) and not row["ok_tcp"]
    assert row["joint_excess_ours"] > 0.3 and not row["ok_joint"]


def test_a_success_gap_of_exactly_ten_points_is_within_the_target_and_one_episode_more_is_not():
    # 20 episodes of 500 steps, success on only at the last step: the real env in 9 (0.45), ours in 11 (0.55, the
    # gap float subtraction makes 0.10000000000000003) or 12 (0.60)
    e, n, every = 20, 500, 5
    zeros = {"tcp": np.zeros((e, n // every, 3)), "obj": np.zeros((e, n // every, 3)), "joint_q": np.zeros((e, n // every))}

    def last_on(k):
        s = np.zeros((e, n), bool)
        s[:k, -1] = True
        return s

    fixture = {"_every": every, "push": {**zeros, "success": last_on(9)}}
    for k, ok in ((11, True), (12, False)):
        ours = {"open": zeros, "closed": {"joint_q": zeros["joint_q"], "success": last_on(k)}, "range": (-1.0, 1.0)}
        row = tp.metrics({"push": ours}, fixture)["push"]
        assert row["last_ours"] - row["last_real"] == pytest.approx((k - 9) / 20)
        assert row["ok_success"] is ok, k


def test_summary_counts_met_targets_and_the_object_target_only_where_it_applies():
    ok = {"ok_tcp": True, "ok_obj": True, "ok_success": True, "ok_joint": True, "tcp_median": 0.001,
          "obj_within_10mm_share": 1.0, "any_real": 1.0, "any_ours": 1.0, "last_real": 1.0, "last_ours": 1.0,
          "steps_real": 400.0, "steps_ours": 400.0, "joint_excess_real": 0.0, "joint_excess_ours": 0.0}
    table = {"push": dict(ok, ok_tcp=False), "drawer-open": dict(ok, ok_obj=False), "reach": dict(ok)}
    # push misses TCP; drawer-open's object flag does not count (no free object), so it meets all that apply
    assert tp.summary(table) == {"ok_tcp": (2, 3), "ok_obj": (1, 1), "ok_success": (3, 3), "ok_joint": (3, 3),
                                 "all": (2, 3)}
    assert tp.format_table(table).splitlines()[-1].startswith("targets met: TCP 2/3, object (free-object tasks) 1/1")


def check_target(table, task, target, known_misses, request):
    """One parity target of one task; a listed miss is a strict xfail (meeting it fails until the list changes)."""
    if (task, target) in known_misses:
        request.applymarker(pytest.mark.xfail(strict=True, reason=known_misses[(task, target)]))
    # a string, not the dict: pytest shortens a dict's repr in the failure message
    assert table[task][target], ", ".join(f"{k} {v:.4g}" for k, v in table[task].items() if not k.startswith("ok_"))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("target", TARGET_KEYS)
def test_trajectory_parity_target(table, task, target, request):
    check_target(table, task, target, KNOWN_MISSES, request)


def test_door_leaf_stops_on_the_safe_like_the_real_door():
    # Meta-World's opened door leaf grinds on the safe's -x side wall and stops at -1.84 to -1.95 rad by step 150 in
    # these five episodes (recorded); without our leaf x wall contact it swung on to its -2.0 limit (0.05-0.16 rad past
    # the real angle). Replaying the real actions open loop in C MuJoCo (floating hand) the door must end within
    # 0.04 rad of the real one (measured: 0.01-0.02) and short of the limit.
    fx = tp.load_fixture(FIXTURE, ("door-open",), episodes=5, steps=150)
    q_ours = tp.run(fx, jax.random.key(0), backend="cpu")["door-open"]["open"]["joint_q"][:, -1]
    q_real = fx["door-open"]["joint_q"][:, -1]
    assert np.all(q_real < -1.8)  # the recorded doors are open that far at step 150
    np.testing.assert_allclose(q_ours, q_real, atol=0.04)
    assert np.all(q_ours > -1.97)
