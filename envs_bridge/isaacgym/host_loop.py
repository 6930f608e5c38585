"""MT-PPO driven by a Python loop for environments that cannot be jitted (IsaacGym). **Not jittable.**

The same learner as the jitted path (``mtjax.algos.ppo.make_learner``; MTBench's MT-PPO, Joshi et al., 2025,
arXiv 2507.23172) and the same iteration as ``mtjax.algos.on_policy.make_train``, step for step: the same key
schedule (``fold_in(key, iteration)`` -> rollout/update keys, one key per step), the same clipping of actions,
``Rollout``, bootstrap value, ``update`` and metrics. Only ``act``, ``value``, ``update`` and small helpers are
jitted (each compiled once); the environment step is a host call between them (Stoix's "Sebulba" pattern).
Observations and rewards cross from torch by DLPack inside the adapter (``envs_bridge.isaacgym.adapter``).

``run(c)`` is what ``python -m experiments.train --config.env_backend=isaacgym`` calls: same ``config.json``,
``metrics.jsonl``/TensorBoard (``mtjax.run_logger``) and orbax checkpoints (``mtjax.checkpoint``) as the jitted
path. A checkpoint holds the full ``TrainState`` but the simulator's internal state cannot be saved, so a
resumed run restores learner, key and iteration and starts fresh episodes.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from envs_bridge import base
from envs_bridge.isaacgym.adapter import packed_transition
from mtjax import metrics as mt_metrics
from mtjax.algos import on_policy, ppo

__all__ = ["HostTrainer", "JaxEnvOnHost", "build_host_env", "env_config_from", "make_host_train", "run"]


class HostTrainer(NamedTuple):
    """``init(key) -> TrainState``; ``iteration(state) -> (state, metrics)`` (one rollout + update)."""

    init: Callable[[jax.Array], on_policy.TrainState]
    iteration: Callable[[on_policy.TrainState], tuple[on_policy.TrainState, dict]]
    learner: ppo.Learner


class JaxEnvOnHost:
    """A pure JAX env stepped from the host (jitted ``reset``/``step``): the parity fixture for the host loop."""

    def __init__(self, env: base.Env):
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
        computed once per iteration by a scan of ``adapter.packed_transition``). Default: when available.
    """
    ts_ = env.task_set
    learner = ppo.make_learner(cfg, init_fn, apply_fn, ts_, env.obs_size, env.action_size, tx=tx)
    num_tasks = ts_.num_tasks

    def _act(ls, obs, task_id, key):
        action, log_prob, value = learner.act(ls, obs, task_id, key)
        return action, log_prob, value, jnp.clip(action, -1.0, 1.0)

    def _keys(key, iteration):
        k_roll, k_update = jax.random.split(jax.random.fold_in(key, iteration))
        return jax.random.split(k_roll, cfg.horizon), k_update

    def _finish(ls, tr, last_obs, task_id, k_update):
        ro = ppo.Rollout(obs=tr["obs"], action=tr["action"], log_prob=tr["log_prob"], value=tr["value"],
                         reward=tr["reward"], done=tr["done"], truncated=tr["truncated"], task_id=task_id)
        last_value = learner.value(ls, last_obs, task_id)
        ls, m = learner.update(ls, ro, last_value, k_update)
        m.update(mt_metrics.episode_metrics(tr["done"], tr["info"], task_id, num_tasks))
        m["reward"] = jnp.mean(tr["reward"])
        m.update(mt_metrics.transform_diagnostics(ls.opt_state))
        return ls, m

    o = env.obs_size
    goal_progress = bool(getattr(env, "goal_progress", False))

    def _act_packed(ls, block, task_id, key):  # obs = the first O columns of the env's packed block
        return _act(ls, block[:, :o], task_id, key)

    def _finish_packed(ls, es0, acts, blocks, k_update):
        p = jnp.stack(blocks)  # [H, N, O+5]
        ep, tr = jax.lax.scan(lambda e, b: packed_transition(e, b, o, goal_progress), es0.episode, p)
        obs_next = p[:, :, :o]
        tr.update(acts, obs=jnp.concatenate([es0.obs[None], obs_next[:-1]], 0))
        ls, m = _finish(ls, tr, obs_next[-1], es0.task_id, k_update)
        es = base.EnvState(obs=obs_next[-1], reward=tr["reward"][-1], done=tr["done"][-1],
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


def env_config_from(c: Any):
    """``IsaacGymConfig`` from a run config: ``c.env`` (name = suite, num_envs, kwargs) and ``c.isaacgym``.

    ``c.env.kwargs`` and the optional ``c.isaacgym`` section may set any ``IsaacGymConfig`` field; ``c.isaacgym``
    may also hold ``make_module`` (a module with ``make``/``compose`` replacing isaacgymenvs), ``server_python``
    (run the simulator out of process under that interpreter, e.g. IsaacGym's Python 3.8) and ``transport``
    ("torch" or "raw", see ``ipc``). Returns ``(IsaacGymConfig, bridge options)``.
    """
    from envs_bridge.isaacgym.adapter import IsaacGymConfig
    from experiments import common

    e = common.to_dict(c["env"])
    extra = dict(common.to_dict(e.get("kwargs", {})))
    ig = dict(common.to_dict(c["isaacgym"])) if "isaacgym" in c else {}
    bridge = {k: ig.pop(k) for k in ("make_module", "server_python", "transport") if k in ig}
    extra.update(ig)
    valid = {f.name for f in dataclasses.fields(IsaacGymConfig)}
    bad = set(extra) - valid
    if bad:
        raise ValueError(f"unknown isaacgym option(s) {sorted(bad)}; valid: {sorted(valid)}")
    extra = {k: tuple(v) if isinstance(v, list) else v for k, v in extra.items()}
    return IsaacGymConfig(suite=e["name"], num_envs=int(e["num_envs"]), seed=int(c["seed"]), **extra), bridge


def build_host_env(c: Any):
    """The in-process adapter, or the out-of-process bridge when ``c.isaacgym.server_python`` is set."""
    from envs_bridge.isaacgym.adapter import make_isaacgym_env

    ig_cfg, bridge = env_config_from(c)
    make_module = bridge.get("make_module") or ""
    if bridge.get("server_python"):
        from envs_bridge.isaacgym.ipc import IPCVecEnv

        # Only project paths (never this interpreter's stdlib/site-packages) go to the other Python.
        prefixes = tuple(os.path.realpath(x) for x in {sys.prefix, sys.base_prefix, sys.exec_prefix})
        paths = [x for x in sys.path if x and "-packages" not in x and not os.path.realpath(x).startswith(prefixes)]
        return IPCVecEnv(ig_cfg, python=bridge["server_python"], make_module=make_module,
                         pythonpath=os.pathsep.join(paths), transport=bridge.get("transport") or "torch")
    mod = importlib.import_module(make_module) if make_module else None
    return make_isaacgym_env(ig_cfg, make_fn=getattr(mod, "make", None), compose_fn=getattr(mod, "compose", None))


def run(c: Any, resume: bool = False, env: Any = None) -> dict:
    """The CLI's ``env_backend="isaacgym"`` path; returns the last logged record (see module docstring).

    Args:
      c: the run ConfigDict (as for the jitted path).
      resume: continue from the latest checkpoint of the run directory (fresh episodes).
      env: an already built host env (tests); default ``make_isaacgym_env`` from ``env_config_from(c)``.
    """
    from experiments import common

    common.enable_compile_cache()
    own = env is None
    env = build_host_env(c) if own else env
    try:
        return _run(c, env, resume)
    finally:
        if own and hasattr(env, "close"):
            env.close()


def _run(c: Any, env: Any, resume: bool) -> dict:
    from experiments import common
    from mtjax import checkpoint, run_loop

    run_dir, cfg_json = common.prepare_run_dir(c)
    pcfg = common.ppo_config(c)
    init_fn, apply_fn = common.build_networks(c, env)
    trainer = make_host_train(pcfg, env, init_fn, apply_fn)
    state = trainer.init(jax.random.key(int(c["seed"])))
    ckpt = checkpoint.Checkpointer(run_dir)
    if resume and ckpt.latest_step() is not None:
        restored, _, _ = ckpt.restore(state)
        state = state.replace(learner=restored.learner, key=restored.key, iteration=restored.iteration)
        print(f"resumed {run_dir} at iteration {int(state.iteration)} (fresh simulator episodes)", flush=True)

    def chunk(st, n):
        ms = []
        for _ in range(n):
            st, m = trainer.iteration(st)
            ms.append(m)
        return st, _stack(ms)

    return run_loop.run_logged(chunk, state, c=c, run_dir=run_dir, task_names=env.task_set.task_names,
                               env_steps_per_iteration=env.task_set.num_envs * pcfg.horizon, ckpt=ckpt,
                               config=cfg_json)
