"""Step logic of the Go1 parkour env (``env.py``): goals, rewards, termination, curriculum (spec 2.5-2.8 of MTBench,
Joshi et al., 2025, arXiv 2507.23172; ``docs/parkour.md``). Pure functions on ``[N]`` arrays; ``step`` is
``ParkourEnv.step``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from envs_bridge.parkour import robot, scan, terrain
from mtjax import envs

__all__ = ["DT", "REWARD_SCALES", "ParkourState", "curriculum_level", "reward_terms", "step", "update_goals"]

DT = robot.SIM_DT * robot.DECIMATION  # 0.02 s
REWARD_SCALES = {"tracking_goal_vel": 4.0, "tracking_yaw": 1.0, "energy": -0.0005, "collision": -10.0}
REACH_RADIUS, REACH_STEPS = 0.3, 1  # advance when the timer exceeds reach_goal_delay / dt = 1 (spec 2.6)
_REFRESH, _CMD_EVERY, _PUSH_EVERY = 5, 300, 400  # obs yaw/heights every 5 steps; command every 6 s; push every 8 s


@struct.dataclass
class ParkourState:
    """Per-env simulator and task state (leaves ``[N, ...]`` except ``counter``).

    Attributes:
      data: batched ``mjx.Data`` (MJX-JAX) or ``warp_physics.Carry`` (MuJoCo Warp). level: terrain level
      (row) of the env's tile. goal_idx: goals reached.
      goal_timer: steps spent within 0.3 m of the current goal. t: episode step. counter: scalar global step.
      cmd: forward-speed command. last_action: ``[N, 12]``. last_contact: ``[N, 4]`` feet in contact last step.
      yaw_obs: ``[N, 2]`` delta yaw to the current and next goal (refreshed every 5 steps). heights: ``[N, 132]``.
      kp_scale, kd_scale: ``[N, 12]`` motor strengths. friction, added_mass: ``[N]``. com: ``[N, 3]`` offsets.
    """

    data: Any
    level: jax.Array
    goal_idx: jax.Array
    goal_timer: jax.Array
    t: jax.Array
    counter: jax.Array
    cmd: jax.Array
    last_action: jax.Array
    last_contact: jax.Array
    yaw_obs: jax.Array
    heights: jax.Array
    kp_scale: jax.Array
    kd_scale: jax.Array
    friction: jax.Array
    added_mass: jax.Array
    com: jax.Array


def update_goals(base_xy: jax.Array, goals: jax.Array, goal_idx: jax.Array, timer: jax.Array):
    """One step of MTBench's goal logic: ``base_xy [N, 2]``, ``goals [N, 8, 2]``, ``goal_idx``/``timer`` ``[N]``.

    A step within 0.3 m of the current goal adds 1 to the timer; when the timer exceeds 1 (the 2nd such step) the
    goal index advances and the timer restarts. Returns the new ``(goal_idx, timer)``.
    """
    cur = goals[jnp.arange(goals.shape[0]), jnp.minimum(goal_idx, terrain.NUM_GOALS - 1)]
    near = jnp.linalg.norm(base_xy - cur, axis=-1) < REACH_RADIUS
    timer = timer + near.astype(jnp.int32)
    advance = timer > REACH_STEPS
    return goal_idx + advance.astype(jnp.int32), jnp.where(advance, 0, timer)


def reward_terms(base_xy, lin_vel_xy, yaw, cur_goal, cmd, tau, qd, collisions) -> dict[str, jax.Array]:
    """MTBench's four reward terms (spec 2.5), unscaled, each ``[N]``.

    Args:
      base_xy, lin_vel_xy: ``[N, 2]`` world position and velocity of the base. yaw: ``[N]``.
      cur_goal: ``[N, 2]`` current goal. cmd: ``[N]`` forward-speed command. tau, qd: ``[N, 12]`` torques of the
        last substep and joint velocities. collisions: ``[N]`` thigh/calf bodies in contact (> 0.1 N).
    """
    rel = cur_goal - base_xy
    direction = rel / (jnp.linalg.norm(rel, axis=-1, keepdims=True) + 1e-5)
    v_proj = (direction * lin_vel_xy).sum(-1)
    target_yaw = jnp.arctan2(rel[:, 1], rel[:, 0])
    return {"tracking_goal_vel": jnp.minimum(v_proj, cmd) / (cmd + 1e-5),
            "tracking_yaw": jnp.exp(-jnp.abs(target_yaw - yaw)),
            "energy": jnp.maximum(tau * qd, 0.0).sum(-1),
            "collision": collisions.astype(jnp.float32)}


def total_reward(terms: dict[str, jax.Array]) -> jax.Array:
    """``max(0, dt * sum(scale * term))`` (``only_positive_rewards``)."""
    return jnp.maximum(sum(REWARD_SCALES[k] * v for k, v in terms.items()) * DT, 0.0)


def curriculum_level(level: jax.Array, goals: jax.Array, key: jax.Array) -> jax.Array:
    """MTBench's ``_update_terrain_curriculum`` for resetting envs (spec 2.8): ``[N]`` levels and goal counts.

    Up one level at >= 0.8 * 8 goals, down one at < 0.4 * 8, otherwise stay; a staying env goes with probability
    0.25 to a uniform level in ``[0, level - 1]`` (level 0 stays); a level past the top (>= 10) goes to a uniform
    level in ``[0, 9]``.
    """
    k1, k2 = jax.random.split(key)
    up, down = goals >= 0.8 * terrain.NUM_GOALS, goals < 0.4 * terrain.NUM_GOALS
    new = level + up.astype(jnp.int32) - down.astype(jnp.int32)
    u = jax.random.uniform(k2, level.shape)
    below = jnp.floor(u * level).astype(jnp.int32)
    new = jnp.where(~(up | down) & (jax.random.uniform(k1, level.shape) < 0.25), below, new)
    top = terrain.NUM_LEVELS
    new = jnp.where(new >= top, jnp.floor(u * top).astype(jnp.int32), new)
    return jnp.clip(new, 0, top - 1)


def _physics(env, s: ParkourState, action: jax.Array, key: jax.Array):
    """PD-controlled physics of every env; returns data, last-substep torques and per-group contact forces."""
    boxes, ground, _, spheres = env._tile(s.level)
    q_target = jnp.asarray(robot.DEFAULT_Q) + action * env.action_scale
    d, tau, forces = env.physics(s.data, boxes, spheres, ground, s.friction, s.added_mass, s.com, q_target,
                                 s.kp_scale, s.kd_scale)
    if env.domain_rand:  # pushes: base xy velocity set to U[-0.5, 0.5] m/s every 8 s, all envs
        push = (s.counter + 1) % _PUSH_EVERY == 0
        v = jax.random.uniform(key, (action.shape[0], 2), minval=-0.5, maxval=0.5)
        d = d.replace(qvel=jnp.where(push, d.qvel.at[:, :2].set(v), d.qvel))
    return d, tau, forces


def step(env, state: envs.EnvState, action: jax.Array) -> envs.EnvState:
    """``ParkourEnv.step``: physics, goals, rewards, termination, auto-reset (with curriculum), observation."""
    s = state.sim
    key, k_push, k_reset, k_cl, k_cmd = jax.random.split(state.key, 5)
    a = jnp.clip(action, -env.action_clip, env.action_clip)
    d, tau, forces = _physics(env, s, a, k_push)
    goals = env._tile(s.level)[2]
    pos = d.qpos[:, :3]
    roll, pitch, yaw = scan.euler_from_quat(d.qpos[:, 3:7])
    goal_idx, timer = update_goals(pos[:, :2], goals, s.goal_idx, s.goal_timer)
    cur, _ = env._goals(goals, goal_idx)
    terms = reward_terms(pos[:, :2], d.qvel[:, :2], yaw, cur, s.cmd, tau, d.qvel[:, 6:],
                         (forces[:, 4:] > 0.1).sum(-1))
    reward = total_reward(terms)
    t = s.t + 1
    all_goals = goal_idx >= terrain.NUM_GOALS
    truncated = (t >= env.episode_length) | all_goals
    done = truncated | (jnp.abs(roll) > 2.5) | (jnp.abs(pitch) > 1.5) | (pos[:, 2] < -0.25)
    progress = goal_idx.astype(jnp.float32) / terrain.NUM_GOALS
    contact = forces[:, :4] > 2.0
    resample = t % _CMD_EVERY == 0
    cmd = jnp.where(resample, jax.random.uniform(k_cmd, t.shape, minval=0.3, maxval=0.8), s.cmd)
    counter = s.counter + 1
    stepped = s.replace(data=d, goal_idx=goal_idx, goal_timer=timer, t=t, cmd=cmd, last_action=a,
                        last_contact=contact, counter=None)
    level = curriculum_level(s.level, goal_idx, k_cl) if env.mode == "hard_cl" else s.level
    dr = {"kp_scale": s.kp_scale, "kd_scale": s.kd_scale, "friction": s.friction, "added_mass": s.added_mass, "com": s.com}
    fresh = env._fresh(k_reset, level, dr).replace(counter=None)
    nxt = envs.where_done(done, fresh, stepped).replace(counter=counter)
    contact_filt = jnp.where(done[:, None], False, contact | s.last_contact)
    obs, yaw_obs, heights = env._observe(nxt, contact_filt, (counter % _REFRESH == 0) | done)
    nxt = nxt.replace(yaw_obs=yaw_obs, heights=heights)
    stats, finished = envs.update_episode_stats(state.episode, reward, all_goals, progress, done)
    info = {"success": all_goals, "progress": progress, "level": s.level.astype(jnp.float32),
            **{f"rew_{k}": v * REWARD_SCALES[k] * DT for k, v in terms.items()}, **finished}
    return envs.EnvState(obs=jnp.concatenate([obs, env._one_hot], -1), reward=reward, done=done,
                         truncated=truncated, task_id=state.task_id, info=info, sim=nxt, episode=stats, key=key)
