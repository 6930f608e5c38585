import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs_bridge import registry, toy
from mtjax import envs


def test_taskset_even_split_matches_mtbench():
    ts = envs.TaskSet.even([f"t{k}" for k in range(10)], 24576)
    assert ts.envs_per_task == (2458,) * 6 + (2457,) * 4
    assert ts.num_envs == 24576 and ts.offsets[1] == 2458
    ids = ts.task_ids
    assert ids[0] == 0 and ids[2457] == 0 and ids[2458] == 1 and ids[-1] == 9
    np.testing.assert_array_equal(ts.one_hot().argmax(1), ids)


@pytest.mark.parametrize("bad", [dict(task_names=("a",), envs_per_task=(1, 2)),
                                 dict(task_names=("a", "a"), envs_per_task=(1, 1)),
                                 dict(task_names=("a",), envs_per_task=(0,))])
def test_taskset_rejects_bad_layouts(bad):
    with pytest.raises(ValueError):
        envs.TaskSet(**bad)


def test_unknown_env_lists_valid_names():
    with pytest.raises(ValueError, match="valid names: .*toy"):
        registry.make_env("no-such-env", 4)


def test_toy_env_autoreset_and_episode_stats():
    ts = envs.TaskSet(("a", "b"), (2, 1))
    env = toy.PointReach(ts, episode_length=3)
    s = env.reset(jax.random.key(0))
    assert s.obs.shape == (3, env.obs_size) and env.obs_size == 6
    np.testing.assert_array_equal(s.obs[:, 4:], [[1, 0], [1, 0], [0, 1]])
    step = jax.jit(env.step)
    rewards = []
    for i in range(3):
        s = step(s, jnp.zeros((3, 2)))
        rewards.append(s.reward)
        assert bool(s.done.all()) == (i == 2)
    # At the episode end the stats hold the finished episode; the accumulators restart at zero.
    np.testing.assert_allclose(s.info["episode_return"], np.sum(rewards, 0), rtol=1e-6)
    np.testing.assert_array_equal(s.info["episode_length"], [3, 3, 3])
    assert bool(s.truncated.all()) and int(s.sim.t.max()) == 0 and float(jnp.abs(s.episode.ret).max()) == 0.0


def test_toy_env_success_when_at_goal():
    ts = envs.TaskSet(("a", "b"), (1, 1))
    env = toy.PointReach(ts, episode_length=50, speed=0.1)
    s = env.reset(jax.random.key(1))
    goals = np.array([[1.0, 0.0], [-1.0, 0.0]])
    for _ in range(20):
        a = jnp.clip((goals - np.asarray(s.sim.pos)) / 0.1, -1, 1)
        s = env.step(s, a)
    assert bool(s.info["success"].all())
    assert bool(s.episode.success.all())


def test_where_done_selects_per_env():
    out = envs.where_done(jnp.array([True, False]), {"x": jnp.ones((2, 3))}, {"x": jnp.zeros((2, 3))})
    np.testing.assert_array_equal(out["x"], [[1, 1, 1], [0, 0, 0]])
