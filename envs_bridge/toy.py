"""A tiny pure-JAX multi-task environment: a 2-D point mass that must reach a task-specific goal.

It exists so learners can be tested (and demoed in seconds on a CPU) before the real simulators; it is a
fixture, not a benchmark. Task ``k`` of ``T`` places its goal on a circle of radius ``goal_radius`` at angle
``2*pi*k/T``; the goal is *not* observed, so the policy must use the task one-hot. Task parameters are data.

Observation (``4 + T``): position (2), velocity (2), task one-hot (T). Action (2): commanded velocity in
``[-1, 1]``. Reward: ``-distance`` to the goal plus 1 while inside the success radius. Episodes are truncated
after ``episode_length`` steps (there is no termination).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import struct

from mtjax import envs

__all__ = ["PointReach", "PointSim"]


@struct.dataclass
class PointSim:
    pos: jax.Array  # [N, 2]
    vel: jax.Array  # [N, 2]
    t: jax.Array  # [N] int32 step within the episode


class PointReach:
    """Multi-task point-mass reaching; see the module docstring.

    Attributes:
      task_set: the task-major batch layout.
      episode_length: steps before truncation.
      goal_radius: distance of every goal from the origin.
      success_radius: a step is a success when the point is closer than this to its goal.
      speed: metres moved per step at full action.
    """

    action_size = 2

    def __init__(self, task_set: envs.TaskSet, episode_length: int = 40, goal_radius: float = 1.0,
                 success_radius: float = 0.1, speed: float = 0.1):
        if episode_length < 1:
            raise ValueError(f"episode_length must be >= 1, got {episode_length}")
        self.task_set = task_set
        self.episode_length = int(episode_length)
        self.success_radius = float(success_radius)
        self.speed = float(speed)
        t = task_set.num_tasks
        ang = 2 * math.pi * jnp.arange(t) / t
        self._goals = goal_radius * jnp.stack([jnp.cos(ang), jnp.sin(ang)], -1)  # [T, 2]
        self._task_id = jnp.asarray(task_set.task_ids)
        self._one_hot = jnp.asarray(task_set.one_hot())
        self.obs_size = 4 + t

    @property
    def num_tasks(self) -> int:
        return self.task_set.num_tasks

    def _obs(self, sim: PointSim) -> jax.Array:
        return jnp.concatenate([sim.pos, sim.vel, self._one_hot], axis=-1)

    def _reset_sim(self, key: jax.Array) -> PointSim:
        n = self.task_set.num_envs
        pos = jax.random.uniform(key, (n, 2), minval=-0.2, maxval=0.2)
        return PointSim(pos=pos, vel=jnp.zeros((n, 2)), t=jnp.zeros((n,), jnp.int32))

    def reset(self, key: jax.Array) -> envs.EnvState:
        key, sub = jax.random.split(key)
        sim = self._reset_sim(sub)
        n = self.task_set.num_envs
        zeros = jnp.zeros((n,), jnp.float32)
        falses = jnp.zeros((n,), bool)
        stats = envs.init_episode_stats(n)
        info = {"success": falses, "progress": zeros, "episode_return": zeros,
                "episode_length": jnp.zeros((n,), jnp.int32), "episode_success": falses,
                "episode_progress": zeros}
        return envs.EnvState(obs=self._obs(sim), reward=zeros, done=falses, truncated=falses,
                             task_id=self._task_id, info=info, sim=sim, episode=stats, key=key)

    def step(self, state: envs.EnvState, action: jax.Array) -> envs.EnvState:
        sim = state.sim
        a = jnp.clip(action, -1.0, 1.0)
        vel = self.speed * a
        pos = sim.pos + vel
        dist = jnp.linalg.norm(pos - self._goals[self._task_id], axis=-1)
        success = dist < self.success_radius
        reward = -dist + success.astype(jnp.float32)
        progress = jnp.clip(1.0 - dist / jnp.linalg.norm(self._goals, axis=-1)[self._task_id], 0.0, 1.0)
        t = sim.t + 1
        truncated = t >= self.episode_length
        done = truncated
        stats, finished = envs.update_episode_stats(state.episode, reward, success, progress, done)
        key, sub = jax.random.split(state.key)
        stepped = PointSim(pos=pos, vel=vel, t=t)
        sim = envs.where_done(done, self._reset_sim(sub), stepped)
        info = {"success": success, "progress": progress, **finished}
        return envs.EnvState(obs=self._obs(sim), reward=reward, done=done, truncated=truncated,
                             task_id=self._task_id, info=info, sim=sim, episode=stats, key=key)
