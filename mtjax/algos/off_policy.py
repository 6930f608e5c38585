"""The jitted off-policy trainer for JAX-native environments: env steps, replay and gradient steps in one program.

MTBench's off-policy loop (Joshi et al., 2025, arXiv 2507.23172; MT-SAC and FastTD3, ``docs/offpolicy.md``): one
iteration plays ``H`` steps of every env (act, ``env.step``, push into the n-step accumulator, add to the FIFO
replay; Mnih et al., 2015), then takes ``G`` gradient steps on minibatches sampled from the replay. The first
``warmup_steps`` env steps use uniform random actions, and no update runs before the replay holds data.

``make_train(cfg, env, learner)`` returns ``Trainer(init, train_chunk, train, learner)`` with the contract of
``mtjax.algos.on_policy.Trainer``: ``init(key) -> TrainState``; ``train_chunk(state, n) -> (state, metrics
stacked [n])`` (``n`` static, a ``lax.scan``); ``train(key)`` runs the whole budget and is pure, so it vmaps
over seeds. The replay and the n-step accumulator live in the ``TrainState``, so a checkpoint holds them and a
resume continues bitwise. Iteration keys are ``fold_in(key, iteration)``.

A learner (``mtjax.algos.sac``, ``mtjax.algos.fasttd3``) is a ``Learner(init, act, update)`` of pure functions;
``update`` takes one task-major minibatch ``replay.Transition`` with ``[T, B/T, ...]`` leaves (stratified:
``B/T`` samples of every task, the shape of the per-task gradient path).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from mtjax import metrics as mt_metrics
from mtjax import replay
from mtjax.envs import Env, EnvState

__all__ = ["Learner", "OffPolicyConfig", "TrainState", "Trainer", "make_train"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class OffPolicyConfig:
    """The driver's settings, shared by the off-policy learners' configs (which subclass it).

    Attributes:
      horizon: env steps of every env per iteration (MT-SAC and FastTD3: 1).
      gradient_steps: gradient updates per iteration (MT-SAC MT10 best run: 4; FastTD3: 2).
      batch_size: transitions per update over all tasks (8,192). The batch is drawn ``batch_size // T`` per
        task (MT10: 819 x 10 = 8,190), so it must be at least the task count.
      buffer_size: replay capacity in transitions (rounded down to a multiple of the env count).
      n_step: n of the n-step returns (MT-SAC MT10: 4, MT50: 16; FastTD3: 8).
      gamma: discount.
      warmup_steps: env steps (per env) played with uniform random actions at the start (MTBench: ``n_step``).
        Updates start in the first iteration after which the replay holds data.
      timeout_as_terminal: time-outs drop the bootstrap (MT-SAC, spec quirk Q9). False needs the env to put the
        true final observation in ``info["final_obs"]``.
    """

    horizon: int = 1
    gradient_steps: int = 1
    batch_size: int = 8192
    buffer_size: int = 1_000_000
    n_step: int = 1
    gamma: float = 0.99
    warmup_steps: int = 1
    timeout_as_terminal: bool = True

    def __post_init__(self):
        name = type(self).__name__
        for f in ("horizon", "gradient_steps", "batch_size", "buffer_size", "n_step"):
            if getattr(self, f) < 1:
                raise ValueError(f"{name}.{f} must be >= 1, got {getattr(self, f)}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"{name}.gamma must lie in [0, 1], got {self.gamma}")
        if self.warmup_steps < 0:
            raise ValueError(f"{name}.warmup_steps must be >= 0, got {self.warmup_steps}")


class Learner(NamedTuple):
    """An off-policy learner's pure functions.

    Attributes:
      init: ``key -> learner state``.
      act: ``(state, obs [N, O], task_id [N], key, deterministic=False) -> action [N, A]`` in ``[-1, 1]``.
      update: ``(state, batch, key) -> (state, metrics)``; ``batch`` a ``replay.Transition`` with task-major
        ``[T, B/T, ...]`` leaves; metrics must hold ``loss/total``, ``grad_norm`` and ``nonfinite``.
      observe: optional ``(state, reward [N], done [N], task_id [N], key) -> state`` after every env step (the
        learner's per-env exploration state and reward statistics: FastTD3); the driver then carries the learner
        state through the env steps, so ``act`` sees it at the next step.
    """

    init: Callable[[jax.Array], Any]
    act: Callable[..., jax.Array]
    update: Callable[..., tuple[Any, dict]]
    observe: Callable[..., Any] | None = None


@struct.dataclass
class TrainState:
    """Full training state (what a checkpoint holds).

    Attributes:
      learner: the learner's state (networks, targets, optimisers, normalisers).
      env_state: the batch of environments.
      replay: the FIFO replay (``[R, N, ...]`` transitions).
      nstep: the n-step accumulator (last ``n`` steps of every env).
      key: the trainer's PRNG key (typed).
      iteration: completed iterations (int32 scalar).
    """

    learner: Any
    env_state: EnvState
    replay: replay.ReplayState
    nstep: replay.NStepState
    key: jax.Array
    iteration: jax.Array


class Trainer(NamedTuple):
    init: Callable[[jax.Array], TrainState]
    train_chunk: Callable[[TrainState, int], tuple[TrainState, dict]]
    train: Callable[[jax.Array], tuple[TrainState, dict]]
    learner: Learner


class _Collect(NamedTuple):
    """Carry of the env-step scan."""

    learner: Any
    env_state: EnvState
    replay: replay.ReplayState
    nstep: replay.NStepState


@dataclasses.dataclass(frozen=True)
class _Spec:
    cfg: OffPolicyConfig
    env: Env
    learner: Learner
    task_ids: np.ndarray
    num_tasks: int
    final_obs: bool


def make_train(cfg: OffPolicyConfig, env: Env, learner: Learner, total_iterations: int = 1) -> Trainer:
    """Builds the pure training functions (jit them at the top: ``jax.jit(trainer.train_chunk, static_argnums=1)``).

    Args:
      cfg: the learner's config (an ``OffPolicyConfig`` subclass such as ``sac.SACConfig``).
      env: a pure JAX environment following ``mtjax.envs.Env`` (task-major).
      learner: e.g. ``sac.make_learner(cfg, ...)``.
      total_iterations: iterations run by ``train(key)``.

    Raises:
      ValueError: ``batch_size`` below the task count, a replay smaller than one add, or
        ``timeout_as_terminal=False`` with an env that does not report ``info["final_obs"]``.
    """
    ts = env.task_set
    t, n = ts.num_tasks, ts.num_envs
    if cfg.batch_size < t:
        raise ValueError(f"batch_size={cfg.batch_size} must be >= the {t} tasks (stratified: batch_size // T each)")
    if cfg.buffer_size < n:
        raise ValueError(f"buffer_size={cfg.buffer_size} is smaller than one add of {n} envs")
    has_final = "final_obs" in jax.eval_shape(env.reset, jax.random.key(0)).info
    if not cfg.timeout_as_terminal and not has_final:
        raise ValueError("timeout_as_terminal=False needs the env to report info['final_obs'] (the observation "
                         "before the auto-reset); this env does not")
    s = _Spec(cfg=cfg, env=env, learner=learner, task_ids=ts.task_ids, num_tasks=t, final_obs=has_final)

    def train_chunk(state: TrainState, n: int):
        return jax.lax.scan(functools.partial(_iteration, s), state, None, length=n)

    def train(key: jax.Array):
        return train_chunk(_init(s, key), total_iterations)

    return Trainer(init=functools.partial(_init, s), train_chunk=train_chunk, train=train, learner=learner)


def _init(s: _Spec, key: jax.Array) -> TrainState:
    k_env, k_learn, k_run = jax.random.split(key, 3)
    env_state = s.env.reset(k_env)
    n, a = env_state.obs.shape[0], s.env.action_size
    obs0, act0, zero = jnp.zeros_like(env_state.obs), jnp.zeros((n, a), jnp.float32), jnp.zeros((n,), jnp.float32)
    example = replay.Transition(obs=obs0, action=act0, reward=zero, next_obs=obs0, done=zero, n_steps=zero)
    return TrainState(learner=s.learner.init(k_learn), env_state=env_state,
                      replay=replay.init_replay(example, s.cfg.buffer_size),
                      nstep=replay.init_nstep(obs0, act0, s.cfg.n_step), key=k_run,
                      iteration=jnp.zeros((), jnp.int32))


def _env_step(s: _Spec, carry: _Collect, inputs: tuple[jax.Array, jax.Array]) -> tuple[_Collect, dict]:
    """One step of every env: act (uniform random during warm-up), step, n-step push, replay add, the learner's
    ``observe``."""
    key, step = inputs
    es, ls = carry.env_state, carry.learner
    k_act, k_rand = jax.random.split(key)
    policy = s.learner.act(ls, es.obs, es.task_id, k_act)
    random = jax.random.uniform(k_rand, policy.shape, policy.dtype, -1.0, 1.0)
    action = jnp.where(step < s.cfg.warmup_steps, random, policy)
    nxt = s.env.step(es, action)
    next_obs = nxt.info["final_obs"] if s.final_obs else nxt.obs
    acc, tr, ready = replay.nstep_push(carry.nstep, es.obs, action, nxt.reward, next_obs, nxt.done, nxt.truncated,
                                       s.cfg.gamma, timeout_as_terminal=s.cfg.timeout_as_terminal)
    buf = replay.add(carry.replay, tr, valid=ready)
    if s.learner.observe is not None:
        ls = s.learner.observe(ls, nxt.reward, nxt.done, es.task_id, jax.random.fold_in(k_act, 1))
    out = {"obs": es.obs, "reward": nxt.reward, "done": nxt.done, "info": nxt.info}
    return _Collect(ls, nxt, buf, acc), out


def _learn(s: _Spec, ls: Any, buf: replay.ReplayState, key: jax.Array) -> tuple[Any, dict]:
    """``G`` gradient steps, each on a fresh stratified minibatch; metrics averaged over them."""
    per_task = s.cfg.batch_size // s.num_tasks

    def body(ls, k):
        k_sample, k_update = jax.random.split(k)
        batch = replay.sample_per_task(buf, k_sample, per_task, s.task_ids, s.num_tasks)
        return s.learner.update(ls, batch, k_update)

    ls, m = jax.lax.scan(body, ls, jax.random.split(key, s.cfg.gradient_steps))
    return ls, {k: jnp.any(v) if v.dtype == jnp.bool_ else jnp.mean(v, axis=0) for k, v in m.items()}


def _iteration(s: _Spec, state: TrainState, _) -> tuple[TrainState, dict]:
    """``H`` env steps into the replay, then ``G`` updates once the replay holds data; metrics of the iteration."""
    cfg = s.cfg
    k_roll, k_update = jax.random.split(jax.random.fold_in(state.key, state.iteration))
    steps = state.iteration * cfg.horizon + jnp.arange(cfg.horizon)
    carry = _Collect(state.learner, state.env_state, state.replay, state.nstep)
    carry, tr = jax.lax.scan(functools.partial(_env_step, s), carry, (jax.random.split(k_roll, cfg.horizon), steps))
    learn = ((state.iteration + 1) * cfg.horizon >= cfg.warmup_steps) & (replay.num_transitions(carry.replay) > 0)
    learn_fn = functools.partial(_learn, s)
    shapes = jax.eval_shape(learn_fn, carry.learner, carry.replay, k_update)[1]

    def skip(ls, buf, key):
        del buf, key
        return ls, jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), shapes)

    ls, m = jax.lax.cond(learn, learn_fn, skip, carry.learner, carry.replay, k_update)
    es = carry.env_state
    m.update(mt_metrics.episode_metrics(tr["done"], tr["info"], es.task_id, s.num_tasks))
    m["reward"] = jnp.mean(tr["reward"])
    m["learning"] = learn
    m["replay/size"] = replay.num_transitions(carry.replay)
    finite_env = jnp.isfinite(tr["obs"]).all() & jnp.isfinite(es.obs).all() & jnp.isfinite(tr["reward"]).all()
    m["nonfinite"] = m["nonfinite"] | ~finite_env
    new = state.replace(learner=ls, env_state=es, replay=carry.replay, nstep=carry.nstep,
                        iteration=state.iteration + 1)
    return new, m
