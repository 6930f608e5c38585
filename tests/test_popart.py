"""Per-task PopArt (mtjax/popart.py): hand-computed statistics and exact output preservation."""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mtjax import popart

EPS32 = float(np.finfo(np.float32).eps)  # 2^-23


def test_stats_update_and_head_rescale_by_hand():
    # beta = 0.5; task 0 gets targets [2, 4] (E G = 3, E G^2 = (4 + 16) / 2 = 10); task 1 gets none.
    # mu_0' = 0.5 * 0 + 0.5 * 3 = 1.5; nu_0' = 0.5 * 1 + 0.5 * 10 = 5.5; sigma_0' = sqrt(5.5 - 2.25) = sqrt(3.25)
    state = popart.init_popart(2)
    new = popart.update_stats(state, jnp.array([2.0, 4.0]), jnp.array([0, 0]), beta=0.5)
    np.testing.assert_allclose(new.mean, [1.5, 0.0], rtol=1e-6)
    np.testing.assert_allclose(new.second, [5.5, 1.0], rtol=1e-6)
    s = math.sqrt(3.25)
    np.testing.assert_allclose(popart.popart_std(new), [s, 1.0], rtol=1e-6)
    # kernel column 0 scales by sigma / sigma' = 1 / s; bias_0' = (1 * 0.5 + 0 - 1.5) / s = -1 / s.
    # Task 1's statistics did not move: its column is unchanged.
    head = {"kernel": jnp.array([[1.0, 2.0], [3.0, 4.0]]), "bias": jnp.array([0.5, -1.0])}
    out = popart.rescale_head(head, state, new)
    np.testing.assert_allclose(out["kernel"], [[1 / s, 2.0], [3 / s, 4.0]], rtol=1e-6)
    np.testing.assert_allclose(out["bias"], [-1 / s, -1.0], rtol=1e-6)


def test_update_preserves_unnormalised_outputs_of_a_dense_head():
    t, h, b = 3, 16, 32
    k_init, k_x, k_g = jax.random.split(jax.random.key(0), 3)
    dense = nn.Dense(t)
    x = jax.random.normal(k_x, (b, h))
    head = dense.init(k_init, x)["params"]
    head["bias"] = jnp.array([0.3, -0.2, 0.1])
    task_id = jnp.arange(b) % t
    scales = jnp.array([1.0, 50.0, 0.01])
    offsets = jnp.array([0.0, -200.0, 3.0])

    # Tolerance from float32 rounding: y = sigma (w.h + b) + mu. The dot product of H terms is off by at most
    # H eps sum|w h|; rescaling w, b and multiplying by sigma' adds a few eps relative on each term; the adds
    # of mu, mu' a few eps of |mu| + |mu'|. So |after - before| <= (H + 8) eps S, with
    # S = sigma (|w|.|h| + |b|) + |mu| + |mu'| per output, evaluated with the old head and statistics.
    def step(carry, key):
        head, state = carry
        g = offsets[task_id] + scales[task_id] * jax.random.normal(key, (b,))
        before = popart.denormalize(state, dense.apply({"params": head}, x), None)
        new_head, new_state = popart.popart_update(head, state, g, task_id, beta=0.3)
        after = popart.denormalize(new_state, dense.apply({"params": new_head}, x), None)
        scale = (popart.popart_std(state) * (jnp.abs(x) @ jnp.abs(head["kernel"]) + jnp.abs(head["bias"]))
                 + jnp.abs(state.mean) + jnp.abs(new_state.mean))
        ratio = jnp.max(jnp.abs(after - before) / ((h + 8) * EPS32 * scale))
        return (new_head, new_state), ratio

    run = jax.jit(lambda c, k: jax.lax.scan(step, c, jax.random.split(k, 5)))
    (_, final), ratios = run((head, popart.init_popart(t)), k_g)
    assert float(popart.popart_std(final)[1]) > 10.0  # the statistics really moved (task 1: sigma 1 -> tens)
    assert float(jnp.max(ratios)) <= 1.0, ratios


def test_normalize_roundtrip_and_validation():
    state = popart.PopArtState(mean=jnp.array([1.0, -2.0]), second=jnp.array([5.0, 13.0]),
                               count=jnp.zeros(2))  # sigma = [2, 3]
    g, tid = jnp.array([5.0, 1.0]), jnp.array([0, 1])
    n = popart.normalize(state, g, tid)
    np.testing.assert_allclose(n, [2.0, 1.0], rtol=1e-6)  # (5 - 1) / 2, (1 + 2) / 3
    np.testing.assert_allclose(popart.denormalize(state, n, tid), g, rtol=1e-6)
    with pytest.raises(ValueError):
        popart.update_stats(state, g, tid, beta=0.0)
    with pytest.raises(ValueError):
        popart.init_popart(0)
    with pytest.raises(AssertionError):  # a head with one output cannot hold two tasks
        popart.rescale_head({"kernel": jnp.ones((4, 1)), "bias": jnp.ones(1)}, state, state)


def test_debiased_steps_by_hand():
    # beta = 0.1 with the bias correction: the c-th update of a task steps by 0.1 / (1 - 0.9^c).
    # Update 1 (c = 1): step 0.1 / 0.1 = 1, so task 0 takes the batch's moments: targets [2, 4] -> mu = 3,
    # nu = 10 (sigma = 1); task 1 has no sample and keeps mu = 0, nu = 1, count 0.
    # Update 2 (c = 2): step 0.1 / (1 - 0.81) = 10 / 19; target [6] -> mu = 3 + (10/19)(6 - 3) = 87/19,
    # nu = 10 + (10/19)(36 - 10) = 450/19. Without the correction update 1 would give mu = 0.3, nu = 1.9.
    state = popart.init_popart(2)
    one = popart.update_stats(state, jnp.array([2.0, 4.0]), jnp.array([0, 0]), beta=0.1, debias=True)
    np.testing.assert_allclose(one.mean, [3.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(one.second, [10.0, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(one.count, [1.0, 0.0])
    two = popart.update_stats(one, jnp.array([6.0]), jnp.array([0]), beta=0.1, debias=True)
    np.testing.assert_allclose(two.mean, [87 / 19, 0.0], rtol=1e-6)
    np.testing.assert_allclose(two.second, [450 / 19, 1.0], rtol=1e-6)
    plain = popart.update_stats(state, jnp.array([2.0, 4.0]), jnp.array([0, 0]), beta=0.1)
    np.testing.assert_allclose(plain.mean, [0.3, 0.0], rtol=1e-6)
    np.testing.assert_allclose(plain.second, [1.9, 1.0], rtol=1e-6)
