"""Our JAX scripted policies of the 40 MT50 tasks outside MT10 reproduce Meta-World 3.1.1's, step by step.

Fixture ``tests/fixtures/metaworld/policy_actions_mt50.npz`` (``scripts/record_metaworld_trajectories.py
--policy-actions``): per task, one clean scripted episode and one with N(0, 0.5) action noise on xyz (off-path
states), 200 steps each, of ``MT50(seed=0)`` variations 0 and 1; every step's observation rounded to float32 and
Meta-World's scripted action computed *from that rounded observation* (``policy.get_action``, float64 arithmetic,
cast to float32; Meta-World's policies clip nothing, the env clips). Each task runs one jit of the vmapped policy
over all its recorded steps.
"""

import os

import jax
import numpy as np
import pytest

from envs_bridge.metaworld import policies, policies_mt50
from envs_bridge.metaworld.quantities_mt50 import MT50_TASKS, NEW_TASKS

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "metaworld", "policy_actions_mt50.npz")
DATA = dict(np.load(FIXTURE))
TASKS = tuple(policies_mt50.WAYPOINTS_MT50)

# Tolerance. Ours evaluates ``gain * ((obs_object + offset) - obs_hand)`` in float32 on float32 inputs; Meta-World
# the same expression in float64 on the same (float32-representable) inputs, then casts to float32. Positions are
# < 1 in magnitude, so the two float32 roundings of the sum and the difference add < 2 ulp(1) = 2.4e-7 (offsets such
# as 0.1 differ from their float64 values by < 1e-8); times the largest gain, 25, that is 6e-6, plus the final
# float32 rounding of an action of magnitude < 32 (half an ulp, 1.9e-6): < 8e-6. ATOL = 1e-5. A wrong waypoint
# moves an action by gain x its error: 5 x 1 mm = 5e-3 at the smallest gain, 500 times ATOL; a wrong grab
# effort by >= 0.1.
ATOL = 1e-5


@pytest.fixture(scope="module")
def replayed():
    """``{task: (ours [E*S, 4], branch [E*S], theirs [E*S, 4])}`` (one jit per task)."""
    out = {}
    for task in TASKS:
        obs = DATA[f"{task}/obs"].reshape(-1, 39)
        act, branch = jax.jit(jax.vmap(policies_mt50.WAYPOINTS_MT50[task]))(obs)
        out[task] = (np.asarray(act), np.asarray(branch), DATA[f"{task}/action"].reshape(-1, 4))
    return out


def test_registry_covers_mt50_in_order():
    assert set(TASKS) <= set(NEW_TASKS)
    assert tuple(policies_mt50.POLICIES_MT50) == tuple(t for t in MT50_TASKS if t in policies.POLICIES or t in TASKS)
    for name, fn in policies.POLICIES.items():  # the MT10 policies are the very same functions
        assert policies_mt50.POLICIES_MT50[name] is fn


def test_fixture_shapes():
    for task in TASKS:
        obs, act = DATA[f"{task}/obs"], DATA[f"{task}/action"]
        assert obs.dtype == act.dtype == np.float32
        assert obs.shape[:2] == act.shape[:2] and obs.shape[2] == 39 and act.shape[2] == 4, task
        assert obs.shape[0] == 2 and obs.shape[1] >= 150, task


@pytest.mark.parametrize("task", TASKS)
def test_policy_matches_metaworld(task, replayed):
    ours, _, theirs = replayed[task]
    err = np.abs(ours - theirs)
    worst = np.unravel_index(np.argmax(err), err.shape)
    print(f"{task}: max action error {err.max():.2e} over {len(ours)} steps")
    assert err.max() <= ATOL, (task, worst, ours[worst[0]], theirs[worst[0]])


@pytest.mark.parametrize("task", TASKS)
def test_fixture_exercises_several_waypoints(task, replayed):
    """The parity above catches a wrong waypoint only where the fixture visits it: at least two branches of the
    cascade must be taken (most tasks visit all), and Meta-World's actions must vary."""
    _, branch, theirs = replayed[task]
    visited = np.unique(branch)
    print(f"{task}: branches visited {visited.tolist()}")
    assert len(visited) >= 2, (task, visited)
    assert len(np.unique(theirs, axis=0)) >= 10, task  # some final waypoints give a constant action
