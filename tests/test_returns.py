import jax
import jax.numpy as jnp
import numpy as np

from mtjax import returns


def test_gae_hand_worked():
    # gamma = 0.5, lam = 0.5, H = 3, done after step 1 (index 1).
    r = jnp.array([1.0, 2.0, 3.0])
    v = jnp.array([0.5, 1.0, 2.0])
    done = jnp.array([0.0, 1.0, 0.0])
    last = jnp.array(4.0)
    # t=2: delta = 3 + 0.5*4 - 2 = 3;            A2 = 3
    # t=1: delta = 2 + 0 - 1 = 1 (done cuts);    A1 = 1 + 0 = 1
    # t=0: delta = 1 + 0.5*1.0 - 0.5 = 1;        A0 = 1 + 0.25*A1 = 1.25
    adv, ret = returns.gae(r, v, done, last, 0.5, 0.5)
    np.testing.assert_allclose(adv, [1.25, 1.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(ret, [1.75, 2.0, 5.0], rtol=1e-6)


def test_gae_lambda_one_no_done_is_discounted_return_minus_value():
    r = jnp.array([1.0, 1.0, 1.0])
    v = jnp.zeros(3)
    adv, _ = returns.gae(r, v, jnp.zeros(3), jnp.array(10.0), 0.9, 1.0)
    # A0 = 1 + 0.9 + 0.81 + 0.729*10
    np.testing.assert_allclose(adv[0], 1 + 0.9 + 0.81 + 0.729 * 10, rtol=1e-6)


def test_gae_vmaps_over_envs():
    key = jax.random.key(0)
    r = jax.random.normal(key, (5, 3))
    v = jax.random.normal(jax.random.fold_in(key, 1), (5, 3))
    d = jnp.zeros((5, 3)).at[2, 1].set(1.0)
    last = jnp.arange(3.0)
    adv, _ = jax.vmap(returns.gae, in_axes=(1, 1, 1, 0, None, None), out_axes=1)(r, v, d, last, 0.99, 0.95)
    for i in range(3):
        a_i, _ = returns.gae(r[:, i], v[:, i], d[:, i], last[i], 0.99, 0.95)
        np.testing.assert_allclose(adv[:, i], a_i, rtol=1e-6)
