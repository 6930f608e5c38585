"""PPO loss terms (Schulman et al., 2017, arXiv 1707.06347) as MTBench/rl_games computes them.

Each function returns per-sample values; the caller averages. Hyper-parameters are explicit arguments.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = [
    "bound_loss",
    "clipped_surrogate",
    "clipped_value_loss",
    "gaussian_entropy",
    "gaussian_kl",
    "gaussian_log_prob",
    "rl_games_policy_kl",
    "standardize",
]


def gaussian_log_prob(mu: jax.Array, log_std: jax.Array, action: jax.Array) -> jax.Array:
    """Log density of a diagonal Gaussian, summed over the last axis (``[B, A] -> [B]``)."""
    z = (action - mu) * jnp.exp(-log_std)
    return jnp.sum(-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi), axis=-1)


def gaussian_entropy(log_std: jax.Array) -> jax.Array:
    """Entropy of a diagonal Gaussian with state-independent ``log_std [A]`` (a scalar)."""
    return jnp.sum(log_std + 0.5 * (1.0 + math.log(2 * math.pi)))


def gaussian_kl(mu_old, log_std_old, mu, log_std) -> jax.Array:
    """KL(old || new) of diagonal Gaussians, summed over the last axis (``[B]``)."""
    var_old, var = jnp.exp(2 * log_std_old), jnp.exp(2 * log_std)
    kl = log_std - log_std_old + (var_old + jnp.square(mu_old - mu)) / (2 * var) - 0.5
    return jnp.sum(kl, axis=-1)


def rl_games_policy_kl(mu, log_std, mu_ref, log_std_ref) -> jax.Array:
    """rl_games' ``policy_kl``: KL(current || reference) of diagonal Gaussians with its ``+1e-5`` inside the
    log-ratio, ``sum(log(s_ref / s + 1e-5) + (s^2 + (mu_ref - mu)^2) / (2 s_ref^2) - 1/2)`` over the last axis."""
    s, s_ref = jnp.exp(log_std), jnp.exp(log_std_ref)
    kl = jnp.log(s_ref / s + 1e-5) + (jnp.square(s) + jnp.square(mu_ref - mu)) / (2 * jnp.square(s_ref)) - 0.5
    return jnp.sum(kl, axis=-1)


def clipped_surrogate(log_prob: jax.Array, old_log_prob: jax.Array, adv: jax.Array, clip: float) -> jax.Array:
    """``max(-A r, -A clip(r, 1-eps, 1+eps))`` per sample, ``r = exp(logp - logp_old)``."""
    ratio = jnp.exp(log_prob - old_log_prob)
    return jnp.maximum(-adv * ratio, -adv * jnp.clip(ratio, 1.0 - clip, 1.0 + clip))


def clipped_value_loss(value: jax.Array, old_value: jax.Array, ret: jax.Array, clip: float) -> jax.Array:
    """``max((V-R)^2, (V_old + clip(V-V_old, +-eps) - R)^2)`` per sample (rl_games' clipped critic loss)."""
    clipped = old_value + jnp.clip(value - old_value, -clip, clip)
    return jnp.maximum(jnp.square(value - ret), jnp.square(clipped - ret))


def bound_loss(mu: jax.Array, soft_bound: float = 1.1) -> jax.Array:
    """``sum_i max(mu_i - b, 0)^2 + min(mu_i + b, 0)^2`` per sample (``[B, A] -> [B]``)."""
    return jnp.sum(jnp.square(jnp.maximum(mu - soft_bound, 0.0)) + jnp.square(jnp.minimum(mu + soft_bound, 0.0)),
                   axis=-1)


def standardize(x: jax.Array, eps: float = 1e-8) -> jax.Array:
    """``(x - mean) / (std + eps)`` over all elements."""
    return (x - jnp.mean(x)) / (jnp.std(x) + eps)
