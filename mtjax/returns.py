"""Generalised advantage estimation (Schulman et al., 2016, arXiv 1506.02438), unbatched.

Callers ``jax.vmap`` over environments. ``done[t]`` means the transition at ``t`` ended its episode (the next
observation belongs to a new episode), so nothing is bootstrapped across it; time-outs are handled by the
caller (MTBench adds ``gamma * V(s_t)`` to the reward of a truncated step).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["gae"]


def gae(reward: jax.Array, value: jax.Array, done: jax.Array, last_value: jax.Array,
        gamma: float, lam: float) -> tuple[jax.Array, jax.Array]:
    """Advantages and returns of one trajectory.

    Args:
      reward: ``[H]`` rewards.
      value: ``[H]`` value of the state each action was taken in.
      done: ``[H]`` episode ended after step ``t``.
      last_value: scalar value of the state after the last step.
      gamma: discount.
      lam: GAE lambda.

    Returns:
      ``(advantages [H], returns [H])`` with ``returns = advantages + value``.
    """
    next_value = jnp.concatenate([value[1:], last_value[None]])
    notdone = 1.0 - done.astype(value.dtype)

    def body(carry, xs):
        r, v, nv, nd = xs
        delta = r + gamma * nv * nd - v
        carry = delta + gamma * lam * nd * carry
        return carry, carry

    _, adv = jax.lax.scan(body, jnp.zeros((), value.dtype), (reward, value, next_value, notdone), reverse=True)
    return adv, adv + value
