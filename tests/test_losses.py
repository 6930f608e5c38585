import math

import jax.numpy as jnp
import numpy as np

from mtjax import losses


def test_clipped_surrogate_hand_values():
    # ratio = e^{log 1.5} = 1.5, A = 2: max(-3, -2*1.2) = -2.4 (clipped); A = -2: max(3, 2.4) = 3.
    lp, old = jnp.log(jnp.array([1.5, 1.5])), jnp.zeros(2)
    np.testing.assert_allclose(losses.clipped_surrogate(lp, old, jnp.array([2.0, -2.0]), 0.2), [-2.4, 3.0],
                               rtol=1e-6)


def test_clipped_value_loss_hand_values():
    # V=1.0, V_old=0.5, R=2: unclipped (1-2)^2=1; clipped 0.5+0.2=0.7 -> (0.7-2)^2=1.69; max = 1.69
    np.testing.assert_allclose(losses.clipped_value_loss(jnp.array(1.0), jnp.array(0.5), jnp.array(2.0), 0.2),
                               1.69, rtol=1e-6)
    # V=0.6 inside the clip range: both equal (0.6-2)^2 = 1.96
    np.testing.assert_allclose(losses.clipped_value_loss(jnp.array(0.6), jnp.array(0.5), jnp.array(2.0), 0.2),
                               1.96, rtol=1e-6)


def test_bound_loss_and_entropy_and_logprob():
    # mu = (1.5, -1.2, 0): (1.5-1.1)^2 + (-1.2+1.1)^2 = 0.16 + 0.01
    np.testing.assert_allclose(losses.bound_loss(jnp.array([[1.5, -1.2, 0.0]])), [0.17], rtol=1e-5)
    # log_std = 0 in 2 dims: H = 2 * 0.5 * (1 + log 2 pi)
    np.testing.assert_allclose(losses.gaussian_entropy(jnp.zeros(2)), 1 + math.log(2 * math.pi), rtol=1e-6)
    # standard normal at 0 in 1 dim: -0.5 log 2 pi
    np.testing.assert_allclose(losses.gaussian_log_prob(jnp.zeros((1, 1)), jnp.zeros(1), jnp.zeros((1, 1))),
                               [-0.5 * math.log(2 * math.pi)], rtol=1e-6)


def test_kl_zero_for_equal_and_positive_otherwise():
    mu, ls = jnp.ones((3, 2)), jnp.zeros(2)
    np.testing.assert_allclose(losses.gaussian_kl(mu, ls, mu, ls), 0.0, atol=1e-7)
    # 1-D: KL(N(0,1)||N(1,1)) = 0.5
    np.testing.assert_allclose(losses.gaussian_kl(jnp.zeros((1, 1)), jnp.zeros(1), jnp.ones((1, 1)), jnp.zeros(1)),
                               [0.5], rtol=1e-6)


def test_standardize():
    y = losses.standardize(jnp.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose([float(y.mean()), float(y.std())], [0.0, 1.0], atol=1e-6)
