"""MT50 scenes on MuJoCo Warp: the contact tests of their rewards (``scene_defs.touching``) read Warp's pooled
contacts through ``physics_impl.PairTable`` (per env, one slot per contact pair) instead of MJX-JAX's per-env slots."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs_bridge import physics_impl, registry
from envs_bridge.metaworld import MetaWorldEnv, scene_defs
from envs_bridge.metaworld.policies import multitask_policy
from envs_bridge.metaworld.policies_mt50 import POLICIES_MT50
from mtjax import envs

needs_warp = pytest.mark.skipif(not physics_impl.warp_installed(),
                                reason=f"warp-lang=={physics_impl.WARP_VERSION} not installed (test extra)")


def test_pair_table_turns_the_pool_into_per_env_slots():
    """A hand-made pool of 2 envs over a model with three pairs (geoms 1-2, 3-4, 1-5): per env and pair the smallest
    distance of that pair's entries, either geom order; entries past ``nacon`` and entries of no pair are ignored."""
    lookup = np.full((6, 6), 3, np.int32)
    for p, (a, b) in enumerate([(1, 2), (3, 4), (1, 5)]):
        lookup[a, b] = lookup[b, a] = p
    table = physics_impl.PairTable(np.array([1, 3, 1], np.int32), np.array([2, 4, 5], np.int32), lookup)
    geom = jnp.array([[1, 2], [2, 1], [4, 3], [1, 2], [0, 5], [5, 1], [1, 2]])
    dist = jnp.array([0.01, -0.002, -0.03, 0.5, -0.2, 0.004, -0.9])
    world = jnp.array([0, 0, 1, 1, 1, 1, 0])
    nacon = jnp.array([6])  # the last entry (world 0, pair 0, -0.9) is stale: beyond nacon
    n = 2  # the pool as a vmap over 2 envs returns it: broadcast to every env
    pool = tuple(jnp.broadcast_to(x, (n, *x.shape)) for x in (geom, dist, world, nacon))
    g1, g2, d = table.per_env(pool)
    none = physics_impl.NO_CONTACT
    np.testing.assert_array_equal(g1, [[1, 3, 1], [1, 3, 1]])
    np.testing.assert_array_equal(g2, [[2, 4, 5], [2, 4, 5]])
    np.testing.assert_allclose(d, [[-0.002, none, none], [0.5, -0.03, 0.004]])
    s = type("S", (), {"contact_geom1": g1[1], "contact_geom2": g2[1], "contact_dist": d[1]})
    assert bool(scene_defs.touching(s, 4, 3)) and not bool(scene_defs.touching(s, 1, 2))


def _scripted(tasks, impl: str, steps: int = 150):
    ts = envs.TaskSet(tasks, (4,) * len(tasks))
    env = MetaWorldEnv(ts, episode_length=200, physics_impl=impl)
    act = multitask_policy(ts, POLICIES_MT50)

    @jax.jit
    def roll(key):
        def body(s, _):
            s = env.step(s, act(s.obs))
            return s, (s.info["grasp_success"], s.info["success"])
        return jax.lax.scan(body, env.reset(key), None, length=steps)[1]

    grasp, success = roll(jax.random.key(0))
    return np.asarray(grasp).sum(0), np.asarray(success).sum(0)


@needs_warp
def test_warp_mt50_contact_rewards_follow_mjx_jax():
    """Meta-World's scripted policies on two tasks whose grasp flag needs both pads touching the object (push-back;
    stick-push's success needs it too): steps with the flag on per env agree with MJX-JAX's within 3 of 150 (float
    rounding amplified by contacts; measured: 0-1), and are far from zero (what empty contact slots would give)."""
    tasks = ("push-back", "stick-push")
    grasp_w, success_w = _scripted(tasks, "warp")
    grasp_j, success_j = _scripted(tasks, "jax")
    assert grasp_w.min() > 50 and success_w[4:].min() > 50
    np.testing.assert_allclose(grasp_w, grasp_j, atol=3)
    np.testing.assert_allclose(success_w, success_j, atol=3)


@needs_warp
def test_mt50_registry_steps_one_warp_call_per_skeleton_on_warp():
    # the fifty per-task Warp calls failed in Warp's CUDA-graph capture on the GPU, the groups run (session 23)
    env = registry.make_env("mt50", 50, physics_impl="warp")
    assert env.physics_graphs == 10 and env.physics_impl == "warp"  # 11 skeletons before reach's puck was free
    assert registry.make_env("mt50", 50).physics_graphs == 20  # MJX-JAX keeps the shared graphs
