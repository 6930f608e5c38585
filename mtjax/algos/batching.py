"""Task-major minibatching of a time-major rollout.

A rollout is ``[H, N, ...]`` with envs in task-major blocks. Every task contributes the same number of samples
to every minibatch so that per-task gradients can be taken with one ``vmap`` over a leading task axis. When
tasks have different env counts (MTBench gives 2,458 envs to some MT10 tasks and 2,457 to others), each task
keeps a random subset of ``S = min_k(n_k) * H`` of its samples per update (a fresh subset every update, so no
sample is systematically dropped); ``S`` is then cut to a multiple of the minibatch count. MTBench shuffles once
per update and reuses that partition in every mini-epoch; so do we.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from mtjax.envs import TaskSet

__all__ = ["TaskMajorLayout"]


@dataclasses.dataclass(frozen=True)
class TaskMajorLayout:
    """Static description of how ``[H, N, ...]`` rollouts are cut into ``[M, T, b, ...]`` minibatches.

    Attributes:
      offsets: first env of each task. counts: envs of each task. horizon: ``H``.
      num_minibatches: ``M``. per_task: ``b``, samples of each task in one minibatch.
    """

    offsets: tuple[int, ...]
    counts: tuple[int, ...]
    horizon: int
    num_minibatches: int
    per_task: int

    @classmethod
    def build(cls, task_set: TaskSet, horizon: int, minibatch_size: int) -> TaskMajorLayout:
        """Derives the layout; ``M = max(1, round(N * H / minibatch_size))`` as in MTBench."""
        total = task_set.num_envs * horizon
        m = max(1, round(total / minibatch_size))
        s = min(task_set.envs_per_task) * horizon
        b = s // m
        if b < 1:
            raise ValueError(
                f"minibatch_size={minibatch_size} gives {m} minibatches but the smallest task has only {s} "
                f"samples per update (envs_per_task={task_set.envs_per_task}, horizon={horizon}); "
                f"use a larger minibatch_size or more envs per task")
        return cls(task_set.offsets, task_set.envs_per_task, horizon, m, b)

    @property
    def num_tasks(self) -> int:
        return len(self.counts)

    @property
    def minibatch_size(self) -> int:
        """Samples actually used per minibatch (``T * b``)."""
        return self.num_tasks * self.per_task

    def minibatches(self, data: dict, key: jax.Array) -> dict:
        """Reshapes ``{name: [H, N, ...]}`` into ``{name: [M, T, b, ...]}`` with a random per-task shuffle."""
        keys = jax.random.split(key, self.num_tasks)
        used = self.num_minibatches * self.per_task
        perms = [jax.random.permutation(keys[k], self.counts[k] * self.horizon)[:used]
                 for k in range(self.num_tasks)]

        def one(x):
            blocks = []
            for k, (o, n) in enumerate(zip(self.offsets, self.counts)):
                blk = jnp.swapaxes(x[:, o:o + n], 0, 1).reshape((n * self.horizon,) + x.shape[2:])
                blocks.append(blk[perms[k]])
            y = jnp.stack(blocks)  # [T, M*b, ...]
            y = y.reshape((self.num_tasks, self.num_minibatches, self.per_task) + x.shape[2:])
            return jnp.swapaxes(y, 0, 1)

        return jax.tree.map(one, data)
