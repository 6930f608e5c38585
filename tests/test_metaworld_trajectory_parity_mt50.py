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
persistent compile cache (``conftest.py``): 26 tasks took 57 s wall / 30 s CPU cold, 45 s / 28 s warm (about 1.1 s
CPU per task). One MJX program over the tasks instead: ~21 s CPU of compile per task (4 tasks: 84 s CPU, 2.7 GB),
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

# Tasks whose parity was measured (C MuJoCo backend, E x STEPS above, mujoco 3.17.0), and their misses, ours vs real.
REVIEWED: tuple[str, ...] = ()
KNOWN_MISSES: dict[tuple[str, str], str] = {}


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
    # before the hand arrives) it holds the real joint's value: a wrong joint, zero or sign shows here (the range
    # is no check: Meta-World's plate slides pass theirs by up to 0.18 m)
    r = rollouts(task)
    assert r["joint"] is not None, f"{task}: no task joint (Meta-World's: {probes.JOINTS_MT50[task]})"
    real, ours = fixture[task]["joint_q"][:, 0], r["open"]["joint_q"][:, 0]
    np.testing.assert_allclose(ours, real, atol=0.02, err_msg=f"{task}: our {r['joint']!r}")


@pytest.mark.parametrize("target", TARGET_KEYS)
@pytest.mark.parametrize("task", TASKS)
def test_trajectory_parity_target(fixture, rollouts, task, target, request):
    row = tp.metrics({task: rollouts(task)}, fixture)[task]
    if task not in REVIEWED and not row[target]:
        reason = f"parity not reviewed yet: {tp.miss_reason(row, target)}"
        request.applymarker(pytest.mark.xfail(strict=False, reason=reason))
    elif (task, target) in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[(task, target)]))
    assert row[target], {k: v for k, v in row.items() if not k.startswith("ok_")}


if os.environ.get("MTJAX_PARITY_TABLE"):  # MTJAX_PARITY_TABLE=1 pytest ... -s: print the table at the end
    def test_print_table(fixture, rollouts):
        ours = {t: rollouts(t) for t in TASKS}
        print("\n" + tp.format_table(tp.metrics(ours, fixture)))
