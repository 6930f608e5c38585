"""Our scripted waypoint policies succeed in our MJX scenes (CPU-sized version of the 100-episode check).

CI runs ``E`` = 20 random episodes per task (one per env, in the session's shared MT10 env: fixture ``mt10``) for
``STEPS`` = 160 steps. Threshold per task:
``min(0.9, Meta-World's own scripted rate) - 0.1`` (the 0.1 allows for 20-episode sampling noise: one binomial
standard deviation at p = 0.9 is 0.067). The 100-episode, 500-step numbers against Meta-World's are produced by
``python -m envs_bridge.metaworld.policies --episodes 100`` and recorded in ``benchmarks/README.md`` ("Scripted policies").
"""

import jax
import jax.numpy as jnp
import numpy as np
from metaworld_shared import E, L

from envs_bridge.metaworld import TASKS, policies
from mtjax import envs

STEPS = 160  # steps per episode; below the shared env's episode length L, so no episode auto-resets


def test_policy_actions_shape_and_direction():
    """Hand-made observations: each policy heads for the waypoint its first cascade line names."""
    obs = np.zeros(39, np.float32)
    obs[0:3] = (0.0, 0.6, 0.2)  # hand
    obs[4:7] = (0.1, 0.7, 0.02)  # object far away in xy
    obs[36:39] = (-0.1, 0.85, 0.2)  # goal
    o = jnp.asarray(obs)
    a = np.asarray(policies.POLICIES["reach"](o))  # 5 * (goal - hand) = (-0.5, 1.25, 0), no grab
    np.testing.assert_allclose(a, [-0.5, 1.25, 0.0, 0.0], atol=1e-6)
    a = np.asarray(policies.POLICIES["push"](o))  # hover over the puck: 10 * ((0.095, 0.7, 0.22) - hand)
    np.testing.assert_allclose(a, [0.95, 1.0, 0.2, 0.0], atol=1e-5)
    a = np.asarray(policies.POLICIES["peg-insert-side"](o))  # above the peg, gripper open
    np.testing.assert_allclose(a, [2.5, 2.5, 3.0, -1.0], atol=1e-5)
    batch = jnp.tile(jnp.concatenate([o, jnp.zeros(10)])[None], (10 * 3, 1))
    acts = policies.multitask_policy(envs.TaskSet(TASKS, (3,) * 10))(batch)
    assert acts.shape == (30, 4) and np.all(np.isfinite(np.asarray(acts)))


def test_scripted_policies_reach_success(mt10):
    assert mt10.env.task_set.envs_per_task == (E,) * 10 and STEPS < L
    res = policies.evaluate(mt10.env, jax.random.key(0), STEPS, step_fn=mt10.step, reset_fn=mt10.reset)
    rates = res["success"].reshape(len(TASKS), E).mean(1)
    report = {n: float(r) for n, r in zip(TASKS, rates)}
    print("scripted success over", E, "episodes:", report)
    for name, rate in report.items():
        threshold = min(0.9, policies.REFERENCE_SUCCESS[name]) - 0.1
        assert rate >= threshold, (name, rate, threshold, report)
