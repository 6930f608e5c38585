"""MT-PPO driven by a Python loop, for environments that cannot be jitted (IsaacGym). **Not jittable.**

The same learner as the jitted path (``mtjax.algos.ppo.make_learner``; MTBench's MT-PPO, Joshi et al., 2025,
arXiv 2507.23172) and the same iteration: ``mtjax.algos.on_policy.run_iteration`` with its key schedule, its
per-step ``rollout_step`` and its ``finish_iteration`` (bootstrap value, update, metrics, the non-finite check of
observations, rewards and losses). Only the rollout differs: a Python loop whose env step is a host call between
jitted policy calls (Stoix's "Sebulba" pattern); the policy step and ``finish_iteration`` are jitted once each.

A host env has ``reset(key) -> EnvState``, ``step(state, action) -> EnvState``, ``task_set``, ``obs_size``,
``action_size`` and optionally the fast paths ``step_packed(action) -> [N, O+5]`` block
(``mtjax.envs.packed_transition``, with ``goal_progress``) and ``bind_packed() -> binding`` whose
``binding.step(action)`` returns a persistent block the env rewrites in place (read only inside the next jitted
call, which copies it into the rollout buffer); the IsaacGym adapter in ``envs_bridge.isaacgym`` is one.
The CLI's ``env_backend="isaacgym"`` path is ``experiments/isaacgym_run.py``.
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
    ``train_chunk(state, n) -> (state, metrics stacked [n])`` (the jitted ``Trainer.train_chunk``'s contract);
    ``path``: the rollout's per-step path, ``"bound"``, ``"packed"`` or ``"envstate"``."""

    init: Callable[[jax.Array], on_policy.TrainState]
    iteration: Callable[[on_policy.TrainState], tuple[on_policy.TrainState, dict]]
    train_chunk: Callable[[on_policy.TrainState, int], tuple[on_policy.TrainState, dict]]
    learner: ppo.Learner
    path: str = "envstate"


def _stack(trajectory: list[dict]) -> dict:
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trajectory)


def _unpack(obs_size: int, goal_progress: bool, es0: envs.EnvState, acts: dict,
            blocks: list[jax.Array] | jax.Array) -> tuple[envs.EnvState, dict]:
    """The packed rollout as ``rollout_step`` records it: ``(last EnvState, transitions [H, N, ...])``.

    Args:
      es0: the state the rollout started from. acts: ``{action, log_prob, value}`` with ``[H, N, ...]`` leaves.
      blocks: ``H`` packed ``[N, O+5]`` blocks returned by ``step_packed``, or their stack ``[H, N, O+5]``.
    """
    o = obs_size
    p = jnp.stack(blocks) if isinstance(blocks, list) else blocks  # [H, N, O+5]
    ep, tr = jax.lax.scan(lambda e, b: envs.packed_transition(e, b, o, goal_progress), es0.episode, p)
    obs_next = p[:, :, :o]
    tr.update(acts, obs=jnp.concatenate([es0.obs[None], obs_next[:-1]], 0))
    es = envs.EnvState(obs=obs_next[-1], reward=tr["reward"][-1], done=tr["done"][-1],
                       truncated=tr["truncated"][-1], task_id=es0.task_id,
                       info=jax.tree.map(lambda x: x[-1], tr["info"]), sim=None, episode=ep, key=es0.key)
    return es, tr


def _act_store(act: Callable, obs_size: int, horizon: int, ls: Any, rollout: dict | None, x: jax.Array,
               step_keys: jax.Array, task_id: jax.Array, first: bool) -> tuple[dict, jax.Array]:
    """The bound path's one call per step: store the env's last block, then act on its observation.

    Args:
      rollout: ``{blocks [H, N, O+5], action [H, N, A], log_prob [H, N], value [H, N], t []}`` (donated), or
        None at ``first`` (allocated here). x: ``es.obs`` [N, O] at ``first``, else the block ``[N, O+5]`` the
        env step ``t - 1`` packed (a buffer the env overwrites later: copied into ``blocks[t - 1]`` here).
      step_keys: the iteration's ``[H]`` step keys (indexed here: a host-side ``step_keys[t]`` is a dispatch).

    Returns:
      The updated rollout (``t`` advanced) and the clipped action ``[N, A]`` for the env.
    """
    if first:
        n = x.shape[0]
        rollout = {"blocks": jnp.zeros((horizon, n, obs_size + 5), x.dtype), "t": jnp.zeros((), jnp.int32)}
        obs = x
    else:
        rollout = dict(rollout, blocks=jax.lax.dynamic_update_index_in_dim(rollout["blocks"], x,
                                                                          rollout["t"] - 1, 0))
        obs = x[:, :obs_size]
    t = rollout["t"]
    action, log_prob, value, clipped = act(ls, obs, task_id, step_keys[t])
    for name, v in (("action", action), ("log_prob", log_prob), ("value", value)):
        buf = rollout[name] if name in rollout else jnp.zeros((horizon, *v.shape), v.dtype)
        rollout[name] = jax.lax.dynamic_update_index_in_dim(buf, v, t, 0)
    return dict(rollout, t=t + 1), clipped


def _finish_bound(obs_size: int, goal_progress: bool, es0: envs.EnvState, rollout: dict,
                  block: jax.Array) -> tuple[envs.EnvState, dict]:
    """Stores the last step's block (``blocks[H - 1]``) and unpacks the rollout like ``_unpack``."""
    blocks = rollout["blocks"].at[-1].set(block)
    acts = {k: rollout[k] for k in ("action", "log_prob", "value")}
    return _unpack(obs_size, goal_progress, es0, acts, blocks)


def _make_bound_rollout(env: Any, horizon: int, act_store: Callable, finish_bound: Callable) -> Callable:
    """The bound path's rollout ``(ls, es, step_keys) -> (es, transitions)``; binds the env at its first call."""
    binding = []

    def rollout_bound(ls, es, step_keys):
        if not binding:
            binding.append(env.bind_packed())
        ro, clipped = act_store(ls, None, es.obs, step_keys, es.task_id, True)
        for _ in range(1, horizon):  # per step: one jitted call, one DLPack export, the sim, the pack
            ro, clipped = act_store(ls, ro, binding[0].step(clipped), step_keys, es.task_id, False)
        return finish_bound(es, ro, binding[0].step(clipped))

    return rollout_bound


def make_host_train(cfg: ppo.PPOConfig, env: Any, init_fn: Callable, apply_fn: Callable,
                    tx: Any = None, packed: bool | None = None, bound: bool | None = None) -> HostTrainer:
    """Builds the host-loop trainer.

    Args:
      cfg: MT-PPO hyper-parameters.
      env: ``reset(key) -> EnvState``, ``step(state, action [N, A]) -> EnvState`` host calls, plus ``task_set``,
        ``obs_size``, ``action_size`` (e.g. ``envs_bridge.isaacgym.VecTaskAdapter``).
      init_fn, apply_fn: from ``mtjax.nets.make_actor_critic``.
      tx: optional gradient transform replacing ``ppo.make_transform(cfg, T)``.
      packed: use the env's ``step_packed`` path (one jitted dispatch per step; episode statistics are
        computed once per iteration by a scan of ``mtjax.envs.packed_transition``). Default: when available.
      bound: on the packed path, use the env's ``bind_packed()`` binding instead of ``step_packed``: the env
        packs into one persistent block JAX aliases, and one jitted call per step stores it into the donated
        rollout buffer and samples the next action (no per-step import, stack or key slice). Default: when
        available.
    """
    learner = ppo.make_learner(cfg, init_fn, apply_fn, env.task_set, env.obs_size, env.action_size, tx=tx)
    o, goal = env.obs_size, bool(getattr(env, "goal_progress", False))
    act = jax.jit(functools.partial(on_policy.act_and_clip, learner, clip=cfg.clip_actions))
    act_packed = jax.jit(lambda ls, block, tid, key: act(ls, block[:, :o], tid, key))  # obs: the first O columns
    finish = jax.jit(functools.partial(on_policy.finish_iteration, learner, env.task_set.num_tasks),
                     donate_argnums=0)
    stack = jax.jit(_stack)
    unpack = jax.jit(functools.partial(_unpack, o, goal))
    act_store = jax.jit(functools.partial(_act_store, act, o, cfg.horizon), static_argnums=5, donate_argnums=1)
    finish_bound = jax.jit(functools.partial(_finish_bound, o, goal))
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

    rollout_bound = _make_bound_rollout(env, cfg.horizon, act_store, finish_bound)
    use_packed = hasattr(env, "step_packed") if packed is None else bool(packed)
    use_bound = use_packed and (hasattr(env, "bind_packed") if bound is None else bool(bound))
    the_rollout = rollout_bound if use_bound else rollout_packed if use_packed else rollout

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

    path = "bound" if use_bound else "packed" if use_packed else "envstate"
    return HostTrainer(init=init, iteration=iteration, train_chunk=train_chunk, learner=learner, path=path)
