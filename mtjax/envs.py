"""The functional multi-task environment protocol shared by every mtjax environment.

Environments are *task-major*: a batch of ``N`` environments is cut into contiguous blocks, one block per task
(``TaskSet``), and ``EnvState.task_id[i]`` is the task of env ``i`` (constant for the env's lifetime). JAX
environments are pure: ``reset(key) -> EnvState`` and ``step(state, action) -> EnvState`` are jittable and
auto-reset finished environments *inside* ``step``. The per-env episode statistics needed for MTBench's
success metric (Joshi et al., 2025, arXiv 2507.23172) are tracked here too.

Conventions for ``EnvState`` returned by ``step``:
  * ``reward``, ``done``, ``truncated`` and ``info`` describe the transition just taken;
  * ``obs`` is the observation the policy acts on next, i.e. the *reset* observation where ``done``;
  * ``info["episode_*"]`` hold the statistics of the episode that finished at this step (valid where ``done``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

__all__ = [
    "EPISODE_INFO_KEYS",
    "Env",
    "EnvState",
    "EpisodeStats",
    "TaskSet",
    "init_episode_stats",
    "packed_transition",
    "update_episode_stats",
    "where_done",
]

EPISODE_INFO_KEYS = ("episode_return", "episode_length", "episode_success", "episode_progress")


@dataclasses.dataclass(frozen=True)
class TaskSet:
    """Which tasks a batch holds and how many environments each task gets (task-major layout).

    Attributes:
      task_names: task names, in task-id order.
      envs_per_task: number of environments of each task; env ``i`` belongs to the task whose block holds ``i``.
    """

    task_names: tuple[str, ...]
    envs_per_task: tuple[int, ...]

    def __post_init__(self):
        object.__setattr__(self, "task_names", tuple(self.task_names))
        object.__setattr__(self, "envs_per_task", tuple(int(n) for n in self.envs_per_task))
        if len(self.task_names) != len(self.envs_per_task):
            raise ValueError(
                f"TaskSet: {len(self.task_names)} task names but {len(self.envs_per_task)} env counts"
            )
        if not self.task_names:
            raise ValueError("TaskSet needs at least one task")
        if len(set(self.task_names)) != len(self.task_names):
            raise ValueError(f"TaskSet: duplicate task names in {self.task_names}")
        if min(self.envs_per_task) < 1:
            raise ValueError(f"TaskSet: every task needs >= 1 env, got {self.envs_per_task}")

    @classmethod
    def even(cls, task_names: Sequence[str], num_envs: int) -> TaskSet:
        """Splits ``num_envs`` as evenly as possible; the first ``num_envs % T`` tasks get one more env.

        This is MTBench's split (24,576 envs over MT10 gives 2,458 to the first six tasks and 2,457 to the rest).
        """
        t = len(task_names)
        if num_envs < t:
            raise ValueError(f"num_envs={num_envs} is smaller than the number of tasks ({t})")
        base, extra = divmod(int(num_envs), t)
        return cls(tuple(task_names), tuple(base + (1 if k < extra else 0) for k in range(t)))

    @property
    def num_tasks(self) -> int:
        return len(self.task_names)

    @property
    def num_envs(self) -> int:
        return int(sum(self.envs_per_task))

    @property
    def offsets(self) -> tuple[int, ...]:
        """Index of the first env of each task."""
        return tuple(int(x) for x in np.concatenate([[0], np.cumsum(self.envs_per_task)[:-1]]))

    @property
    def task_ids(self) -> np.ndarray:
        """``[N]`` int32 task id of every env (host array, static)."""
        return np.repeat(np.arange(self.num_tasks, dtype=np.int32), self.envs_per_task)

    def one_hot(self) -> np.ndarray:
        """``[N, T]`` float32 one-hot task encoding of every env."""
        return np.eye(self.num_tasks, dtype=np.float32)[self.task_ids]


@struct.dataclass
class EpisodeStats:
    """Running per-env accumulators of the current episode (all ``[N]``)."""

    ret: jax.Array
    length: jax.Array
    success: jax.Array
    progress: jax.Array


@struct.dataclass
class EnvState:
    """State of a batch of ``N`` environments after reset or a step.

    Attributes:
      obs: ``[N, obs_size]`` float32 observation (task one-hot included, last ``T`` dims, where the env uses one).
      reward: ``[N]`` float32 reward of the last transition.
      done: ``[N]`` bool, the episode ended at the last transition (terminated or truncated).
      truncated: ``[N]`` bool, the episode ended by the time limit (a subset of ``done``).
      task_id: ``[N]`` int32 task of every env, constant.
      info: dict of ``[N]`` arrays: ``success`` (bool), ``progress`` (float) of the last transition and the
        ``EPISODE_INFO_KEYS`` of the episode that just finished (valid where ``done``).
      sim: the simulator state (any pytree).
      episode: running statistics of the current episodes.
      key: the environment's PRNG key (typed), split on every step for resets.
    """

    obs: jax.Array
    reward: jax.Array
    done: jax.Array
    truncated: jax.Array
    task_id: jax.Array
    info: dict[str, jax.Array]
    sim: Any
    episode: EpisodeStats
    key: jax.Array


@runtime_checkable
class Env(Protocol):
    """What a trainer needs from an environment. JAX envs are pure and jittable; bridges may not be."""

    task_set: TaskSet
    obs_size: int
    action_size: int

    @property
    def num_tasks(self) -> int: ...

    def reset(self, key: jax.Array) -> EnvState: ...

    def step(self, state: EnvState, action: jax.Array) -> EnvState: ...


def init_episode_stats(num_envs: int) -> EpisodeStats:
    """Zeroed accumulators for ``num_envs`` fresh episodes."""
    return EpisodeStats(
        ret=jnp.zeros((num_envs,), jnp.float32),
        length=jnp.zeros((num_envs,), jnp.int32),
        success=jnp.zeros((num_envs,), bool),
        progress=jnp.zeros((num_envs,), jnp.float32),
    )


def update_episode_stats(
    stats: EpisodeStats, reward: jax.Array, success: jax.Array, progress: jax.Array, done: jax.Array
) -> tuple[EpisodeStats, dict[str, jax.Array]]:
    """Adds one transition to the accumulators.

    Args:
      stats: accumulators before the transition, ``[N]`` each.
      reward, success, progress, done: the transition's ``[N]`` values.

    Returns:
      The accumulators for the next transition (zeroed where ``done``) and a dict with the
      ``EPISODE_INFO_KEYS`` of the episodes including this transition (meaningful where ``done``).
    """
    ret = stats.ret + reward
    length = stats.length + 1
    ever = stats.success | success
    finished = {
        "episode_return": ret,
        "episode_length": length,
        "episode_success": ever,
        "episode_progress": progress.astype(jnp.float32),
    }
    zero = init_episode_stats(reward.shape[0])
    nxt = where_done(done, zero, EpisodeStats(ret=ret, length=length, success=ever, progress=progress))
    return nxt, finished


def where_done(done: jax.Array, on_done: Any, otherwise: Any) -> Any:
    """Per-env select between two pytrees whose leaves have a leading ``[N]`` axis (the auto-reset primitive)."""

    def sel(a, b):
        mask = jnp.reshape(done, done.shape + (1,) * (a.ndim - done.ndim))
        return jnp.where(mask, a, b)

    return jax.tree.map(sel, on_done, otherwise)


def packed_transition(episode: EpisodeStats, packed: jax.Array, obs_size: int,
                      goal_progress: bool) -> tuple[EpisodeStats, dict]:
    """One transition from a host env's packed row block ``[N, O+5]``: episode accumulators and per-step fields.

    The block is what a host-stepped env's ``step_packed(action)`` returns (the IsaacGym bridge): columns obs
    ``[:O]`` | reward | reset flag | time-out flag | success | progress. ``goal_progress`` (Go1): progress is the
    running maximum of the goal count within the episode. Shared by the bridge's per-step ``finish`` and the
    host-loop trainer's per-iteration scan, so both give the same numbers.
    Returns ``(next accumulators, {"reward", "done", "truncated", "info"})`` with ``[N]`` leaves.
    """
    o = obs_size
    reward, done, trunc = packed[:, o], packed[:, o + 1] > 0.5, packed[:, o + 2] > 0.5
    success, progress = packed[:, o + 3] > 0.5, packed[:, o + 4]
    if goal_progress:  # Go1: running max of the goal count (the env resets inside step)
        progress = jnp.maximum(progress, episode.progress)
    stats, finished = update_episode_stats(episode, reward, success, progress, done)
    info = {"success": success, "progress": progress, **finished}
    return stats, {"reward": reward, "done": done, "truncated": trunc, "info": info}
