"""Our JAX scripted policies of the 50 MT50 tasks reproduce Meta-World 3.1.1's, step by step.

The 40 outside MT10 (``policies_mt50_*.py``) match on every row, and every waypoint of their cascades is reached
on some row. The MT10 ten (``policies.py``) are replayed through the same lookup and match too (push's grab test
reads the puck itself since this fixture showed it: ``test_mt10_push_grabs_on_the_puck_itself``).

Fixture ``tests/fixtures/metaworld/policy_actions_mt50.npz`` (``scripts/record_metaworld_trajectories.py
--policy-actions``): per task, one clean scripted episode and one with N(0, 0.5) action noise on xyz (off-path
states), 200 steps each, of ``MT50(seed=0)`` variations 0 and 1; every step's observation rounded to float32 and
Meta-World's scripted action computed *from that rounded observation* (``policy.get_action``, float64 arithmetic,
cast to float32; Meta-World's policies clip nothing, the env clips). Five tasks whose episodes never reach some
waypoint add ``probe_obs``/``probe_action``: Meta-World's actions on recorded observations with the hand or an
object placed by hand (the recorder's ``PROBES``). Each task runs one jit of the vmapped policy over all its rows.
"""

import os

import jax
import numpy as np
import pytest

from envs_bridge.metaworld import policies, policies_mt50
from envs_bridge.metaworld.quantities_mt50 import MT50_TASKS, NEW_TASKS
from mtjax import envs

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "metaworld", "policy_actions_mt50.npz")
DATA = dict(np.load(FIXTURE))
TASKS = tuple(policies_mt50.WAYPOINTS_MT50)  # the 40 outside MT10
MT10_DEVIATIONS: dict[str, str] = {}  # none since push's grab test reads the puck (was 16 of 400 rows off)

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
    """``{task: (ours [R, 4], branch [R] (-1 for MT10), theirs [R, 4])}`` over all rows (one jit per task)."""
    out = {}
    for task in MT50_TASKS:
        obs, theirs = DATA[f"{task}/obs"].reshape(-1, 39), DATA[f"{task}/action"].reshape(-1, 4)
        if f"{task}/probe_obs" in DATA:
            obs = np.concatenate([obs, DATA[f"{task}/probe_obs"]])
            theirs = np.concatenate([theirs, DATA[f"{task}/probe_action"]])
        if task in policies_mt50.WAYPOINTS_MT50:
            act, branch = jax.jit(jax.vmap(policies_mt50.WAYPOINTS_MT50[task]))(obs)
        else:
            act, branch = jax.jit(jax.vmap(policies_mt50.POLICIES_MT50[task]))(obs), np.full(len(obs), -1)
        out[task] = (np.asarray(act), np.asarray(branch), theirs)
    return out


def test_registry_covers_mt50_in_order():
    assert sorted(TASKS) == sorted(NEW_TASKS)
    assert tuple(policies_mt50.POLICIES_MT50) == MT50_TASKS
    for name, fn in policies.POLICIES.items():  # the MT10 policies are the very same functions
        assert policies_mt50.POLICIES_MT50[name] is fn


def test_multitask_policy_mixes_mt10_and_new_tasks():
    """Task-major blocks of a mixed task set each get their own task's policy (MT10 or new)."""
    names, n = ("reach", "assembly", "soccer"), 3
    obs = np.concatenate([DATA[f"{t}/obs"][1, :n] for t in ("assembly", "assembly", "soccer")])
    obs = np.concatenate([obs, np.zeros((len(obs), 5), np.float32)], axis=1)  # extra columns are ignored
    acts = np.asarray(policies_mt50.multitask_policy(envs.TaskSet(names, (n,) * 3))(obs))
    for i, t in enumerate(names):
        want = np.stack([np.asarray(policies_mt50.POLICIES_MT50[t](o[:39])) for o in obs[i * n:(i + 1) * n]])
        np.testing.assert_allclose(acts[i * n:(i + 1) * n], want, rtol=0, atol=1e-6)  # vmapped vs single: fusion
    np.testing.assert_allclose(acts[n:2 * n], DATA["assembly/action"][1, :n], atol=ATOL)


def test_fixture_shapes():
    assert {k.split("/")[0] for k in DATA if "/" in k} == set(MT50_TASKS)
    for task in MT50_TASKS:
        obs, act = DATA[f"{task}/obs"], DATA[f"{task}/action"]
        assert obs.dtype == act.dtype == np.float32
        assert obs.shape[:2] == act.shape[:2] and obs.shape[2] == 39 and act.shape[2] == 4, task
        assert obs.shape[0] == 2 and obs.shape[1] >= 150, task


@pytest.mark.parametrize("task", [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=MT10_DEVIATIONS[t])) if t in MT10_DEVIATIONS else t
    for t in MT50_TASKS
])
def test_policy_matches_metaworld(task, replayed):
    ours, _, theirs = replayed[task]
    err = np.abs(ours - theirs)
    worst = np.unravel_index(np.argmax(err), err.shape)
    print(f"{task}: max action error {err.max():.2e} over {len(ours)} rows")
    assert err.max() <= ATOL, (task, worst, ours[worst[0]], theirs[worst[0]])


# Waypoints in each task's cascade (Meta-World's if/elif chain; docs/metaworld_policies.md). The episodes reach
# all but six, which the probes reach: the hand never starts behind the closed door (door-close 0, 1); the lock
# lever is pressed before the hand gets within 2 cm of its height (door-lock 3); the held stick stays > 4 cm from
# the thermos in x (stick-push 5); the hand reaches the plate at y < 0.7 (plate-slide-back 2); the ball rolls on
# before the hand gets within 1 cm of its push point (soccer 3).
BRANCHES = {
    "assembly": 5, "basketball": 4, "bin-picking": 5, "box-close": 4, "coffee-pull": 3, "coffee-push": 3,
    "disassemble": 3, "hammer": 4, "hand-insert": 4, "pick-place-wall": 6, "pick-out-of-hole": 4,
    "peg-unplug-side": 3, "shelf-place": 5, "stick-push": 6, "stick-pull": 6, "button-press-topdown-wall": 2,
    "button-press": 2, "button-press-wall": 4, "coffee-button": 2, "dial-turn": 3, "door-close": 4, "door-lock": 4,
    "door-unlock": 3, "faucet-open": 3, "faucet-close": 3, "handle-press-side": 2, "handle-press": 2,
    "handle-pull-side": 3, "handle-pull": 3, "lever-pull": 3, "plate-slide": 3, "plate-slide-side": 4,
    "plate-slide-back": 5, "plate-slide-back-side": 3, "soccer": 4, "push-wall": 5, "push-back": 3,
    "reach-wall": 2, "sweep-into": 3, "sweep": 3,
}


def test_mt10_push_grabs_on_the_puck_itself(replayed):
    """Meta-World's push grabs (0.6) when the hand is within 2 cm (xy) and 10 cm (z) of the puck itself, not of the
    waypoint reference 5 mm to its -x side (our earlier rule): the fixture holds rows where the two rules differ,
    and ours follows Meta-World's on every row."""
    ours, _, theirs = replayed["push"]
    obs = DATA["push/obs"].reshape(-1, 39)
    hand, puck = obs[:, 0:3], obs[:, 4:7]
    ref = puck - np.array([0.005, 0.0, 0.0], np.float32)

    def near(p):
        return (np.linalg.norm(hand[:, :2] - p[:, :2], axis=1) <= 0.02) & (np.abs(hand[:, 2] - p[:, 2]) <= 0.10)

    np.testing.assert_array_equal(theirs[:len(obs), 3], np.where(near(puck), 0.6, 0.0).astype(np.float32))
    assert np.sum(near(puck) != near(ref)) > 0  # rows that tell the two rules apart (16 of 400)
    np.testing.assert_array_equal(ours[:len(obs), 3], theirs[:len(obs), 3])


def test_branch_table_covers_the_40():
    assert set(BRANCHES) == set(NEW_TASKS)


@pytest.mark.parametrize("task", TASKS)
def test_fixture_exercises_the_waypoints(task, replayed):
    """The parity above catches a wrong waypoint (or grab effort) wherever the fixture visits it: every branch of
    every cascade is taken on some recorded row, and no branch index lies outside the cascade."""
    _, branch, theirs = replayed[task]
    visited = set(np.unique(branch).tolist())
    print(f"{task}: branches visited {sorted(visited)} of {BRANCHES[task]}")
    assert visited == set(range(BRANCHES[task])), (task, visited)
    assert len(np.unique(theirs, axis=0)) >= 10, task  # some final waypoints give a constant action
