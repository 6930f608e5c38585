"""MT-PPO driven by a Python loop, for environments that cannot be jitted (IsaacGym). **Not jittable.**

The same learner as the jitted path (``mtjax.algos.ppo.make_learner``; MTBench's MT-PPO, Joshi et al., 2025,
arXiv 2507.23172) and the same iteration as ``mtjax.algos.on_policy.make_train``: the key schedule
(``on_policy.iteration_keys``), the policy sample and its clipping (``on_policy.act_and_clip``) and everything
after the rollout (``on_policy.finish_iteration``: bootstrap value, update, metrics, the non-finite check) are the
jitted trainer's own functions. Only they are jitted here (each compiled once); the environment step is a host call
between them (Stoix's "Sebulba" pattern). A host env has ``reset(key) -> EnvState``, ``step(state, action)
-> EnvState``, ``task_set``, ``obs_size``, ``action_size`` and optionally the fast path ``step_packed(action)
-> [N, O+5]`` block (``mtjax.envs.packed_transition``); the IsaacGym adapter in ``envs_bridge.isaacgym`` is one.
The CLI's ``env_backend="isaacgym"`` path is ``experiments/isaacgym_run.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from mtjax import envs
from mtjax.algos import on_policy, ppo

__all__ = ["HostTrainer", "JaxEnvOnHost", "make_host_train"]


class HostTrainer(NamedTuple):
    """``init(key) -> TrainState``; ``iteration(state) -> (state, metrics)`` (one rollout + update)."""

    init: Callable[[jax.Array], on_policy.TrainState]
    iteration: Callable[[on_policy.TrainState], tuple[on_policy.TrainState, dict]]
    learner: ppo.Learner


class JaxEnvOnHost:
    """A pure JAX env stepped from the host (jitted ``reset``/``step``): the parity fixture for the host loop."""

    def __init__(self, env: envs.Env):
        self.env = env
        self.task_set, self.obs_size, self.action_size = env.task_set, env.obs_size, env.action_size
        self.reset = jax.jit(env.reset)
        self.step = jax.jit(env.step)

    @property
    def num_tasks(self) -> int:
        return self.task_set.num_tasks


def _stack(trajectory: list[dict]) -> dict:
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trajectory)


def make_host_train(cfg: ppo.PPOConfig, env: Any, init_fn: Callable, apply_fn: Callable,
                    tx: Any = None, packed: bool | None = None) -> HostTrainer:
    """Builds the host-loop trainer.

    Args:
      cfg: MT-PPO hyper-parameters.
      env: ``reset(key) -> EnvState``, ``step(state, action [N, A]) -> EnvState`` host calls, plus ``task_set``,
        ``obs_size``, ``action_size`` (e.g. ``VecTaskAdapter`` or ``JaxEnvOnHost``).
      init_fn, apply_fn: from ``mtjax.nets.make_actor_critic``.
      tx: optional gradient transform replacing ``ppo.make_transform(cfg, T)``.
      packed: use the env's ``step_packed`` fast path (one jitted dispatch per step; episode statistics are
        computed once per iteration by a scan of ``mtjax.envs.packed_transition``). Default: when available.
    """
    ts_ = env.task_set
    learner = ppo.make_learner(cfg, init_fn, apply_fn, ts_, env.obs_size, env.action_size, tx=tx)
    num_tasks = ts_.num_tasks

    def _act(ls, obs, task_id, key):
        return on_policy.act_and_clip(learner, ls, obs, task_id, key)

    def _keys(key, iteration):
        return on_policy.iteration_keys(key, iteration, cfg.horizon)

    def _finish(ls, tr, last_obs, task_id, k_update):
        return on_policy.finish_iteration(learner, num_tasks, ls, tr, last_obs, task_id, k_update)

    o = env.obs_size
    goal_progress = bool(getattr(env, "goal_progress", False))

    def _act_packed(ls, block, task_id, key):  # obs = the first O columns of the env's packed block
        return _act(ls, block[:, :o], task_id, key)

    def _finish_packed(ls, es0, acts, blocks, k_update):
        p = jnp.stack(blocks)  # [H, N, O+5]
        ep, tr = jax.lax.scan(lambda e, b: envs.packed_transition(e, b, o, goal_progress), es0.episode, p)
        obs_next = p[:, :, :o]
        tr.update(acts, obs=jnp.concatenate([es0.obs[None], obs_next[:-1]], 0))
        ls, m = _finish(ls, tr, obs_next[-1], es0.task_id, k_update)
        es = envs.EnvState(obs=obs_next[-1], reward=tr["reward"][-1], done=tr["done"][-1],
                           truncated=tr["truncated"][-1], task_id=es0.task_id,
                           info=jax.tree.map(lambda x: x[-1], tr["info"]), sim=None, episode=ep, key=es0.key)
        return ls, m, es

    act = jax.jit(_act)
    act_packed = jax.jit(_act_packed)
    keys = jax.jit(_keys)
    stack = jax.jit(_stack)
    finish = jax.jit(_finish, donate_argnums=0)
    finish_packed = jax.jit(_finish_packed, donate_argnums=0)
    learner_init = jax.jit(learner.init)
    use_packed = hasattr(env, "step_packed") if packed is None else bool(packed)

    def init(key: jax.Array) -> on_policy.TrainState:
        k_env, k_learn, k_run = jax.random.split(key, 3)
        return on_policy.TrainState(learner=learner_init(k_learn), env_state=env.reset(k_env), key=k_run,
                                    iteration=jnp.zeros((), jnp.int32))

    def iteration_packed(state: on_policy.TrainState):
        step_keys, k_update = keys(state.key, state.iteration)
        ls, es = state.learner, state.env_state
        acts, blocks = [], []
        for t in range(cfg.horizon):  # per step: one jitted act, one DLPack export, the sim, one import
            if t == 0:
                action, log_prob, value, clipped = act(ls, es.obs, es.task_id, step_keys[t])
            else:
                action, log_prob, value, clipped = act_packed(ls, blocks[-1], es.task_id, step_keys[t])
            acts.append({"action": action, "log_prob": log_prob, "value": value})
            blocks.append(env.step_packed(clipped))
        ls, m, es = finish_packed(ls, es, stack(acts), blocks, k_update)
        return on_policy.TrainState(learner=ls, env_state=es, key=state.key, iteration=state.iteration + 1), m

    def iteration(state: on_policy.TrainState):
        if use_packed:
            return iteration_packed(state)
        step_keys, k_update = keys(state.key, state.iteration)
        ls, es = state.learner, state.env_state
        trajectory = []
        for t in range(cfg.horizon):  # host loop: the env step is not jittable
            obs = es.obs
            action, log_prob, value, clipped = act(ls, obs, es.task_id, step_keys[t])
            es = env.step(es, clipped)
            trajectory.append({"obs": obs, "action": action, "log_prob": log_prob, "value": value,
                               "reward": es.reward, "done": es.done, "truncated": es.truncated, "info": es.info})
        ls, m = finish(ls, stack(trajectory), es.obs, es.task_id, k_update)
        return on_policy.TrainState(learner=ls, env_state=es, key=state.key, iteration=state.iteration + 1), m

    return HostTrainer(init=init, iteration=iteration, learner=learner)
