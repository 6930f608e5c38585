"""mtjax.metrics: the per-task episode statistics on hand-made batches; IQM and the bootstrap CI by hand."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mtjax import metrics

# H = 3 steps, N = 4 envs; envs 0, 1 run task 0 and envs 2, 3 task 1 (task-major). Values off the done steps are
# garbage (7, -1) that must not enter any statistic.
DONE = np.array([[1, 0, 0, 1],
                 [0, 1, 0, 0],
                 [1, 0, 0, 1]], bool)
TASK_ID = np.array([0, 0, 1, 1])
G = 7.0


def _info(success, ret, length=None, progress=None):
    z = np.zeros(DONE.shape)
    vals = {"success": success, "return": ret, "length": z if length is None else length,
            "progress": z if progress is None else progress}
    return {f"episode_{k}": np.where(DONE, v, G).astype(np.float32) for k, v in vals.items()}


def _run(done, info, fn=metrics.episode_metrics):
    return {k: np.asarray(v) for k, v in fn(jnp.asarray(done), {k: jnp.asarray(v) for k, v in info.items()},
                                            jnp.asarray(TASK_ID), 2).items()}


def test_episode_metrics_by_hand():
    success = np.array([[1, G, G, 1], [G, 0, G, G], [1, G, G, 1]])
    ret = np.array([[10, G, G, 5], [G, 20, G, G], [30, G, G, 7]])
    length = np.array([[150, G, G, 150], [G, 40, G, G], [150, G, G, 150]])
    info = _info(success, ret, length)
    for fn in (metrics.episode_metrics, jax.jit(metrics.episode_metrics, static_argnums=3)):
        m = _run(DONE, info, fn)
        # Task 0 finishes 3 episodes: (t0, e0), (t1, e1), (t2, e0); task 1 finishes 2: (t0, e3), (t2, e3).
        np.testing.assert_array_equal(m["task/episodes"], [3, 2])
        # Success: task 0 (1 + 0 + 1)/3 = 2/3, task 1 (1 + 1)/2 = 1; the headline is the mean over tasks,
        # (2/3 + 1)/2 = 5/6 -- not the mean over the 5 episodes (4/5).
        np.testing.assert_allclose(m["task/success"], [2 / 3, 1.0], rtol=1e-6)
        np.testing.assert_allclose(m["success"], 5 / 6, rtol=1e-6)
        # Return: task 0 (10 + 20 + 30)/3 = 20, task 1 (5 + 7)/2 = 6 -> 13. Length: (150 + 40 + 150)/3, 150.
        np.testing.assert_allclose(m["task/return"], [20.0, 6.0], rtol=1e-6)
        np.testing.assert_allclose(m["return"], 13.0, rtol=1e-6)
        np.testing.assert_allclose(m["task/length"], [340 / 3, 150.0], rtol=1e-6)
        np.testing.assert_allclose(m["progress"], 0.0, atol=0)


def test_level_is_averaged_at_episode_ends_only_when_the_env_reports_it():
    success = np.array([[1, G, G, 1], [G, 0, G, G], [1, G, G, 1]])
    info = _info(success, np.zeros(DONE.shape))
    m = _run(DONE, info)
    assert "level" not in m and "task/level" not in m  # Meta-World: no level column
    # Go1 parkour: info["level"] is the running episode's level at every step; only the done steps count.
    level = np.array([[2, G, G, 9], [G, 4, G, G], [3, G, G, 5]], np.float32)
    m = _run(DONE, {**info, "level": level})
    np.testing.assert_allclose(m["task/level"], [(2 + 4 + 3) / 3, (9 + 5) / 2], rtol=1e-6)  # 3, 7
    np.testing.assert_allclose(m["level"], 5.0, rtol=1e-6)


def test_task_without_episodes_is_nan_and_left_out_of_the_mean():
    done = DONE & (TASK_ID == 0)[None, :]  # only task 0 finishes episodes
    success = np.array([[1, G, G, G], [G, 0, G, G], [0, G, G, G]])
    m = _run(done, _info(success, np.ones(DONE.shape)))
    np.testing.assert_array_equal(m["task/episodes"], [3, 0])
    assert np.isnan(m["task/success"][1]) and np.isnan(m["task/return"][1])
    # The headline is task 0's 1/3 alone (an average with a 0 for task 1 would give 1/6).
    np.testing.assert_allclose(m["success"], 1 / 3, rtol=1e-6)
    m = _run(np.zeros_like(DONE), _info(success, np.ones(DONE.shape)))
    np.testing.assert_array_equal(m["task/episodes"], [0, 0])
    assert np.isnan(m["success"]) and np.isnan(m["task/success"]).all()


def test_flatten_metrics_names_tasks():
    out = metrics.flatten_metrics({"success": np.float32(0.5), "task/success": np.array([0.25, 1.0])},
                                  ("reach", "push"))
    assert out == {"success": 0.5, "task/reach/success": 0.25, "task/push/success": 1.0}


def test_iqm_by_hand():
    # n = 8: drop the 2 lowest and 2 highest, mean of 3, 4, 5, 6 = 4.5 (order does not matter).
    assert metrics.iqm(np.array([8, 1, 7, 2, 6, 3, 5, 4])) == pytest.approx(4.5)
    # n = 5: floor(5/4) = 1 dropped each side -> mean(1, 2, 10) = 13/3; the outlier 100 is ignored.
    assert metrics.iqm([0, 1, 2, 10, 100]) == pytest.approx(13 / 3)
    # Seeds x tasks is flattened: [[0, 1], [1, 1]] -> sorted (0, 1, 1, 1), middle two -> 1.
    assert metrics.iqm(np.array([[0.0, 1.0], [1.0, 1.0]])) == pytest.approx(1.0)
    assert metrics.iqm([0.3]) == pytest.approx(0.3)


def test_iqm_equals_rliable_trimmed_mean():
    # rliable (Agarwal et al., 2021) computes the IQM as scipy.stats.trim_mean(x, 0.25) over the flattened scores.
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for n in range(1, 23):
        x = rng.uniform(size=n)
        assert metrics.iqm(x) == pytest.approx(stats.trim_mean(x, 0.25), abs=1e-12), n


def test_bootstrap_ci_by_hand():
    # x = (0, 0, 0, 1): a resample of 4 holds k ~ Binomial(4, 1/4) ones, mean k/4. P(k = 0) = 0.316 > 2.5 %, so
    # the 2.5 % quantile is 0. P(k = 4) = 1/256 = 0.4 % < 2.5 % <= P(k >= 3) = 5.1 %, so the 97.5 % quantile is
    # 3/4 (with 2,000 resamples the fractions' standard errors, 0.14 % and 0.49 %, are far from the thresholds).
    lo, hi = metrics.bootstrap_ci(np.array([0.0, 0.0, 0.0, 1.0]))
    assert (lo, hi) == (0.0, 0.75)
    # 80 % interval: P(k >= 2) = 26 % > 10 % > P(k >= 3) -> the 90 % quantile is 1/2.
    assert metrics.bootstrap_ci(np.array([0.0, 0.0, 0.0, 1.0]), alpha=0.2) == (0.0, 0.5)
    # Two seeds: means 0 (1/4), 1/2 (1/2), 1 (1/4) -> the 95 % interval is the full (0, 1).
    assert metrics.bootstrap_ci([0.0, 1.0]) == (0.0, 1.0)
    # Identical seeds: no spread.
    assert metrics.bootstrap_ci([0.4, 0.4, 0.4]) == pytest.approx((0.4, 0.4))
    # Another statistic: the max of a resample of (0, 0, 0, 1) is 0 only if all four draws miss the 1, (3/4)^4
    # = 31.6 % (632 +- 21 of 2,000). The 25 % quantile (alpha 0.5) is then 0, the 40 % one (alpha 0.8) is 1.
    assert metrics.bootstrap_ci([0.0, 0.0, 0.0, 1.0], stat=np.max, alpha=0.5) == (0.0, 1.0)
    assert metrics.bootstrap_ci([0.0, 0.0, 0.0, 1.0], stat=np.max, alpha=0.8) == (1.0, 1.0)


def test_bootstrap_ci_is_seeded():
    x = np.random.default_rng(1).uniform(size=7)
    assert metrics.bootstrap_ci(x, seed=3) == metrics.bootstrap_ci(x, seed=3)
    assert metrics.bootstrap_ci(x, seed=3) != metrics.bootstrap_ci(x, seed=4)
    lo, hi = metrics.bootstrap_ci(x)
    assert x.min() <= lo < x.mean() < hi <= x.max()
