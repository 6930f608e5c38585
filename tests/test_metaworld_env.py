"""CPU tests of the Meta-World MT10 MJX env: reset/step of every task, obs layout, one-hot, rewards, success
thresholds, auto-reset, contact slots, initial placements (rand ranges and the fixed seeded variations).

The MT10 env (``E`` envs per task, episode length ``L``) and its jitted reset and step are the session's shared
ones (fixture ``mt10``, ``tests/metaworld_shared.py``), compiled once for all Meta-World test modules.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from metaworld_shared import E, L

from envs_bridge.metaworld import TASKS, MetaWorldEnv, tasks
from envs_bridge.registry import make_env
from mtjax import envs

# Contact slots of every task model (MJX allocates a fixed number per candidate pair: box-box 4, box-plane 4,
# capsule-box 2, capsule-plane 2). reach's puck is scenery; see docs/metaworld_scenes.md ("Scenes") for every pair.
CONTACT_SLOTS = {"reach": 12, "push": 12, "pick-place": 12, "door-open": 14, "drawer-open": 12, "drawer-close": 16,
                 "button-press-topdown": 16, "peg-insert-side": 22, "window-open": 26, "window-close": 42}


@pytest.fixture(scope="module")
def env(mt10):
    assert mt10.env.task_set.envs_per_task == (E,) * 10 and mt10.env.episode_length == L
    return mt10.env


@pytest.fixture(scope="module")
def fns(mt10):
    return mt10.reset, mt10.step  # the session's shared jitted reset and step


@pytest.fixture(scope="module")
def state0(fns):
    return fns[0](jax.random.key(0))


def _block(env, state, name):
    i = env.task_set.task_names.index(name)
    off, n = env.task_set.offsets[i], env.task_set.envs_per_task[i]
    return i, slice(off, off + n), state.sim[i]


def test_contact_slots_pinned_and_only_explicit_pairs(env):
    assert env.contact_slots == CONTACT_SLOTS
    for k in env._tasks:
        assert not np.any(k.mj.geom_contype) and not np.any(k.mj.geom_conaffinity), k.name
        assert k.template._impl.contact.dist.shape[0] == CONTACT_SLOTS[k.name]


def test_reset_obs_layout_and_one_hot(env, state0):
    obs = np.asarray(state0.obs)
    assert obs.shape == (E * 10, 49) and env.obs_size == 49 and env.action_size == 4
    np.testing.assert_array_equal(obs[:, 39:], np.eye(10)[np.repeat(np.arange(10), E)])
    np.testing.assert_array_equal(obs[:, 18:36], obs[:, 0:18])  # previous frame = current at reset
    np.testing.assert_array_equal(obs[:, 11:18], 0.0)  # no second object in MT10
    np.testing.assert_allclose(obs[:, 3], 1.0, atol=0.01)  # fingers open
    for name in TASKS:
        _, sl, blk = _block(env, state0, name)
        spec = tasks.SPECS[name]
        # Meta-World's arm-carried hand rests at (+0.0046, +0.0014, -0.0049) from its mocap (section 1.2)
        rest = np.asarray(spec.hand_init) + (0.0046, 0.0014, -0.0049)
        np.testing.assert_allclose(obs[sl, 0:3], np.broadcast_to(rest, (E, 3)), atol=1e-3)
        goal = np.clip(np.asarray(blk.goal), spec.goal_low, spec.goal_high)
        np.testing.assert_allclose(obs[sl, 36:39], goal, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(state0.task_id), np.repeat(np.arange(10), E))


def test_initial_positions_inside_metaworld_ranges(env, state0):
    for name in TASKS:
        _, _, blk = _block(env, state0, name)
        spec = tasks.SPECS[name]
        lo, hi = np.asarray(spec.rand_low), np.asarray(spec.rand_high)
        obj, goal, anchor = np.asarray(blk.obj_init), np.asarray(blk.goal), np.asarray(blk.anchor)
        if name in ("reach", "pick-place", "push", "peg-insert-side"):
            second = anchor if name == "peg-insert-side" else goal
            assert np.all(obj[:, :2] >= lo[:2] - 1e-6) and np.all(obj[:, :2] <= hi[:2] + 1e-6), name
            assert np.all(second[:, :2] >= lo[3:5] - 1e-6) and np.all(second[:, :2] <= hi[3:5] + 1e-6), name
            if name != "push":  # push replaces z by the settled height (Meta-World does the same)
                assert np.all(second[:, 2] >= lo[5] - 1e-6) and np.all(second[:, 2] <= hi[5] + 1e-6), name
            if spec.min_obj_goal_xy:
                assert np.all(np.linalg.norm(obj[:, :2] - goal[:, :2], axis=-1) >= spec.min_obj_goal_xy), name
            assert len(np.unique(obj[:, 0])) == E  # fresh samples, not one variation
        else:
            assert np.all(anchor >= lo - 1e-6) and np.all(anchor <= hi + 1e-6), name
    spec = tasks.SPECS["reach"]  # the sampler covers the whole box
    rv = np.asarray(jax.vmap(lambda k: tasks.sample_rand_vec(k, spec))(jax.random.split(jax.random.key(1), 4000)))
    lo, hi = np.asarray(spec.rand_low), np.asarray(spec.rand_high)
    span = np.where(hi > lo, hi - lo, 1.0)
    assert np.all(rv >= lo - 1e-6) and np.all(rv <= hi + 1e-6)  # float32 samples of float64 bounds
    assert np.all((rv.min(0) - lo) / span < 0.02) and np.all((hi - rv.max(0)) / span < 0.02)


def test_fixed_mode_reproduces_metaworld_variations():
    env = make_env("mt10", 30, mode="fixed")  # 3 envs per task -> variations 0, 1, 2
    st = jax.jit(env.reset)(jax.random.key(5))
    with open(tasks.RAND_VECS_PATH) as f:
        vecs = json.load(f)["MT10_seed0"]
    offsets = {"door-open": (-0.3, -0.45, 0.0), "drawer-open": (0.0, -0.36, 0.09),
               "drawer-close": (0.0, -0.16, 0.09), "button-press-topdown": (0.0, -0.00008, 0.1),
               "window-open": (0.2, 0.0, 0.0), "window-close": (0.0, 0.0, 0.0)}
    for i, name in enumerate(TASKS):
        blk = st.sim[i]
        for j in range(3):
            rv = np.asarray(vecs[f"{name}-v3"][j])
            goal, obj, anchor = (np.asarray(x[j]) for x in (blk.goal, blk.obj_init, blk.anchor))
            assert int(blk.variation[j]) == j
            if name in ("reach", "pick-place"):
                np.testing.assert_allclose(np.r_[obj, goal], rv, atol=1e-6)
            elif name == "push":
                np.testing.assert_allclose(np.r_[obj[:2], goal[:2]], rv[[0, 1, 3, 4]], atol=1e-6)
            elif name == "peg-insert-side":
                np.testing.assert_allclose(np.r_[obj, anchor], rv, atol=1e-6)
                np.testing.assert_allclose(goal, rv[3:] + (0.03, 0.0, 0.13), atol=1e-6)
            else:
                np.testing.assert_allclose(anchor, rv, atol=1e-6)
                np.testing.assert_allclose(goal, rv + offsets[name], atol=1e-6)
            if name in ("reach", "push", "pick-place"):  # the free puck really is placed there
                a = env.task(name).obj_qpos
                np.testing.assert_allclose(np.asarray(blk.data.qpos[j, a:a + 2]), rv[:2], atol=1e-6, err_msg=name)
            else:  # the fixture body really is placed there
                assert np.min(np.abs(np.asarray(blk.body_pos[j]) - anchor).sum(-1)) < 1e-6, name


def test_steps_rewards_finite_no_initial_success(env, fns, state0):
    _, step = fns
    st = state0
    for t in range(3):
        a = jax.random.uniform(jax.random.key(t), (env.task_set.num_envs, 4), minval=-1, maxval=1)
        st = step(st, a)
        r = np.asarray(st.reward)
        assert np.all(np.isfinite(r)) and np.all(r >= 0) and np.all(r <= 10.0 + 1e-4)
        assert np.all(np.isfinite(np.asarray(st.obs)))
        assert not np.any(np.asarray(st.info["success"]))
        assert not np.any(np.asarray(st.done))
    np.testing.assert_allclose(np.asarray(st.info["unscaled_reward"]), np.asarray(st.reward), rtol=1e-6)


def _set_qpos(blk, adr, value):
    return blk.replace(data=blk.data.replace(qpos=blk.data.qpos.at[:, adr].set(value)))


def test_success_thresholds_behave(env, fns, state0):
    """Puts every task's object into its success region (and one just outside) and steps with zero action."""
    sims = list(state0.sim)
    for i, name in enumerate(TASKS):
        blk, k = sims[i], env._tasks[i]
        half = np.arange(E) < E // 2  # first half: inside the success region, second half: outside
        if k.ids.jnt_qpos >= 0:
            inside, outside = {"door-open": (-1.6, -1.0), "drawer-open": (-0.163, -0.12),
                               "drawer-close": (0.0, -0.06), "button-press-topdown": (-0.09, -0.05),
                               "window-open": (0.2, 0.15), "window-close": (0.0, 0.08)}[name]
            blk = _set_qpos(blk, k.ids.jnt_qpos, jnp.where(half, inside, outside))
        elif name == "reach":  # hand (and its mocap) so that the tcp sits on the goal, or 10 cm away
            target = blk.goal + jnp.where(half[:, None], 0.0, 0.1) + jnp.array([0.0, 0.0, 0.045])
            d = blk.data
            mp = d.mocap_pos.at[:, k.hand_mocap].set(target)
            blk = blk.replace(data=d.replace(qpos=d.qpos.at[:, 0:3].set(target), mocap_pos=mp))
        else:  # free object: put it (peg: its head) at the goal, or 15 cm away
            shift = jnp.array([0.1, 0.0, 0.0]) if name == "peg-insert-side" else jnp.zeros(3)
            pos = blk.goal + shift + jnp.where(half[:, None], 0.0, jnp.array([0.0, -0.15, 0.0]))
            blk = _set_qpos(blk, slice(k.obj_qpos, k.obj_qpos + 3), pos)
        sims[i] = blk
    st = fns[1](state0.replace(sim=tuple(sims)), jnp.zeros((env.task_set.num_envs, 4)))
    succ = np.asarray(st.info["success"]).reshape(10, E)
    for i, name in enumerate(TASKS):
        assert succ[i, : E // 2].all() and not succ[i, E // 2:].any(), (name, succ[i])


def test_auto_reset_at_episode_limit(env, fns, state0):
    sims = tuple(b.replace(t=jnp.full_like(b.t, L - 1)) for b in state0.sim)
    st = fns[1](state0.replace(sim=sims), jnp.ones((env.task_set.num_envs, 4)))
    assert np.all(np.asarray(st.done)) and np.all(np.asarray(st.truncated))
    obs = np.asarray(st.obs)
    np.testing.assert_array_equal(obs[:, 18:36], obs[:, 0:18])  # reset observation returned
    assert all(int(jnp.max(b.t)) == 0 for b in st.sim)
    np.testing.assert_array_equal(np.asarray(st.episode.length), 0)
    np.testing.assert_array_equal(np.asarray(st.info["episode_length"]), 1)
    # the fresh episodes are new samples, not the old ones
    assert not np.allclose(np.asarray(st.sim[0].goal), np.asarray(state0.sim[0].goal))


def test_registry_and_errors():
    single = make_env("reach", 2)
    assert single.obs_size == 40 and single.task_set.task_names == ("reach",)
    with pytest.raises(ValueError, match="mt10"):
        make_env("no-such-env", 2)
    with pytest.raises(ValueError, match="rand, fixed"):
        make_env("mt10", 10, mode="sometimes")
    with pytest.raises(ValueError, match="pick-place"):
        MetaWorldEnv(envs.TaskSet(("pick",), (1,)))
    assert single.task("reach").name == "reach"
    with pytest.raises(ValueError, match="valid: reach"):
        single.task("push")


def test_diverged_envs_end_their_episode_like_c_mujoco_resets(env, fns, state0):
    """A NaN velocity or a position beyond mjMAXVAL (as MJX's elliptic cones produced in box-close with the arm) ends
    only that env's episode, with reward 0 and a fresh, finite state; its neighbours step on untouched."""
    _, step = fns
    bad = {0: (0, jnp.nan), 3: (1, 1e12)}  # task index -> (env in its block, value: NaN velocity, far position)
    sims = list(state0.sim)
    for i, (j, v) in bad.items():
        d = sims[i].data
        d = d.replace(qvel=d.qvel.at[j, 0].set(v)) if np.isnan(v) else d.replace(qpos=d.qpos.at[j, 0].set(v))
        sims[i] = sims[i].replace(data=d)
    a = jnp.zeros((env.task_set.num_envs, 4))
    st = step(state0.replace(sim=tuple(sims)), a)
    ref = step(state0, a)
    flagged = np.zeros(env.task_set.num_envs, bool)
    for i, (j, _) in bad.items():
        flagged[env.task_set.offsets[i] + j] = True
    np.testing.assert_array_equal(np.asarray(st.done), flagged)
    assert np.all(np.asarray(st.reward)[flagged] == 0.0) and np.all(np.isfinite(np.asarray(st.obs)))
    for k, v in st.info.items():
        assert np.all(np.isfinite(np.asarray(v, np.float64))), k
    for i, (j, _) in bad.items():
        assert int(st.sim[i].t[j]) == 0 and np.all(np.isfinite(np.asarray(st.sim[i].data.qvel[j])))
    np.testing.assert_array_equal(np.asarray(st.reward)[~flagged], np.asarray(ref.reward)[~flagged])
    np.testing.assert_array_equal(np.asarray(st.obs)[~flagged], np.asarray(ref.obs)[~flagged])
