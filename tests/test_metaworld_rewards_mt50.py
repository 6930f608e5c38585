"""Parity of the JAX rewards of the 40 non-MT10 MT50 tasks with the real Meta-World 3.1.1.

Reference data: ``tests/fixtures/metaworld/<task>.npz`` for the 40 tasks of ``quantities_mt50.NEW_TASKS``,
recorded by ``scripts/record_metaworld_traces.py --tasks new`` from Meta-World's own ``MT50(seed=0)`` envs: one
variation per task, three episodes (Meta-World's scripted policy, uniform random actions, scripted + noise) of 150
steps (push-back 260), float32. Every quantity the task reads is stored per step, or once per episode under
``const/`` when it never changed.

Tolerance: ``|ours - theirs| <= REL_TOL * max(|theirs|, ABS_FLOOR)`` with REL_TOL = 1e-4, ABS_FLOOR = 1, for the
reward and every info term (rewards and info terms are O(0.01)-O(10); below 1 this is 1e-4 absolute). Why 1e-4:
the inputs are float32 copies of Meta-World's float64 values (relative rounding 2^-24 = 6e-8, i.e. <= 6e-8 m on
coordinates below 1 m) and we compute in float32 (a few ulps per operation, ~1e-6 relative on the output). A
long-tail term 1 / (1 + 9 u^2), u = (x - bound) / margin, moves by at most 0.65 du, and the sharpest terms met
divide a rounded distance by a margin that is itself a difference of rounded coordinates and can be a few mm (the
caging pads: margin | |pad_y - obj_y| - 0.05 |), so 1e-7 m of input rounding can move a [0, 1] term by up to
~3e-5 (2 mm margin), times the task's weight (<= 6 below the override to 10). Measured worst cases 5.3e-5
(peg-unplug-side) and 4.5e-5 (push-wall), both in a caging term with mm-scale pad margins; evaluating the same
float32-rounded inputs in float64 gives our float32 values to 1e-6, so it is storage rounding, not our
arithmetic. All other tasks <= 8.3e-6. A wrong term, constant or
quirk moves rewards by >= 1e-2 (tried: see docs/metaworld_rewards.md). Flags (success, the boolean info terms)
must match exactly (they do on all 18,330 recorded steps).
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs_bridge.metaworld import quantities_mt50 as Q
from envs_bridge.metaworld import rewards as R

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "metaworld")
REL_TOL, ABS_FLOOR = 1e-4, 1.0
INFO_CHECKED = ("near_object", "grasp_success", "grasp_reward", "in_place_reward", "obj_to_target")
DONE = tuple(t for t in Q.NEW_TASKS if t in R.REWARD_FNS)


def _load(task):
    """Stacked quantities [N, ...], Meta-World's outputs [N] and the episode kind of each row."""
    z = np.load(os.path.join(FIXTURES, f"{task}.npz"))
    eps = sorted({k.split("/")[0] for k in z.files if k.startswith("ep")}, key=lambda s: int(s[2:]))
    qs, outs, kinds = [], [], []
    for ep in eps:
        n = len(z[f"{ep}/reward"])
        q = {}
        for k in R.QUANTITIES[task] + R.OPTIONAL_QUANTITIES[task]:
            if f"{ep}/{k}" in z.files:
                q[k] = z[f"{ep}/{k}"]
            else:  # stored once: it never changed within the episode
                const = z[f"{ep}/const/{k}"]
                q[k] = np.broadcast_to(const, (n,) + const.shape)
        qs.append(q)
        outs.append({k: z[f"{ep}/{k}"] for k in ("reward", "success") + INFO_CHECKED})
        kinds.append(np.full(n, str(z[f"{ep}/meta/kind"])))
    q = {k: np.concatenate([e[k] for e in qs]) for k in qs[0]}
    o = {k: np.concatenate([e[k] for e in outs]) for k in outs[0]}
    return q, o, np.concatenate(kinds)


def _max_err(ours, theirs):
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    err = np.abs(ours - theirs) / np.maximum(np.abs(theirs), ABS_FLOOR)
    return float(err.max()), int(np.argmax(err))


@pytest.mark.parametrize("task", DONE)
def test_fixture_parity(task):
    q, o, kinds = _load(task)
    reward, success, info = jax.jit(jax.vmap(R.REWARD_FNS[task]))({k: jnp.asarray(v) for k, v in q.items()})
    err, row = _max_err(reward, o["reward"])
    assert err <= REL_TOL, f"{task} reward: rel err {err:.2e} at row {row} ({reward[row]} vs {o['reward'][row]})"
    mism = np.flatnonzero(np.asarray(success) != (o["success"] > 0))
    assert mism.size == 0, f"{task}: success differs on rows {mism[:10]}"
    for k in INFO_CHECKED:
        err, row = _max_err(info[k], o[k])
        assert err <= REL_TOL, f"{task} info[{k}]: rel err {err:.2e} at row {row} ({info[k][row]} vs {o[k][row]})"
    # The traces can fail the test: success is both true and false (the scripted or noisy episode succeeds).
    assert o["success"][kinds != "random"].any() and not o["success"].all(), task
    assert len(np.unique(np.round(o["reward"], 4))) > 50, task  # rewards vary, not a constant trace


def test_builtin_button_margins_match_recorded():
    """The press margins built in as constants equal every recorded episode's ``_obj_to_target_init``."""
    from envs_bridge.metaworld import task_rewards_mt50_articulated as A

    expected = {
        "button-press": A.BUTTON_Y_OBJ_TO_TARGET_INIT,
        "button-press-wall": A.BUTTON_Y_OBJ_TO_TARGET_INIT,
        "button-press-topdown-wall": R.BUTTON_OBJ_TO_TARGET_INIT,
    }
    for task, value in expected.items():
        z = np.load(os.path.join(FIXTURES, f"{task}.npz"))
        recorded = [z[k] for k in z.files if k.endswith("/const/obj_to_target_init")]
        assert len(recorded) == 3, task
        np.testing.assert_allclose(recorded, value, rtol=1e-7, err_msg=task)  # float32 storage: 6e-8


def test_registry_covers_mt50_and_keeps_mt10():
    from envs_bridge.metaworld import task_rewards

    assert R.MT50_TASK_NAMES == Q.MT50_TASKS and len(set(Q.MT50_TASKS)) == 50
    assert set(R.REWARD_FNS) == set(R.QUANTITIES) == set(R.OPTIONAL_QUANTITIES) == set(Q.MT50_TASKS)
    assert set(Q.NEW_TASKS) == set(Q.MT50_TASKS) - set(R.TASK_NAMES) and len(Q.NEW_TASKS) == 40
    for t in R.TASK_NAMES:  # MT10 untouched: the very same functions
        assert R.REWARD_FNS[t] is task_rewards.REWARD_FNS[t]
    # every recorded file holds exactly the task's quantities (per step or const), no more, no fewer
    for t in Q.NEW_TASKS:
        z = np.load(os.path.join(FIXTURES, f"{t}.npz"))
        stored = {k.split("/")[-1] for k in z.files if k.startswith("ep0/")}
        assert set(R.QUANTITIES[t] + R.OPTIONAL_QUANTITIES[t]) <= stored, t


def _row(task, i=40, optional=True):
    q, _, _ = _load(task)
    keys = R.QUANTITIES[task] + (R.OPTIONAL_QUANTITIES[task] if optional else ())
    return {k: jnp.asarray(q[k][i]) for k in keys}


@pytest.mark.parametrize("task", Q.NEW_TASKS)
def test_reads_exactly_its_quantities(task):
    """Tracing with only QUANTITIES[task] works; dropping any one of them fails (so the table is exact)."""
    row = _row(task, optional=False)
    reward, success, info = jax.eval_shape(R.REWARD_FNS[task], row)
    assert reward.shape == () and reward.dtype == jnp.float32 and success.dtype == jnp.bool_
    assert set(info) == set(R.INFO_KEYS) and all(v.shape == () and v.dtype == jnp.float32 for v in info.values())
    for k in row:
        with pytest.raises(KeyError):
            jax.eval_shape(R.REWARD_FNS[task], {kk: v for kk, v in row.items() if kk != k})


def test_all_new_tasks_stack_under_one_switch():
    """One jit can ``lax.switch`` between the 40 functions (identical output pytrees); values equal eager calls."""
    superset = {}
    rows = {t: _row(t) for t in Q.NEW_TASKS}
    for t in Q.NEW_TASKS:
        for k, v in rows[t].items():
            superset.setdefault(k, v)
    branches = [R.REWARD_FNS[t] for t in Q.NEW_TASKS]
    reward, success, info = jax.jit(jax.vmap(lambda i: jax.lax.switch(i, branches, superset)))(jnp.arange(40))
    for i, t in enumerate(Q.NEW_TASKS):
        r, s, inf = R.REWARD_FNS[t](superset)
        np.testing.assert_allclose(reward[i], r, rtol=1e-6, atol=1e-6, err_msg=t)
        assert bool(success[i]) == bool(s), t
        np.testing.assert_allclose(info["progress"][i], inf["progress"], rtol=1e-6, atol=1e-6, err_msg=t)
    assert np.all(np.asarray(info["progress"]) >= 0) and np.all(np.asarray(info["progress"]) <= 1)


def test_compute_reward_mt50_names_and_optional_touch():
    row = _row("sweep")
    r1, s1, _ = R.compute_reward("sweep-v3", row)
    r2, _, _ = R.compute_reward("sweep", row)
    assert float(r1) == float(r2) and s1.dtype == jnp.bool_
    with pytest.raises(ValueError, match="missing quantities"):
        R.compute_reward("stick-push", {k: v for k, v in _row("stick-push").items() if k != "touching_object"})
    # Without the optional contact flag, grasp_success can only be looser than Meta-World's.
    q, o, _ = _load("pick-place-wall")
    q = {k: jnp.asarray(v) for k, v in q.items() if k != "touching_object"}
    _, _, info = jax.jit(jax.vmap(R.REWARD_FNS["pick-place-wall"]))(q)
    assert (np.asarray(info["grasp_success"]) >= o["grasp_success"]).all()
    assert (np.asarray(info["grasp_success"]) > o["grasp_success"]).any()  # the contact test mattered somewhere
