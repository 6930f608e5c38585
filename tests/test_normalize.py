import jax
import jax.numpy as jnp
import numpy as np

from mtjax import normalize


def test_per_task_stats_match_numpy_on_mixed_batches():
    rng = np.random.default_rng(0)
    t, d = 3, 4
    stats = normalize.init_stats(t, d, count=1e-12)
    xs, ids = [], []
    for _ in range(5):
        tid = rng.integers(0, t, size=37)
        x = rng.normal(size=(37, d)) * (tid[:, None] + 1) + tid[:, None] * 3.0
        stats = normalize.update_stats(stats, jnp.asarray(x, jnp.float32), jnp.asarray(tid))
        xs.append(x)
        ids.append(tid)
    x, tid = np.concatenate(xs), np.concatenate(ids)
    for k in range(t):
        np.testing.assert_allclose(stats.mean[k], x[tid == k].mean(0), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(stats.var[k], x[tid == k].var(0), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(stats.count[k], (tid == k).sum(), rtol=1e-6)


def test_task_without_samples_is_unchanged_and_normalize_roundtrips():
    stats = normalize.init_stats(2, 1, count=1e-12)  # (almost) no pseudo-sample: the batch's own moments
    x = jnp.array([[1.0], [3.0]])
    stats = normalize.update_stats(stats, x, jnp.array([0, 0]))
    assert float(stats.mean[1, 0]) == 0.0 and float(stats.var[1, 0]) == 1.0
    y = normalize.normalize(stats, x, jnp.array([0, 0]))
    np.testing.assert_allclose(y[:, 0], [-1.0, 1.0], atol=1e-3)  # mean 2, var 1
    np.testing.assert_allclose(normalize.denormalize(stats, y, jnp.array([0, 0])), x, rtol=1e-5)


def test_normalize_uses_each_samples_own_task():
    stats = normalize.RunningStats(mean=jnp.array([[0.0], [10.0]]), var=jnp.array([[1.0], [4.0]]),
                                   count=jnp.ones(2))
    y = normalize.normalize(stats, jnp.array([10.0, 10.0]), jnp.array([0, 1]))
    np.testing.assert_allclose(y, [10.0, 0.0], atol=1e-6)
    assert jax.jit(normalize.normalize)(stats, jnp.array([12.0]), jnp.array([1]))[0] == 1.0


def test_normalize_head_leaves_the_one_hot_alone():
    stats = normalize.RunningStats(mean=jnp.array([[1.0, 2.0], [0.0, 0.0]]), var=jnp.array([[4.0, 1.0], [1.0, 1.0]]),
                           count=jnp.array([1.0, 1.0]))
    x = jnp.array([[3.0, 0.0, 1.0, 0.0]])  # two features + a 2-task one-hot, task 0
    y = normalize.normalize_head(stats, x, jnp.array([0]), dims=2, eps=0.0)
    # (3 - 1) / 2 = 1, (0 - 2) / 1 = -2; the one-hot columns unchanged
    np.testing.assert_allclose(np.asarray(y), [[1.0, -2.0, 1.0, 0.0]])
