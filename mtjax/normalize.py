"""Per-task running statistics (MTBench's per-task observation and value normalisers).

MTBench (Joshi et al., 2025, arXiv 2507.23172) keeps one running mean/variance per task
(rl_games ``RunningMeanStd``) and normalises each sample with its own task's statistics. We combine batch
moments with Chan et al.'s parallel update, using the *population* batch variance so that streaming updates
equal the variance of all data seen (rl_games uses the unbiased batch variance; the difference is O(1/n)).
rl_games' ``RunningMeanStd`` starts from mean 0, variance 1 and a count of 1 (one pseudo-sample), normalises with
``sqrt(var + 1e-5)`` and clamps normalised values (and, when de-normalising, its inputs) to [-5, 5]; ``init_stats``
takes the starting count and ``normalize`` / ``denormalize`` take ``eps`` and ``clip`` for that.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

__all__ = ["RunningStats", "denormalize", "init_stats", "normalize", "normalize_head", "update_stats"]


@struct.dataclass
class RunningStats:
    """Running moments per task.

    Attributes:
      mean: ``[T, D]`` running mean.
      var: ``[T, D]`` running (population) variance.
      count: ``[T]`` number of samples seen (plus the starting count).
    """

    mean: jax.Array
    var: jax.Array
    count: jax.Array


def init_stats(num_tasks: int, dim: int, count: float = 1.0) -> RunningStats:
    """Zero mean, unit variance and a starting ``count`` for every task (rl_games: 1)."""
    if count <= 0:
        raise ValueError(f"init_stats: count must be > 0, got {count}")
    return RunningStats(
        mean=jnp.zeros((num_tasks, dim), jnp.float32),
        var=jnp.ones((num_tasks, dim), jnp.float32),
        count=jnp.full((num_tasks,), count, jnp.float32),
    )


def update_stats(stats: RunningStats, x: jax.Array, task_id: jax.Array) -> RunningStats:
    """Adds a task-mixed batch.

    Args:
      stats: current statistics (``T`` tasks, ``D`` dims).
      x: ``[B, D]`` samples.
      task_id: ``[B]`` int task of each sample. Tasks without samples keep their statistics.
    """
    t = stats.mean.shape[0]
    x = x.astype(jnp.float32)
    n = jax.ops.segment_sum(jnp.ones(x.shape[:1], jnp.float32), task_id, num_segments=t)  # [T]
    s1 = jax.ops.segment_sum(x, task_id, num_segments=t)  # [T, D]
    safe_n = jnp.maximum(n, 1.0)[:, None]
    b_mean = s1 / safe_n
    b_m2 = jax.ops.segment_sum(jnp.square(x - b_mean[task_id]), task_id, num_segments=t)  # [T, D]
    tot = stats.count + n
    delta = b_mean - stats.mean
    w = (n / tot)[:, None]
    mean = stats.mean + delta * w
    m2 = stats.var * stats.count[:, None] + b_m2 + jnp.square(delta) * (stats.count * n / tot)[:, None]
    var = m2 / tot[:, None]
    has = (n > 0)[:, None]
    return RunningStats(
        mean=jnp.where(has, mean, stats.mean), var=jnp.where(has, var, stats.var), count=tot
    )


def normalize(stats: RunningStats, x: jax.Array, task_id: jax.Array, eps: float = 1e-8,
              clip: float | None = None) -> jax.Array:
    """``(x - mean[task]) / sqrt(var[task] + eps)`` for ``x [B, D]`` (or ``[B]`` when ``D == 1``), clamped to
    ``[-clip, clip]`` if ``clip`` is given."""
    squeeze = x.ndim == 1
    x2 = x[:, None] if squeeze else x
    y = (x2 - stats.mean[task_id]) / jnp.sqrt(stats.var[task_id] + eps)
    if clip is not None:
        y = jnp.clip(y, -clip, clip)
    return y[:, 0] if squeeze else y


def normalize_head(stats: RunningStats, x: jax.Array, task_id: jax.Array, dims: int, eps: float = 1e-8,
                   clip: float | None = None) -> jax.Array:
    """``normalize`` of the first ``dims`` features of ``x [..., O]``; the rest (a task one-hot) passes through."""
    y = normalize(stats, x[..., :dims], task_id, eps=eps, clip=clip)
    return jnp.concatenate([y, x[..., dims:]], axis=-1)


def denormalize(stats: RunningStats, y: jax.Array, task_id: jax.Array, eps: float = 1e-8,
                clip: float | None = None) -> jax.Array:
    """Inverse of ``normalize``; with ``clip`` the input is first clamped to ``[-clip, clip]`` (rl_games)."""
    squeeze = y.ndim == 1
    y2 = y[:, None] if squeeze else y
    if clip is not None:
        y2 = jnp.clip(y2, -clip, clip)
    x = y2 * jnp.sqrt(stats.var[task_id] + eps) + stats.mean[task_id]
    return x[:, 0] if squeeze else x
