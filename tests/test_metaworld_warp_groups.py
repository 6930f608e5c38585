"""Shared physics groups on MuJoCo Warp (``envs_bridge/metaworld/warp_groups.py``): the padded tasks of one skeleton
stepped by one Warp call over all their envs agree with each task stepped by its own Warp call."""

import jax
import numpy as np
import pytest

from envs_bridge import physics_impl
from envs_bridge.metaworld import ARM_PHYSICS, MetaWorldEnv, warp_groups
from envs_bridge.metaworld.policies import multitask_policy
from envs_bridge.metaworld.policies_mt50 import POLICIES_MT50
from mtjax import envs

pytestmark = pytest.mark.skipif(not physics_impl.warp_installed(),
                                reason=f"warp-lang=={physics_impl.WARP_VERSION} not installed (test extra)")

ARM_GROUP = ("push", "pick-place", "peg-insert-side")  # one group of MT10's arm plan: free objects on the table
COUNTS = (2, 3, 2)  # unequal: the group's envs are concatenated, not padded to equal counts


def _arm_rollout(graphs, steps: int = 6, ignore_own_fields: bool = False):
    env = MetaWorldEnv(envs.TaskSet(ARM_GROUP, COUNTS), **ARM_PHYSICS, physics_impl="warp", physics_graphs=graphs)
    if ignore_own_fields:  # every env steps the first member's model (what a broken gather would do)
        for wg in env._groups.warp.values():
            wg._per_env = []
    acts = jax.random.uniform(jax.random.key(1), (steps, env.task_set.num_envs, 4), minval=-1.0, maxval=1.0)

    @jax.jit
    def roll(state):
        def body(s, a):
            s = env.step(s, a)
            return s, (s.obs, s.reward, s.info["success"], s.sim[1].data.qpos)
        return jax.lax.scan(body, state, acts)[1]

    return env, jax.tree.map(np.asarray, roll(env.reset(jax.random.key(0))))  # obs, reward, success, pick-place's qpos


@pytest.fixture(scope="module")
def own():
    return _arm_rollout(None)[1]


def test_warp_group_steps_as_each_task_on_its_own(own):
    """push, pick-place and peg-insert-side on the arm (4 x 3.125 ms, Newton 4 + 4; objects resting on the table,
    peg's box pairs), random actions, 6 control steps from the same reset: one Warp call for the group's 7 envs
    (padded scenes, per-env model leaves) against one Warp call per task (own scenes). Measured on the CPU: equal
    to the bit (Warp computes each world alone and padding pairs make no contact). Allowed: what reordered sums
    could give (the padded scene renumbers geoms and pairs; on the GPU the pool's order follows atomics), float32
    rounding (eps 1.2e-7 x O(1) m) amplified by the contact solve, bounded as Warp against MJX-JAX
    (``test_metaworld_warp.py``: 2.4e-7 after one step, mm over 12)."""
    env, (obs, reward, success, _) = _arm_rollout(1)
    assert env.physics_graphs == 1 and len(env._groups.warp) == 1
    assert {"geom_size", "body_mass", "geom_rbound"} <= set(env._groups.warp[0].per_env)
    d_obs, d_rew = np.abs(obs - own[0]).max(axis=(1, 2)), np.abs(reward - own[1]).max(axis=1)
    assert np.isfinite(obs).all() and np.abs(own[3][-1] - own[3][0]).max() > 1e-2  # the arm moved
    assert d_obs[0] < 1e-4 and d_obs.max() < 1e-3, d_obs
    assert d_rew.max() < 1e-2, d_rew
    np.testing.assert_array_equal(success, own[2])


def test_warp_group_reads_each_members_own_model(own):
    """The same rollout with every env stepping the first member's model leaves (push's puck for all) puts
    peg-insert-side's envs on other trajectories (measured: 0.03 in the obs; pick-place's puck is push's, 0): the
    agreement above needs the per-env gather."""
    _, (obs, _, _, _) = _arm_rollout(1, ignore_own_fields=True)
    off = np.abs(obs - own[0]).max(axis=(0, 2))
    n_push, n_pick, _ = COUNTS
    assert off[:n_push + n_pick].max() < 1e-6, off  # push's model is also pick-place's (same puck)
    assert off[n_push + n_pick:].min() > 1e-2, off  # the peg is not a puck


def test_warp_group_refuses_a_field_warp_takes_once(monkeypatch):
    """Members that differ in a field MJX hands Warp once for all worlds are refused, naming it (every field our
    scenes vary is batchable in mujoco-mjx 3.17.0, so the table is patched to say geom_size is not)."""
    env = MetaWorldEnv(envs.TaskSet(ARM_GROUP, (1, 1, 1)), **ARM_PHYSICS, physics_impl="warp", physics_graphs=1)
    ndim, batchable = warp_groups._warp_maps()
    monkeypatch.setattr(warp_groups, "_warp_maps", lambda: (ndim, {**batchable, "geom_size": False}))
    wg = env._groups.warp[0]
    with pytest.raises(ValueError, match="geom_size"):
        warp_groups.WarpGroup(wg.group, wg.counts, env.task(ARM_GROUP[0]).mj, pairs=False)


def _grasp(graphs, steps: int):
    tasks = ("stick-push", "stick-pull")  # one skeleton (MT50's floating plan groups exactly these two)
    ts = envs.TaskSet(tasks, (3, 3))
    env = MetaWorldEnv(ts, episode_length=200, physics_impl="warp", physics_graphs=graphs)
    act = multitask_policy(ts, POLICIES_MT50)

    @jax.jit
    def roll(key):
        def body(s, _):
            s = env.step(s, act(s.obs))
            return s, s.info["grasp_success"]
        return jax.lax.scan(body, env.reset(key), None, length=steps)[1]

    return env, np.asarray(roll(jax.random.key(0)))


def test_warp_group_contact_rewards_follow_per_task_warp():
    """stick-push's grasp flag needs both pads touching the stick (``scene_defs.touching`` on the pool through the
    group's ``PairTable``): with the two stick tasks in one Warp call, the steps with the flag on per env agree with
    per-task Warp's (measured: equal, 47-56 of 80 steps on stick-push's envs) and are far from zero (what empty contact slots would give)."""
    env, grasp_g = _grasp(1, 80)
    assert env.physics_graphs == 1 and env._groups.warp[0].pairs is not None
    _, grasp_t = _grasp(None, 80)
    g, t = grasp_g.sum(0), grasp_t.sum(0)
    assert t[:3].min() > 10
    np.testing.assert_allclose(g, t, atol=3)
