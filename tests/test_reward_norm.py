"""Per-task reward scaling by the running discounted return (mtjax/reward_norm.py, MTBench's
PerTaskRewardNormalizer), on hand-computed steps."""

import jax.numpy as jnp
import numpy as np
import pytest

from mtjax import reward_norm

TASK = jnp.array([0, 0, 1, 1])


def _two_steps(return_per):
    st = reward_norm.init(2, 4, return_per)
    st = reward_norm.update(st, jnp.array([1.0, 2.0, 3.0, 4.0]), jnp.zeros(4), TASK, gamma=0.5)
    return st, reward_norm.update(st, jnp.ones(4), jnp.array([0.0, 1.0, 0.0, 0.0]), TASK, gamma=0.5)


def test_one_return_per_task_as_mtbench():
    # step 1 (G = 0): new G = r = (1, 2 | 3, 4); the task's slot keeps its last env's: G = (2, 4).
    #   task 0 stats from a count of 0: mean 1.5, var 0.25; task 1: mean 3.5, var 0.25; |G| max (2, 4).
    # step 2: every env reads its task's G: task 0 new G = (0.5 * 2 + 1, 0 + 1) = (2, 1) (env 1 done);
    #   task 1: (0.5 * 4 + 1, same) = (3, 3); slots (1, 3).
    #   task 0: batch mean 1.5, var 0.25 -> mean 1.5, var 0.25, count 4;
    #   task 1: batch mean 3, var 0: M2 = 0.25 * 2 + 0 + 0.5^2 * 2 * 2 / 4 = 0.75 -> var 0.1875, mean 3.25.
    st1, st = _two_steps("task")
    np.testing.assert_allclose(st1.ret, [2.0, 4.0])
    np.testing.assert_allclose(st1.stats.mean[:, 0], [1.5, 3.5])
    np.testing.assert_allclose(st1.stats.var[:, 0], [0.25, 0.25])
    np.testing.assert_allclose(st.ret, [1.0, 3.0])
    np.testing.assert_allclose(st.stats.mean[:, 0], [1.5, 3.25])
    np.testing.assert_allclose(st.stats.var[:, 0], [0.25, 0.1875])
    np.testing.assert_allclose(st.stats.count, [4.0, 4.0])
    np.testing.assert_allclose(st.ret_max, [2.0, 4.0])
    # scale: task 0 std 0.5 > 2 / 10 -> r / 0.5; task 1 std sqrt(0.1875) = 0.4330 > 0.4 -> r / 0.4330
    np.testing.assert_allclose(reward_norm.scale(st, jnp.array([1.0, 1.0]), jnp.array([0, 1])),
                               [2.0, 1.0 / np.sqrt(0.1875)], rtol=1e-6)


def test_one_return_per_env():
    # step 2 with per-env G = (1, 2, 3, 4): new G = (0.5 + 1, 0 + 1, 1.5 + 1, 2 + 1) = (1.5, 1, 2.5, 3)
    #   task 0: batch mean 1.25, var 0.0625: delta -0.25, M2 = 0.5 + 0.125 + 0.0625 = 0.6875 -> var 0.171875,
    #   mean 1.375; task 1: batch (2.5, 3) mean 2.75, var 0.0625: delta -0.75, M2 = 0.5 + 0.125 + 0.5625 = 1.1875
    #   -> var 0.296875, mean 3.125.
    _, st = _two_steps("env")
    np.testing.assert_allclose(st.ret, [1.5, 1.0, 2.5, 3.0])
    np.testing.assert_allclose(st.stats.mean[:, 0], [1.375, 3.125])
    np.testing.assert_allclose(st.stats.var[:, 0], [0.171875, 0.296875])


def test_the_return_maximum_bounds_the_scale():
    # std 1 (no update yet) but |G| max 50: denominator max(1, 50 / 10) = 5; with g_max 100: max(1, 0.5) = 1
    st = reward_norm.init(1, 2).replace(ret_max=jnp.array([50.0]))
    np.testing.assert_allclose(reward_norm.scale(st, jnp.array([10.0]), jnp.array([0])), [2.0], rtol=1e-6)
    np.testing.assert_allclose(reward_norm.scale(st, jnp.array([10.0]), jnp.array([0]), g_max=100.0), [10.0],
                               rtol=1e-6)


def test_a_task_without_envs_keeps_its_statistics():
    st = reward_norm.init(3, 2)
    st = reward_norm.update(st, jnp.array([1.0, 3.0]), jnp.zeros(2), jnp.array([0, 2]), gamma=0.9)
    np.testing.assert_allclose(st.ret, [1.0, 0.0, 3.0])
    np.testing.assert_allclose(st.stats.count, [1.0, 0.0, 1.0])
    np.testing.assert_allclose(st.stats.var[:, 0], [0.0, 1.0, 0.0])
    np.testing.assert_allclose(st.ret_max, [1.0, 0.0, 3.0])


def test_bad_mode_names_the_choices():
    with pytest.raises(ValueError, match=r"\('task', 'env'\)"):
        reward_norm.init(2, 4, "agent")
