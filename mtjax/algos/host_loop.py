"""MT-PPO driven by a Python loop, for environments that cannot be jitted (IsaacGym). **Not jittable.**

The same learner as the jitted path (``mtjax.algos.ppo.make_learner``; MTBench's MT-PPO, Joshi et al., 2025,
arXiv 2507.23172) and the same iteration: ``mtjax.algos.on_policy.run_iteration`` with its key schedule, its
per-step ``rollout_step`` and its ``finish_iteration`` (bootstrap value, update, metrics, the non-finite check of
observations, rewards and losses). Only the rollout differs: a Python loop whose env step is a host call between
jitted policy calls (Stoix's "Sebulba" pattern); the policy step and ``finish_iteration`` are jitted once each.

A host env has ``reset(key) -> EnvState``, ``step(state, action) -> EnvState``, ``task_set``, ``obs_size``,
``action_size`` and optionally the fast path ``step_packed(action) -> [N, O+5]`` block
(``mtjax.envs.packed_transition``, with ``goal_progress``); the IsaacGym adapter in ``envs_bridge.isaacgym`` is
one. The CLI's ``env_backend="isaacgym"`` path is ``experiments/isaacgym_run.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from mtjax import envs
from mtjax.algos import on_policy, ppo

__all__ = ["HostTrainer", "make_host_train"]


class HostTrainer(NamedTuple):
    """``init(key) -> TrainState``; ``iteration(state) -> (state, metrics)`` (one rollout + update);
    ``train_chunk(state, n) -> (state, metrics stacked [n])`` (the jitted ``Trainer.train_chunk``'s contract)."""

    init: Callable[[jax.Array], on_policy.TrainState]
    iteration: Callable[[on_policy.TrainState], tuple[on_policy.TrainState, dict]]
    train_chunk: Callable[[on_policy.TrainState, int], tuple[on_policy.TrainState, dict]]
    learner: ppo.Learner


def _stack(trajectory: list[dict]) -> dict:
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trajectory)


def _unpack(obs_size: int, goal_progress: bool, es0: envs.EnvState, acts: dict,
            blocks: list[jax.Array]) -> tuple[envs.EnvState, dict]:
    """The packed rollout as ``rollout_step`` records it: ``(last EnvState, transitions [H, N, ...])``.

    Args:
      es0: the state the rollout started from. acts: ``{action, log_prob, value}`` with ``[H, N, ...]`` leaves.
      blocks: ``H`` packed ``[N, O+5]`` blocks returned by ``step_packed``.
    """
    o = obs_size
    p = jnp.stack(blocks)  # [H, N, O+5]
    ep, tr = jax.lax.scan(lambda e, b: envs.packed_transition(e, b, o, goal_progress), es0.episode, p)
    obs_next = p[:, :, :o]
    tr.update(acts, obs=jnp.concatenate([es0.obs[None], obs_next[:-1]], 0))
    es = envs.EnvState(obs=obs_next[-1], reward=tr["reward"][-1], done=tr["done"][-1],
                       truncated=tr["truncated"][-1], task_id=es0.task_id,
                       info=jax.tree.map(lambda x: x[-1], tr["info"]), sim=None, episode=ep, key=es0.key)
    return es, tr


def make_host_train(cfg: ppo.PPOConfig, env: Any, init_fn: Callable, apply_fn: Callable,
                    tx: Any = None, packed: bool | None = None) -> HostTrainer:
    """Builds the host-loop trainer.

    Args:
      cfg: MT-PPO hyper-parameters.
      env: ``reset(key) -> EnvState``, ``step(state, action [N, A]) -> EnvState`` host calls, plus ``task_set``,
        ``obs_size``, ``action_size`` (e.g. ``envs_bridge.isaacgym.VecTaskAdapter``).
      init_fn, apply_fn: from ``mtjax.nets.make_actor_critic``.
      tx: optional gradient transform replacing ``ppo.make_transform(cfg, T)``.
      packed: use the env's ``step_packed`` fast path (one jitted dispatch per step; episode statistics are
        computed once per iteration by a scan of ``mtjax.envs.packed_transition``). Default: when available.
    """
    learner = ppo.make_learner(cfg, init_fn, apply_fn, env.task_set, env.obs_size, env.action_size, tx=tx)
    o = env.obs_size
    act = jax.jit(functools.partial(on_policy.act_and_clip, learner))
    act_packed = jax.jit(lambda ls, block, tid, key: act(ls, block[:, :o], tid, key))  # obs: the first O columns
    finish = jax.jit(functools.partial(on_policy.finish_iteration, learner, env.task_set.num_tasks),
                     donate_argnums=0)
    stack = jax.jit(_stack)
    unpack = jax.jit(functools.partial(_unpack, o, bool(getattr(env, "goal_progress", False))))
    learner_init = jax.jit(learner.init)

    def rollout(ls, es, step_keys):
        trajectory = []
        for t in range(cfg.horizon):  # the env step is a host call between jitted policy calls
            es, tr = on_policy.rollout_step(act, env.step, ls, es, step_keys[t])
            trajectory.append(tr)
        return es, stack(trajectory)

    def rollout_packed(ls, es, step_keys):
        acts, blocks = [], []
        for t in range(cfg.horizon):  # per step: one jitted act, one DLPack export, the sim, one import
            if t == 0:
                action, log_prob, value, clipped = act(ls, es.obs, es.task_id, step_keys[t])
            else:
                action, log_prob, value, clipped = act_packed(ls, blocks[-1], es.task_id, step_keys[t])
            acts.append({"action": action, "log_prob": log_prob, "value": value})
            blocks.append(env.step_packed(clipped))
        return unpack(es, stack(acts), blocks)

    use_packed = hasattr(env, "step_packed") if packed is None else bool(packed)
    the_rollout = rollout_packed if use_packed else rollout

    def init(key: jax.Array) -> on_policy.TrainState:
        k_env, k_learn, k_run = jax.random.split(key, 3)
        return on_policy.TrainState(learner=learner_init(k_learn), env_state=env.reset(k_env), key=k_run,
                                    iteration=jnp.zeros((), jnp.int32))

    def iteration(state: on_policy.TrainState) -> tuple[on_policy.TrainState, dict]:
        return on_policy.run_iteration(state, cfg.horizon, the_rollout, finish)

    def train_chunk(state: on_policy.TrainState, n: int) -> tuple[on_policy.TrainState, dict]:
        ms = []
        for _ in range(n):
            state, m = iteration(state)
            ms.append(m)
        return state, _stack(ms)

    return HostTrainer(init=init, iteration=iteration, train_chunk=train_chunk, learner=learner)
