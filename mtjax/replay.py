"""Device-resident FIFO replay and an n-step accumulator for off-policy multi-task RL.

The replay is the uniform FIFO experience replay of DQN (Mnih et al., 2015, Nature 518:529) as MTBench uses it
for MT-SAC and FastTD3 (Joshi et al., 2025, arXiv 2507.23172): every environment step adds one transition per
env, the oldest transitions are overwritten, and minibatches are drawn uniformly from the filled part. The
n-step accumulator turns single steps into n-step transitions (Sutton, 1988; Hessel et al., 2018, arXiv
1710.02298) truncated at episode ends. Why this is our own buffer and not flashbax: ``docs/offpolicy.md``.

Layout. Storage is row-major: ``[R, N, ...]`` for ``N`` envs per add and ``R = capacity // N`` rows, so one add
writes one row in place (``lax.dynamic_update_slice``) and slot ``(row, i)`` always holds env ``i``. That makes
per-task stratified sampling exact for task-major batches (``mtjax.envs.TaskSet``). A capacity that is not a
multiple of ``N`` is rounded down (MTBench's 5 M with 4,096 envs keeps 4,997,120 transitions).

All functions are pure and jittable; states are pytrees, so they checkpoint with the rest of the train state.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

__all__ = [
    "NStepState",
    "ReplayState",
    "Transition",
    "add",
    "init_nstep",
    "init_replay",
    "nbytes",
    "nstep_push",
    "num_transitions",
    "sample",
    "sample_per_task",
]


# ----------------------------------------------------------------------------------------------------------
# FIFO replay
# ----------------------------------------------------------------------------------------------------------


@struct.dataclass
class ReplayState:
    """A FIFO circular buffer of ``R`` rows of ``N`` transitions.

    Attributes:
      data: pytree whose every leaf is ``[R, N, ...]``.
      insert: int32 scalar, the row the next add writes.
      filled: int32 scalar, number of rows holding data (saturates at ``R``).
    """

    data: Any
    insert: jax.Array
    filled: jax.Array


def init_replay(example: Any, capacity: int) -> ReplayState:
    """An empty buffer shaped like ``example``.

    Args:
      example: pytree of one add's batch, every leaf ``[N, ...]`` (values are ignored; shapes and dtypes used).
      capacity: maximum number of transitions; rounded down to a multiple of ``N``.

    Raises:
      ValueError: leaves disagree on ``N``, or ``capacity < N``.
    """
    leaves = jax.tree.leaves(example)
    if not leaves:
        raise ValueError("init_replay: example has no leaves")
    n = leaves[0].shape[0]
    if any(x.ndim == 0 or x.shape[0] != n for x in leaves):
        raise ValueError(f"init_replay: every leaf needs the same leading N, got {[x.shape for x in leaves]}")
    if capacity < n:
        raise ValueError(f"init_replay: capacity {capacity} is smaller than one add of N={n} transitions")
    rows = capacity // n
    data = jax.tree.map(lambda x: jnp.zeros((rows,) + tuple(x.shape), x.dtype), example)
    return ReplayState(data=data, insert=jnp.zeros((), jnp.int32), filled=jnp.zeros((), jnp.int32))


def _rows(state: ReplayState) -> int:
    return jax.tree.leaves(state.data)[0].shape[0]


def add(state: ReplayState, batch: Any, valid: jax.Array | bool = True) -> ReplayState:
    """Writes one batch ``[N, ...]`` over the oldest row.

    Args:
      state: the buffer.
      batch: pytree like the ``example`` given to ``init_replay``.
      valid: scalar bool; when False the buffer is returned unchanged (e.g. while the n-step accumulator warms
        up). Only one row is read and rewritten either way, never the whole buffer.
    """
    chex.assert_trees_all_equal_shapes_and_dtypes(batch, jax.tree.map(lambda x: x[0], state.data))
    valid = jnp.asarray(valid, bool)
    i = state.insert

    def write(buf, x):
        old = jax.lax.dynamic_index_in_dim(buf, i, axis=0, keepdims=False)
        return jax.lax.dynamic_update_index_in_dim(buf, jnp.where(valid, x, old), i, axis=0)

    rows = _rows(state)
    step = valid.astype(jnp.int32)
    return ReplayState(
        data=jax.tree.map(write, state.data, batch),
        insert=(i + step) % rows,
        filled=jnp.minimum(state.filled + step, rows),
    )


def num_transitions(state: ReplayState) -> jax.Array:
    """Number of stored transitions (int32 scalar)."""
    n = jax.tree.leaves(state.data)[0].shape[1]
    return state.filled * n


def _gather(state: ReplayState, row: jax.Array, env: jax.Array) -> Any:
    return jax.tree.map(lambda x: x[row, env], state.data)


def sample(state: ReplayState, key: jax.Array, batch_size: int) -> Any:
    """Uniform sample with replacement from the filled rows (MTBench's ``randint(cur_capacity)``).

    Returns:
      pytree with leaves ``[batch_size, ...]``. An empty buffer returns row 0 (zeros): check
      ``num_transitions`` first.
    """
    n = jax.tree.leaves(state.data)[0].shape[1]
    k_row, k_env = jax.random.split(key)
    row = jax.random.randint(k_row, (batch_size,), 0, jnp.maximum(state.filled, 1))
    env = jax.random.randint(k_env, (batch_size,), 0, n)
    return _gather(state, row, env)


def sample_per_task(state: ReplayState, key: jax.Array, per_task: int, task_id: jax.Array | np.ndarray,
                    num_tasks: int) -> Any:
    """Stratified sample: ``per_task`` transitions of every task, uniform within the task.

    Args:
      state: the buffer.
      key: PRNG key.
      per_task: samples per task (static).
      task_id: ``[N]`` int task of every env column (``TaskSet.task_ids``); any layout, each task present.
      num_tasks: ``T`` (static).

    Returns:
      pytree with task-major leaves ``[T, per_task, ...]``, ready for the per-task ``vmap`` gradient path.
    """
    task_id = jnp.asarray(task_id, jnp.int32)
    n = jax.tree.leaves(state.data)[0].shape[1]
    chex.assert_shape(task_id, (n,))
    order = jnp.argsort(task_id, stable=True)  # env columns grouped by task
    counts = jnp.bincount(task_id, length=num_tasks)  # [T]
    starts = jnp.cumsum(counts) - counts
    k_row, k_env = jax.random.split(key)
    j = jax.random.randint(k_env, (num_tasks, per_task), 0, counts[:, None])
    env = order[starts[:, None] + j]
    row = jax.random.randint(k_row, (num_tasks, per_task), 0, jnp.maximum(state.filled, 1))
    return _gather(state, row, env)


def nbytes(tree: Any) -> int:
    """Bytes held by a pytree's leaves (arrays or ``jax.ShapeDtypeStruct``).

    ``nbytes(jax.eval_shape(lambda: init_replay(example, capacity)))`` sizes a buffer without allocating it.
    """
    return int(sum(int(np.prod(x.shape)) * np.dtype(x.dtype).itemsize for x in jax.tree.leaves(tree)))


# ----------------------------------------------------------------------------------------------------------
# n-step accumulator
# ----------------------------------------------------------------------------------------------------------


class Transition(NamedTuple):
    """An (n-step) transition, every field ``[N, ...]``.

    Attributes:
      obs: observation the action was taken in.
      action: the action.
      reward: ``sum_{i<m} gamma^i r_{t+i}``, truncated after the first episode end in the window.
      next_obs: observation after the last summed step (at the first episode end if there is one).
      done: float32, 1 where the bootstrap must be dropped (a terminal inside the window).
      n_steps: float32 ``m``, the number of rewards summed (``n`` unless the window holds an episode end);
        FastTD3 discounts with ``gamma^m``, MT-SAC with ``gamma^n`` (equal wherever ``done == 0``).
    """

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    next_obs: jax.Array
    done: jax.Array
    n_steps: jax.Array


class NStepState(NamedTuple):
    """The last ``n`` single steps of every env, oldest first.

    Attributes:
      obs: ``[n, N, D]``.
      action: ``[n, N, A]``.
      reward: ``[n, N]``.
      next_obs: ``[n, N, D]``.
      ended: ``[n, N]`` float32, the episode ended at that step (terminated or truncated).
      terminal: ``[n, N]`` float32, the end drops the bootstrap.
      count: int32 scalar, steps pushed so far (saturates at ``n``).
    """

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    next_obs: jax.Array
    ended: jax.Array
    terminal: jax.Array
    count: jax.Array


def init_nstep(obs: jax.Array, action: jax.Array, n: int) -> NStepState:
    """An empty accumulator for ``obs [N, D]`` and ``action [N, A]`` (values ignored).

    Raises:
      ValueError: ``n < 1``.
    """
    if n < 1:
        raise ValueError(f"init_nstep: n must be >= 1, got {n}")
    num = obs.shape[0]
    flags = jnp.zeros((n, num), jnp.float32)
    obs_buf = jnp.zeros((n,) + tuple(obs.shape), obs.dtype)
    act_buf = jnp.zeros((n,) + tuple(action.shape), action.dtype)
    return NStepState(obs_buf, act_buf, flags, obs_buf, flags, flags, jnp.zeros((), jnp.int32))


def _shift(buf: jax.Array, x: jax.Array) -> jax.Array:
    return jnp.concatenate([buf[1:], x[None].astype(buf.dtype)], axis=0)


def nstep_push(state: NStepState, obs: jax.Array, action: jax.Array, reward: jax.Array, next_obs: jax.Array,
               done: jax.Array, truncated: jax.Array, gamma: float,
               timeout_as_terminal: bool = True) -> tuple[NStepState, Transition, jax.Array]:
    """Pushes one env step and emits the n-step transition of the step ``n - 1`` pushes ago.

    Matches MTBench's ``NStepReplay``: rewards are summed up to and including the first episode end in the
    window, ``next_obs`` is taken at that end, and ``done`` is 1 if the window holds an end. With
    ``timeout_as_terminal=False`` an end by time limit keeps the bootstrap (``done = 0``, ``n_steps = m``);
    ``next_obs`` must then be the true final observation, not the auto-reset one (``mtjax.envs`` returns the
    reset observation).

    Args:
      state: accumulator state.
      obs: ``[N, D]`` observation the action was taken in.
      action: ``[N, A]`` action.
      reward: ``[N]`` reward.
      next_obs: ``[N, D]`` observation after the step.
      done: ``[N]`` the episode ended at this step (terminated or truncated).
      truncated: ``[N]`` the end was the time limit (a subset of ``done``).
      gamma: discount.
      timeout_as_terminal: MT-SAC's behaviour (True): time-outs drop the bootstrap like terminals.

    Returns:
      ``(state, transition [N, ...], ready)``; ``ready`` (bool scalar) is False during the first ``n - 1``
      pushes, when ``transition`` is padding and must not be stored (``add(..., valid=ready)``).
    """
    chex.assert_shape(reward, (obs.shape[0],))
    ended = done.astype(jnp.float32)
    terminal = ended if timeout_as_terminal else ended * (1.0 - truncated.astype(jnp.float32))
    w = NStepState(_shift(state.obs, obs), _shift(state.action, action), _shift(state.reward, reward),
                   _shift(state.next_obs, next_obs), _shift(state.ended, ended), _shift(state.terminal, terminal),
                   jnp.minimum(state.count + 1, state.reward.shape[0]))
    n = w.reward.shape[0]
    # alive[i] = 1 while no end happened strictly before step i of the window; step i itself still counts.
    alive = jnp.cumprod(jnp.concatenate([jnp.ones_like(w.ended[:1]), 1.0 - w.ended[:-1]], axis=0), axis=0)
    discounts = (gamma ** jnp.arange(n, dtype=jnp.float32))[:, None]
    reward_n = jnp.sum(discounts * alive * w.reward, axis=0)
    any_end = jnp.max(w.ended, axis=0) > 0
    last = jnp.where(any_end, jnp.argmax(w.ended, axis=0), n - 1)  # [N] index of the step that closes
    cols = jnp.arange(obs.shape[0])
    out = Transition(
        obs=w.obs[0], action=w.action[0], reward=reward_n, next_obs=w.next_obs[last, cols],
        done=w.terminal[last, cols] * any_end, n_steps=jnp.sum(alive, axis=0),
    )
    return w, out, w.count >= n
