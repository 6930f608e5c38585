"""Trajectory parity of the MT50 scenes outside MT10 with the real Meta-World 3.1.1 (issue 12).

The same targets as MT10's (``test_metaworld_trajectory_parity.py``, ``trajectory_parity.TARGETS``): open-loop TCP
error, object error at step 50 (tasks with a free object), closed-loop scripted-policy success (any-step, last-step,
steps with success on, within 0.1 of the real env's), joint-range excursions; per task that has both a scene
(``scenes.ALL_TASKS``: scenes land one family at a time) and fixture data (``trajectories_mt50.npz``, recorded by
``scripts/record_metaworld_trajectories.py --mt50``), on the first ``E`` episodes x ``STEPS`` steps.

CPU budget: an MJX step program costs 30-60 s of XLA compile per task on the CI's two cores (forty tasks: over half
an hour, ``cpu_sim.py``), so the rollouts run with C MuJoCo physics and the env's own reset, observation and reward
code (``trajectory_parity.run(..., backend="cpu")``, ``cpu_sim.CpuRollout``; checked against MJX on MT10 tasks in
``test_metaworld_cpu_sim.py``). The only compiles are small per-task jits (evaluation, policy), kept by the
persistent compile cache (``conftest.py``): all 40 tasks take about 45 s of CPU cold (104 s wall on a loaded 2-core
machine; 26 tasks: 57 s wall / 30 s CPU cold, 45 s / 28 s warm), ~630 MB RSS. One MJX program over the tasks instead: ~21 s CPU of compile per task (4 tasks: 84 s CPU, 2.7 GB),
about 14 CPU-minutes for the forty. MJX parity of the same tasks: ``python -m envs_bridge.metaworld.trajectory_parity
--fixture mt50`` (``--group N`` compiles N tasks per program; ``--known-misses`` prints this file's table rows).

Per task, the targets it meets are asserted and the measured misses (``KNOWN_MISSES``) are strict xfails, so a
scene change that meets one fails until the mark is removed. A task whose scene has landed but whose parity has not
been reviewed yet (not in ``REVIEWED``) runs with non-strict xfails on its misses (reported, not failing CI) until
its row is added.
"""

import os

import jax
import numpy as np
import pytest

from envs_bridge.metaworld import probes, scenes
from envs_bridge.metaworld import trajectory_parity as tp

FIXTURE = tp.FIXTURES["mt50"]
# Episodes per task (the fixture's five) and steps (of 500): the real env's first success lies within 200 steps in
# every kept episode but disassemble's variation 4 (step 247) and push-back's variation 1 (step 307); success is
# compared over the same 200 steps on both sides.
E, STEPS = 5, 200
FIXTURE_TASKS = tp.fixture_tasks(FIXTURE)
TASKS = tuple(t for t in FIXTURE_TASKS if t in scenes.ALL_TASKS)
TARGET_KEYS = ("ok_tcp", "ok_obj", "ok_success", "ok_joint")

# Tasks whose parity was measured (C MuJoCo backend, E x STEPS above, mujoco 3.17.0; scenes and CpuRollout as of
# 2026-12-05 15:25 UTC, pad contacts condim 4) and their misses, ours vs real. Regenerate the rows with ``python -m envs_bridge.metaworld.trajectory_parity
# --fixture mt50 --backend cpu --episodes 5 --steps 200 --known-misses`` (same numbers as this test). The open-loop
# TCP target (5 mm) is missed almost everywhere as in MT10: the floating hand already tracks the real arm's TCP to
# only 5-10 mm in free space, before any contact.
# All 40 reviewed; take a task out of REVIEWED (its misses become non-strict xfails) while its scene is reworked.
REVIEWED: tuple[str, ...] = tuple(FIXTURE_TASKS)
KNOWN_MISSES: dict[tuple[str, str], str] = {
    ("assembly", "ok_tcp"): "12.5 mm",
    ("assembly", "ok_obj"): "0.00 within 10 mm",
    ("basketball", "ok_tcp"): "12.6 mm",
    ("bin-picking", "ok_tcp"): "7.9 mm",
    ("bin-picking", "ok_success"): "any 0.40 vs 1.00, last 0.20 vs 1.00, steps 21.0 vs 94.2",
    ("box-close", "ok_tcp"): "12.0 mm",
    ("box-close", "ok_obj"): "0.60 within 10 mm",
    ("box-close", "ok_success"): "any 0.40 vs 0.80, last 0.00 vs 0.40, steps 7.8 vs 49.2",
    ("button-press-topdown-wall", "ok_tcp"): "10.2 mm",
    ("button-press", "ok_tcp"): "10.6 mm",
    ("button-press-wall", "ok_tcp"): "5.2 mm",
    ("coffee-pull", "ok_tcp"): "9.7 mm",
    ("coffee-push", "ok_tcp"): "7.7 mm",
    ("coffee-push", "ok_success"): "any 1.00 vs 1.00, last 1.00 vs 0.40, steps 146.8 vs 120.0",
    ("dial-turn", "ok_tcp"): "10.3 mm",
    ("dial-turn", "ok_success"): "any 1.00 vs 1.00, last 0.80 vs 1.00, steps 88.8 vs 127.6",
    ("disassemble", "ok_tcp"): "11.3 mm",
    ("disassemble", "ok_obj"): "0.60 within 10 mm",
    ("disassemble", "ok_success"): "any 0.00 vs 0.80, last 0.00 vs 0.60, steps 0.0 vs 55.4",
    ("door-close", "ok_tcp"): "10.8 mm",
    ("door-close", "ok_joint"): "excess 0.024 vs 0.014",
    ("door-lock", "ok_tcp"): "9.0 mm",
    ("door-lock", "ok_success"): "any 1.00 vs 1.00, last 1.00 vs 1.00, steps 107.0 vs 138.0",
    ("door-lock", "ok_joint"): "excess 0.029 vs 0.000",
    ("door-unlock", "ok_tcp"): "10.4 mm",
    ("door-unlock", "ok_success"): "any 1.00 vs 1.00, last 0.80 vs 1.00, steps 139.6 vs 148.4",
    ("hand-insert", "ok_tcp"): "34.6 mm",
    ("hand-insert", "ok_obj"): "0.00 within 10 mm",
    ("faucet-open", "ok_tcp"): "20.1 mm",
    ("faucet-close", "ok_tcp"): "17.7 mm",
    ("hammer", "ok_tcp"): "11.2 mm",
    ("hammer", "ok_obj"): "0.20 within 10 mm",
    ("hammer", "ok_success"): "any 0.00 vs 1.00, last 0.00 vs 1.00, steps 0.0 vs 133.2",
    ("handle-press-side", "ok_tcp"): "5.1 mm",
    ("handle-press", "ok_tcp"): "12.1 mm",
    ("handle-pull-side", "ok_tcp"): "8.1 mm",
    ("handle-pull-side", "ok_success"): "any 1.00 vs 1.00, last 0.80 vs 1.00, steps 113.8 vs 129.2",
    ("handle-pull", "ok_tcp"): "10.0 mm",
    ("handle-pull", "ok_success"): "any 1.00 vs 1.00, last 1.00 vs 1.00, steps 168.0 vs 99.4",
    ("lever-pull", "ok_tcp"): "36.3 mm",
    ("pick-place-wall", "ok_tcp"): "28.8 mm",
    ("pick-place-wall", "ok_obj"): "0.00 within 10 mm",
    ("pick-out-of-hole", "ok_tcp"): "8.8 mm",
    ("plate-slide", "ok_tcp"): "21.2 mm",
    ("plate-slide", "ok_joint"): "excess 0.023 vs 0.000",
    ("plate-slide-side", "ok_tcp"): "30.0 mm",
    ("plate-slide-side", "ok_joint"): "excess 0.219 vs 0.179",
    ("plate-slide-back", "ok_tcp"): "9.2 mm",
    ("plate-slide-back-side", "ok_tcp"): "7.7 mm",
    ("peg-unplug-side", "ok_tcp"): "6.8 mm",
    ("soccer", "ok_tcp"): "18.4 mm",
    ("soccer", "ok_obj"): "0.00 within 10 mm",
    ("soccer", "ok_success"): "any 0.80 vs 0.60, last 0.20 vs 0.60, steps 55.6 vs 80.8",
    ("stick-push", "ok_success"): "any 1.00 vs 1.00, last 0.00 vs 0.00, steps 111.4 vs 72.0",
    ("stick-pull", "ok_tcp"): "8.5 mm",
    ("stick-pull", "ok_success"): "any 0.80 vs 1.00, last 0.60 vs 0.40, steps 58.4 vs 31.4",
    ("push-wall", "ok_tcp"): "46.1 mm",
    ("push-wall", "ok_obj"): "0.00 within 10 mm",
    ("push-back", "ok_tcp"): "13.7 mm",
    ("push-back", "ok_success"): "any 1.00 vs 0.80, last 0.00 vs 0.00, steps 29.6 vs 23.2",
    ("reach-wall", "ok_tcp"): "28.8 mm",
    ("shelf-place", "ok_tcp"): "12.0 mm",
    ("shelf-place", "ok_obj"): "0.40 within 10 mm",
    ("shelf-place", "ok_success"): "any 1.00 vs 1.00, last 0.80 vs 0.60, steps 98.2 vs 77.0",
    ("sweep-into", "ok_tcp"): "25.3 mm",
    ("sweep-into", "ok_obj"): "0.00 within 10 mm",
    ("sweep-into", "ok_success"): "any 1.00 vs 0.80, last 1.00 vs 0.00, steps 152.4 vs 13.4",
    ("sweep", "ok_tcp"): "12.4 mm",
    ("sweep", "ok_success"): "any 1.00 vs 1.00, last 0.40 vs 1.00, steps 44.6 vs 112.8",
}
# Closed-loop success cells that flip under float-level changes of the simulation (contact-rich grasps whose policy
# branches on millimetres): CpuRollout with the reset's float32 positions for every body vs float64 for the bodies
# the reset does not move gave sweep last-step 1.00 -> 0.40 (a pass turned miss), bin-picking any-step 0.20 -> 0.60,
# box-close any-step 0.40 -> 0.60, 5 episodes each. Reported, not strict, so another CPU's rounding cannot fail CI.
UNSTABLE: dict[tuple[str, str], str] = {
    ("sweep", "ok_success"): "chaotic: last-step 0.40-1.00 vs 1.00 under float-level changes",
    ("bin-picking", "ok_success"): "chaotic: any-step 0.20-0.60 vs 1.00 under float-level changes",
    ("box-close", "ok_success"): "chaotic: any-step 0.40-0.60 vs 0.80 under float-level changes",
}


@pytest.fixture(scope="module")
def fixture():
    return tp.load_fixture(FIXTURE, list(FIXTURE_TASKS), episodes=E, steps=STEPS)


@pytest.fixture(scope="module")
def rollouts(fixture):
    """Each task's rollout on first use (``-k <task>`` runs only that task's)."""
    cache = {}

    def get(task):
        if task not in cache:
            cache[task] = tp.run({task: fixture[task], "_every": fixture["_every"]}, jax.random.key(0),
                                 backend="cpu")[task]
        return cache[task]

    return get


def test_fixture_covers_the_40_tasks_with_the_recorded_layout(fixture):
    from envs_bridge.metaworld import quantities_mt50

    assert FIXTURE_TASKS == quantities_mt50.NEW_TASKS
    every = fixture["_every"]
    for t in FIXTURE_TASKS:
        f = fixture[t]
        assert f["action"].shape == (E, STEPS, 4) and f["success"].shape == (E, STEPS), t
        for k in ("tcp", "mocap", "obj"):
            assert f[k].shape == (E, STEPS // every, 3), (t, k)
        assert f["joint_q"].shape == (E, STEPS // every), t
        # the task joint moves in the tasks that have one, and is 0 where there is none
        assert (np.ptp(f["joint_q"]) > 0.01) == (t in probes.JOINTS_MT50), t


def test_metrics_of_the_real_env_against_itself_meet_every_target(fixture):
    real = {t: {"open": {k: fixture[t][k] for k in ("tcp", "obj", "joint_q")},
                "closed": {"joint_q": fixture[t]["joint_q"], "success": fixture[t]["success"].astype(bool)},
                "range": (-10.0, 10.0)} for t in FIXTURE_TASKS}
    for t, row in tp.metrics(real, fixture).items():
        assert row["tcp_median"] == 0.0 and row["obj_within_10mm_share"] == 1.0, t
        assert all(row[k] for k in TARGET_KEYS), t


@pytest.mark.parametrize("task", [t for t in TASKS if t in probes.JOINTS_MT50])
def test_task_joint_is_the_recorded_one(fixture, rollouts, task):
    # ours is found by Meta-World's name (``trajectory_parity.task_joint``; Meta-World's unnamed lock and handle
    # joints by their body's name, else the scene's first reset joint), and at the first recorded state (step 5,
    # mostly before the hand arrives: median over the episodes, door-lock's hand reaches the lock by then in one)
    # it holds the real joint's value: a wrong joint, zero or sign shows here (the range is no check: Meta-World's
    # plate slides pass theirs by up to 0.18 m)
    r = rollouts(task)
    assert r["joint"] is not None, f"{task}: no task joint (Meta-World's: {probes.JOINTS_MT50[task]})"
    real, ours = fixture[task]["joint_q"][:, 0], r["open"]["joint_q"][:, 0]
    assert np.median(np.abs(ours - real)) < 0.02, (task, r["joint"], ours, real)


@pytest.mark.parametrize("target", TARGET_KEYS)
@pytest.mark.parametrize("task", TASKS)
def test_trajectory_parity_target(fixture, rollouts, task, target, request):
    row = tp.metrics({task: rollouts(task)}, fixture)[task]
    if task not in REVIEWED and not row[target]:
        reason = f"parity not reviewed yet: {tp.miss_reason(row, target)}"
        request.applymarker(pytest.mark.xfail(strict=False, reason=reason))
    elif (task, target) in UNSTABLE:
        request.applymarker(pytest.mark.xfail(strict=False, reason=UNSTABLE[(task, target)]))
    elif (task, target) in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[(task, target)]))
    assert row[target], {k: v for k, v in row.items() if not k.startswith("ok_")}


if os.environ.get("MTJAX_PARITY_TABLE"):  # MTJAX_PARITY_TABLE=1 pytest ... -s: print the table at the end
    def test_print_table(fixture, rollouts):
        ours = {t: rollouts(t) for t in TASKS}
        print("\n" + tp.format_table(tp.metrics(ours, fixture)))
