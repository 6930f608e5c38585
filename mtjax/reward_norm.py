"""Per-task reward scaling by the running discounted return (MTBench's ``PerTaskRewardNormalizer``, BRC-style).

MTBench's FastTD3 (Joshi et al., 2025, arXiv 2507.23172; ``isaacgymenvs/learning/mt_models.py``, commit ed2e2b5;
motivated by BRC, Nauman et al., 2025, arXiv 2505.23150) scales each sampled reward of task ``k`` by

    r / (max(std_k(G) + eps, G_max_k / g_max) + eps)

where ``G`` is a running discounted return (``G <- gamma (1 - done) G + r`` after every env step), ``std_k(G)`` the
running standard deviation of task ``k``'s ``G`` values (Chan's parallel update from a count of 0: the first batch
sets mean and population variance; std 1 before any), ``G_max_k`` the running maximum of ``|G|`` and ``g_max`` 10.
The statistics are updated from every env step's raw rewards and dones (warm-up included); the scale is applied
to the rewards of the sampled minibatch (the n-step sums the replay stores), never to what is stored.

**MTBench keeps one ``G`` per task, not per env** (``G`` has shape ``[num_tasks]``): every env of task ``k`` reads
the same ``G_k``, and the per-env results are written back with ``scatter_`` to the same slot, so one env's value
survives (PyTorch leaves which one unspecified). ``return_per="task"`` (the default, parity) keeps that design and
makes the choice definite: the last env of the task in the batch's order. ``return_per="env"`` keeps one ``G`` per
env, the running return each env actually sees (BRC's design; the documented fix). Either way the statistics of
task ``k`` take all of its envs' new ``G`` values.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from mtjax import normalize

__all__ = ["RETURN_PER", "RewardNormState", "init", "scale", "update"]

RETURN_PER = ("task", "env")


@struct.dataclass
class RewardNormState:
    """Attributes:
      ret: running discounted return, ``[T]`` (``per_task``) or ``[N]`` (one per env).
      ret_max: ``[T]`` running maximum of ``|G|`` per task.
      stats: the per-task moments of ``G`` (``normalize.RunningStats`` with ``D = 1``, starting count 0).
      per_task: static; ``return_per == "task"``.
    """

    ret: jax.Array
    ret_max: jax.Array
    stats: normalize.RunningStats
    per_task: bool = struct.field(pytree_node=False, default=True)


def init(num_tasks: int, num_envs: int, return_per: str = "task") -> RewardNormState:
    """Zero returns and maxima; mean 0, variance 1 (std 1) and count 0 per task."""
    if return_per not in RETURN_PER:
        raise ValueError(f"reward_norm return_per must be one of {RETURN_PER}, got {return_per!r}")
    t, per_task = num_tasks, return_per == "task"
    stats = normalize.RunningStats(mean=jnp.zeros((t, 1), jnp.float32), var=jnp.ones((t, 1), jnp.float32),
                                   count=jnp.zeros((t,), jnp.float32))
    return RewardNormState(ret=jnp.zeros((t if per_task else num_envs,), jnp.float32),
                           ret_max=jnp.zeros((t,), jnp.float32), stats=stats, per_task=per_task)


def update(st: RewardNormState, reward: jax.Array, done: jax.Array, task_id: jax.Array,
           gamma: float) -> RewardNormState:
    """One env step of every env: ``reward``, ``done`` and ``task_id`` are ``[N]``."""
    t = st.ret_max.shape[0]
    prev = st.ret[task_id] if st.per_task else st.ret
    new = gamma * (1.0 - done.astype(jnp.float32)) * prev + reward.astype(jnp.float32)
    if st.per_task:  # MTBench's scatter_: one env's value per task survives; here the last env of the task
        last = jax.ops.segment_max(jnp.arange(reward.shape[0]), task_id, num_segments=t)
        ret = jnp.where(last >= 0, new[jnp.clip(last, 0)], st.ret)
    else:
        ret = new
    stats = normalize.update_stats(st.stats, new[:, None], task_id)
    ret_max = jnp.maximum(st.ret_max, jax.ops.segment_max(jnp.abs(new), task_id, num_segments=t))
    return st.replace(ret=ret, ret_max=ret_max, stats=stats)


def scale(st: RewardNormState, reward: jax.Array, task_id: jax.Array, g_max: float = 10.0,
          eps: float = 1e-8) -> jax.Array:
    """``reward / (max(std(G) + eps, G_max / g_max) + eps)`` with the statistics of each sample's task."""
    std = jnp.sqrt(st.stats.var[:, 0])
    denom = jnp.maximum(std + eps, st.ret_max / g_max)
    return reward / (denom[task_id] + eps)
