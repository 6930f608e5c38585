"""Per-task PopArt value normalisation (van Hasselt et al., 2016, arXiv 1602.07714; multi-task PopArt of
Hessel et al., 2019, arXiv 1809.04474).

A value head with one linear output per task predicts normalised values ``n_k(x) = w_k . h(x) + b_k``; the
unnormalised value is ``sigma_k n_k + mu_k``. "ART" tracks per-task exponential moving moments of the targets,
``mu_k <- (1 - beta) mu_k + beta E_k[G]``, ``nu_k <- (1 - beta) nu_k + beta E_k[G^2]``,
``sigma_k = sqrt(nu_k - mu_k^2)`` (clipped to ``[min_std, max_std]``, Hessel et al.: [1e-4, 1e6]). With
``debias`` the step of a task's ``c``-th update is ``beta / (1 - (1 - beta)^c)`` (Adam's bias correction,
Kingma & Ba, 2015): the first update takes the batch's moments and the ``mu = 0, nu = 1`` start is forgotten. "POP"
rescales the head whenever the statistics move, ``w_k' = w_k sigma_k / sigma_k'`` and
``b_k' = (sigma_k b_k + mu_k - mu_k') / sigma_k'``, so every unnormalised output is preserved exactly.

The head is a flax ``nn.Dense(T)``: its params ``{"kernel": [H, T], "bias": [T]}``, column ``k`` for task ``k``.
Callers pick that sub-dict out of the network's params and put the rescaled one back (MT-PPO's
``value_norm="popart"``: the ``critic_popart`` head of ``mtjax.nets.make_actor_critic(..., popart=True)``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp

__all__ = [
    "PopArtState",
    "denormalize",
    "init_popart",
    "normalize",
    "popart_std",
    "popart_update",
    "rescale_head",
    "update_stats",
]


class PopArtState(NamedTuple):
    """Per-task moving moments of the value targets.

    Attributes:
      mean: ``[T]`` first moment ``mu``.
      second: ``[T]`` second moment ``nu``.
      count: ``[T]`` updates in which the task had samples (drives ``debias``).
    """

    mean: jax.Array
    second: jax.Array
    count: jax.Array


def init_popart(num_tasks: int) -> PopArtState:
    """``mu = 0``, ``nu = 1`` (``sigma = 1``): the head starts as the identity normalisation."""
    if num_tasks < 1:
        raise ValueError(f"init_popart: num_tasks must be >= 1, got {num_tasks}")
    return PopArtState(mean=jnp.zeros((num_tasks,), jnp.float32), second=jnp.ones((num_tasks,), jnp.float32),
                       count=jnp.zeros((num_tasks,), jnp.float32))


def popart_std(state: PopArtState, min_std: float = 1e-4, max_std: float = 1e6) -> jax.Array:
    """``[T]`` ``sigma = clip(sqrt(max(nu - mu^2, 0)), min_std, max_std)``."""
    var = jnp.maximum(state.second - jnp.square(state.mean), 0.0)
    return jnp.clip(jnp.sqrt(var), min_std, max_std)


def update_stats(state: PopArtState, targets: jax.Array, task_id: jax.Array, beta: float,
                 debias: bool = False) -> PopArtState:
    """One ART step with a task-mixed batch; tasks without samples keep their statistics.

    Args:
      state: current moments.
      targets: ``[B]`` unnormalised value targets.
      task_id: ``[B]`` int task of each target.
      beta: step size in ``(0, 1]``.
      debias: use ``beta / (1 - (1 - beta)^c)`` for a task's ``c``-th update (module docstring).
    """
    if not 0.0 < beta <= 1.0:
        raise ValueError(f"popart update_stats: beta must be in (0, 1], got {beta}")
    chex.assert_equal_shape([targets, task_id])
    t = state.mean.shape[0]
    g = targets.astype(jnp.float32)
    n = jax.ops.segment_sum(jnp.ones_like(g), task_id, num_segments=t)
    safe = jnp.maximum(n, 1.0)
    m1 = jax.ops.segment_sum(g, task_id, num_segments=t) / safe
    m2 = jax.ops.segment_sum(jnp.square(g), task_id, num_segments=t) / safe
    has = n > 0
    c = state.count + 1.0
    if debias:  # the first step is exactly 1 (float32's 1 - (1 - beta) is not beta)
        step = jnp.where(c <= 1.0, 1.0, beta / (1.0 - (1.0 - beta) ** c))
    else:
        step = jnp.full_like(state.mean, beta)
    return PopArtState(
        mean=jnp.where(has, (1.0 - step) * state.mean + step * m1, state.mean),
        second=jnp.where(has, (1.0 - step) * state.second + step * m2, state.second),
        count=jnp.where(has, c, state.count),
    )


def rescale_head(head: Any, old: PopArtState, new: PopArtState, min_std: float = 1e-4,
                 max_std: float = 1e6) -> Any:
    """POP: rescales a Dense head's ``{"kernel": [H, T], "bias": [T]}`` so ``sigma n + mu`` is unchanged."""
    t = old.mean.shape[0]
    chex.assert_shape(head["bias"], (t,))
    chex.assert_shape(head["kernel"], (None, t))
    s_old, s_new = popart_std(old, min_std, max_std), popart_std(new, min_std, max_std)
    out = dict(head)
    out["kernel"] = head["kernel"] * (s_old / s_new)[None, :]
    out["bias"] = (s_old * head["bias"] + old.mean - new.mean) / s_new
    return out


def popart_update(head: Any, state: PopArtState, targets: jax.Array, task_id: jax.Array, beta: float,
                  min_std: float = 1e-4, max_std: float = 1e6, debias: bool = False) -> tuple[Any, PopArtState]:
    """ART then POP: new statistics from ``targets [B]`` and the head rescaled to preserve its outputs."""
    new = update_stats(state, targets, task_id, beta, debias)
    return rescale_head(head, state, new, min_std, max_std), new


def normalize(state: PopArtState, value: jax.Array, task_id: jax.Array, min_std: float = 1e-4,
              max_std: float = 1e6) -> jax.Array:
    """``(G - mu_k) / sigma_k`` for ``value [B]`` of tasks ``task_id [B]`` (the normalised regression target)."""
    return (value - state.mean[task_id]) / popart_std(state, min_std, max_std)[task_id]


def denormalize(state: PopArtState, out: jax.Array, task_id: jax.Array | None, min_std: float = 1e-4,
                max_std: float = 1e6) -> jax.Array:
    """``sigma_k n + mu_k``: either ``out [B]`` with ``task_id [B]``, or the full head output ``[B, T]`` when
    ``task_id`` is None (column ``k`` uses task ``k``'s statistics)."""
    sigma = popart_std(state, min_std, max_std)
    if task_id is None:
        return out * sigma[None, :] + state.mean[None, :]
    return out * sigma[task_id] + state.mean[task_id]
