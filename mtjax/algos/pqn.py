"""MT-PQN as MTBench runs it: parallel Q-learning with Q(lambda) targets and decoupled multi-discrete actions.

PQN (Gallici et al., 2024, "Simplifying Deep Temporal Difference Learning", arXiv 2407.04811) in the form of
MTBench's ``pqn_agent.py: MTPQNAgent`` (Joshi et al., 2025, arXiv 2507.23172; spec 3.7), with the decoupled
per-dimension utilities of Seyde et al. (2023, arXiv 2210.12566):

* Actions: each of the ``A`` action dims takes one of ``B`` bins (MTBench: 3); bin ``j`` is the continuous value
  ``j * 2 / (B - 1) - 1`` (``bins_to_action``). The learner does the mapping, so the env keeps its continuous
  ``[N, A]`` actions (MTBench's discretised Meta-World is ``make_env("mt10", n, episode_length=500,
  action_scale=0.005)``) and the rollout stores the continuous action, mapped back to bins exactly in the update.
* Q-network ``q(s) [A, B]`` (``mtjax.nets.make_q_network``); ``Q(s, a) = mean_d q(s)[d, a_d]``, greedy action
  ``argmax_j q(s)[d, j]`` per dim, ``V(s) = mean_d max_j q(s)[d, j]``.
* Exploration: epsilon-greedy per env (all dims of an env explore together, each random dim uniform), epsilon
  linear from ``eps_start`` to ``eps_end`` over ``exploration_fraction`` of the iteration budget, held for the
  ``H`` steps of an iteration.
* Targets: Q(lambda) returns over the ``H``-step rollout (``mtjax.targets.q_lambda_returns``), no target network;
  the rollout's values are ``V`` of the states acted in, bootstrapped from ``V(s_H)``. Episode ends (time-outs
  included, as MTBench) are terminal.
* Update: ``epochs`` passes, each a fresh shuffle into ``num_minibatches`` task-major minibatches ``[M, T, b]``
  (``mtjax.algos.batching``); per-task MSE ``mean_b (Q(s, a) - R)^2`` with one
  ``vmap(value_and_grad)`` over the task axis, an optax multi-task transform (``mean`` = MTBench), global-norm
  clip, RAdam with the learning rate linearly annealed to 0 per iteration.

The learner has MT-PPO's interface (``init / act / value / mean_action / update``; ``act`` returns a zero
log-prob), so the jitted on-policy trainer ``mtjax.algos.on_policy.make_train(..., algo="pqn")`` drives it
unchanged. Its state is ``PQNState`` (no normalisers). ``docs/offpolicy.md`` ("MT-PQN").
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import optax
from flax import struct

from mtjax import targets, transforms
from mtjax.algos import batching
from mtjax.algos.ppo_core import Learner, Rollout
from mtjax.envs import TaskSet

__all__ = ["PQNConfig", "PQNState", "action_to_bins", "bins_to_action", "chosen_q", "epsilon", "greedy_bins",
           "learning_rate", "make_learner", "make_transform", "q_targets", "state_value"]

MTRL_TARGETS = ("critic", "both")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PQNConfig:
    """MT-PQN hyper-parameters (defaults: MTBench's MT10 ``meta-world-mt-PQ.yaml`` + ``exec/pqn_exps/pqn.sh``).

    Attributes:
      horizon: rollout steps per env per iteration (16).
      epochs: passes over the rollout per update (MTBench ``mini_epochs`` 8).
      num_minibatches: minibatches per pass (4); each holds ``min_k(n_k) * H / M`` samples of every task.
      total_iterations: the run's iteration budget (50,000), which the epsilon and learning-rate schedules span;
        set it to the trainer's ``total_iterations``.
      num_bins: bins per action dim (3: values -1, 0, +1).
      gamma: discount (0.99). q_lambda: Q(lambda)'s lambda (0.5).
      mask_lambda_return: also cut ``lambda R_{t+1}`` at an episode end (Peng's Q(lambda) of the PQN reference
        code); False = MTBench (``mtjax.targets.q_lambda_returns``).
      eps_start, eps_end: epsilon-greedy's start and floor (1.0, 0.005).
      exploration_fraction: fraction of ``total_iterations`` over which epsilon decays linearly (0.005, i.e. 250
        iterations of 50,000; 0 = ``eps_end`` from the start). MTBench's executed step counter advances ``H``
        times slower, see ``docs/deviations.md``; ``exploration_fraction = 0.005 * H`` reproduces it.
      lr: RAdam learning rate (3e-4). anneal_lr: ``lr * (1 - i / total_iterations)`` at iteration ``i``.
      adam_b1, adam_b2, adam_eps: RAdam's betas and epsilon (torch defaults 0.9, 0.999, 1e-8).
      max_grad_norm: global-norm clip of the aggregated gradient (10).
      mtrl: multi-task gradient method ("mean" = MTBench). mtrl_target: "critic" or "both", the same here: the
        Q-network is the only network (params under ``critic``). mtrl_kwargs: the method's options as
        ``(name, value)`` pairs.
    """

    horizon: int = 16
    epochs: int = 8
    num_minibatches: int = 4
    total_iterations: int = 50_000
    num_bins: int = 3
    gamma: float = 0.99
    q_lambda: float = 0.5
    mask_lambda_return: bool = False
    eps_start: float = 1.0
    eps_end: float = 0.005
    exploration_fraction: float = 0.005
    lr: float = 3e-4
    anneal_lr: bool = True
    adam_b1: float = 0.9
    adam_b2: float = 0.999
    adam_eps: float = 1e-8
    max_grad_norm: float = 10.0
    mtrl: str = "mean"
    mtrl_target: str = "critic"
    mtrl_kwargs: tuple = ()

    def __post_init__(self):
        for name in ("horizon", "epochs", "num_minibatches", "total_iterations", "lr", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"PQNConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.num_bins < 2:
            raise ValueError(f"PQNConfig.num_bins must be >= 2, got {self.num_bins}")
        for name in ("gamma", "q_lambda", "eps_start", "eps_end", "exploration_fraction", "adam_b1", "adam_b2"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"PQNConfig.{name} must lie in [0, 1], got {getattr(self, name)}")
        if self.eps_end > self.eps_start:
            raise ValueError(f"PQNConfig: eps_end={self.eps_end} must be <= eps_start={self.eps_start}")
        if not self.adam_eps >= 0:
            raise ValueError(f"PQNConfig.adam_eps must be >= 0, got {self.adam_eps}")
        if self.mtrl_target not in MTRL_TARGETS:
            raise ValueError(f"PQNConfig.mtrl_target={self.mtrl_target!r}; valid: {', '.join(MTRL_TARGETS)} "
                             "(the Q-network is the only network)")


@struct.dataclass
class PQNState:
    """What the MT-PQN learner owns.

    Attributes:
      params: Q-network variables. opt_state: the gradient transform's state.
      iteration: completed updates (int32 scalar; drives epsilon).
    """

    params: Any
    opt_state: Any
    iteration: jax.Array


# ---------------------------------------------------------------------------------------------- pieces


def bins_to_action(bins: jax.Array, num_bins: int) -> jax.Array:
    """Bin indices ``[..., A]`` (int) to continuous actions ``j * 2 / (B - 1) - 1`` in ``[-1, 1]`` (float32)."""
    return bins.astype(jnp.float32) * (2.0 / (num_bins - 1)) - 1.0


def action_to_bins(action: jax.Array, num_bins: int) -> jax.Array:
    """Inverse of ``bins_to_action`` (nearest bin, int32), exact on the values ``bins_to_action`` makes."""
    return jnp.clip(jnp.round((action + 1.0) * ((num_bins - 1) / 2.0)), 0, num_bins - 1).astype(jnp.int32)


def chosen_q(q: jax.Array, bins: jax.Array) -> jax.Array:
    """Decoupled ``Q(s, a) = mean_d q[..., d, a_d]``: ``q [..., A, B]``, ``bins [..., A]`` -> ``[...]``."""
    return jnp.mean(jnp.take_along_axis(q, bins[..., None], axis=-1)[..., 0], axis=-1)


def greedy_bins(q: jax.Array) -> jax.Array:
    """Per-dim greedy bins ``argmax_j q[..., d, j]``: ``[..., A, B]`` -> ``[..., A]`` int32 (ties: lowest bin)."""
    return jnp.argmax(q, axis=-1).astype(jnp.int32)


def state_value(q: jax.Array) -> jax.Array:
    """``V(s) = mean_d max_j q[..., d, j]``: ``[..., A, B]`` -> ``[...]``."""
    return jnp.mean(jnp.max(q, axis=-1), axis=-1)


def epsilon(cfg: PQNConfig, iteration: jax.Array) -> jax.Array:
    """``max(eps_end, eps_start + (eps_end - eps_start) * i / (exploration_fraction * total_iterations))``."""
    decay = cfg.exploration_fraction * cfg.total_iterations
    i = jnp.asarray(iteration, jnp.float32)
    frac = i / decay if decay > 0 else jnp.ones_like(i)
    return jnp.maximum(cfg.eps_end, cfg.eps_start + (cfg.eps_end - cfg.eps_start) * frac)


def learning_rate(cfg: PQNConfig, count: jax.Array, steps_per_iteration: int) -> jax.Array:
    """MTBench's per-iteration anneal ``lr * (1 - i / total_iterations)``, ``i = count // steps_per_iteration``
    (``count`` = gradient steps taken), floored at 0; the constant ``lr`` without ``anneal_lr``."""
    if not cfg.anneal_lr:
        return jnp.asarray(cfg.lr, jnp.float32)
    i = (jnp.asarray(count) // steps_per_iteration).astype(jnp.float32)
    return cfg.lr * jnp.maximum(1.0 - i / cfg.total_iterations, 0.0)


def make_transform(cfg: PQNConfig, num_tasks: int) -> optax.GradientTransformationExtraArgs:
    """``chain(multi-task aggregator, clip_by_global_norm, RAdam(annealed lr))`` on task-stacked gradients."""
    agg = transforms.make_mtrl(cfg.mtrl, cfg.mtrl_target, num_tasks=num_tasks, **dict(cfg.mtrl_kwargs))
    sched = functools.partial(learning_rate, cfg, steps_per_iteration=cfg.epochs * cfg.num_minibatches)
    return optax.chain(agg, optax.clip_by_global_norm(cfg.max_grad_norm),
                       optax.radam(sched, b1=cfg.adam_b1, b2=cfg.adam_b2, eps=cfg.adam_eps))


def q_targets(cfg: PQNConfig, ro: Rollout, last_value: jax.Array) -> jax.Array:
    """Q(lambda) returns ``[H, N]`` of a rollout (values ``ro.value`` = ``V(s_t)``, bootstrap ``V(s_H)`` ``[N]``)."""
    return jax.vmap(targets.q_lambda_returns, in_axes=(1, 1, 1, 0, None, None, None), out_axes=1)(
        ro.reward, ro.done, ro.value, last_value, cfg.gamma, cfg.q_lambda, cfg.mask_lambda_return)


# ---------------------------------------------------------------------------------------------- learner


class _Spec(NamedTuple):
    cfg: PQNConfig
    apply_fn: Callable
    tx: optax.GradientTransformationExtraArgs
    layout: batching.TaskMajorLayout
    action_size: int


def make_learner(cfg: PQNConfig, init_fn: Callable, apply_fn: Callable, task_set: TaskSet, obs_size: int,
                 action_size: int, onehot_dims: int | None = None,
                 tx: optax.GradientTransformationExtraArgs | None = None) -> Learner:
    """Builds MT-PQN for a task-major batch (the signature of ``mtjax.algos.ppo.make_learner``).

    Args:
      cfg: ``PQNConfig``.
      init_fn, apply_fn: ``mtjax.nets.make_q_network(action_size=A, num_bins=cfg.num_bins, ...)``;
        ``apply_fn(params, obs [N, O], task_id [N]) -> q [N, A, B]``.
      task_set: the batch layout. obs_size: ``O``. action_size: ``A``.
      onehot_dims: unused (MT-PQN does not normalise observations).
      tx: replaces ``make_transform(cfg, T)``; must take task-stacked gradients.

    Raises:
      TypeError: ``cfg`` is not a ``PQNConfig``.
      ValueError: a task has too few samples for ``num_minibatches``.
    """
    del onehot_dims
    if not isinstance(cfg, PQNConfig):
        raise TypeError(f"pqn.make_learner needs a PQNConfig, got {type(cfg).__name__}")
    per_task = min(task_set.envs_per_task) * cfg.horizon // cfg.num_minibatches
    if per_task < 1:
        raise ValueError(f"PQN: {cfg.num_minibatches} minibatches but the smallest task has only "
                         f"{min(task_set.envs_per_task) * cfg.horizon} samples per update")
    layout = batching.TaskMajorLayout(task_set.offsets, task_set.envs_per_task, cfg.horizon, cfg.num_minibatches,
                                      per_task)
    s = _Spec(cfg, apply_fn, make_transform(cfg, task_set.num_tasks) if tx is None else tx, layout, action_size)

    def init(key: jax.Array) -> PQNState:
        n = task_set.num_envs
        params = init_fn(key, jnp.zeros((n, obs_size), jnp.float32), jnp.asarray(task_set.task_ids))
        return PQNState(params=params, opt_state=s.tx.init(params), iteration=jnp.zeros((), jnp.int32))

    return Learner(init=init, act=functools.partial(_act, s), value=functools.partial(_value, s),
                   mean_action=functools.partial(_mean_action, s), update=functools.partial(_update, s))


def _q(s: _Spec, params: Any, obs: jax.Array, task_id: jax.Array) -> jax.Array:
    q = s.apply_fn(params, obs, task_id)
    chex.assert_shape(q, obs.shape[:-1] + (s.action_size, s.cfg.num_bins))
    return q


def _act(s: _Spec, ls: PQNState, obs: jax.Array, task_id: jax.Array, key: jax.Array):
    """Epsilon-greedy ``(action [N, A] in {bin values}, log_prob zeros [N], V(s) [N])``."""
    q = _q(s, ls.params, obs, task_id)
    greedy = greedy_bins(q)
    k_explore, k_random = jax.random.split(key)
    explore = jax.random.uniform(k_explore, obs.shape[:1]) < epsilon(s.cfg, ls.iteration)
    random_bins = jax.random.randint(k_random, greedy.shape, 0, s.cfg.num_bins, jnp.int32)
    bins = jnp.where(explore[:, None], random_bins, greedy)
    v = state_value(q)
    return bins_to_action(bins, s.cfg.num_bins), jnp.zeros_like(v), v


def _value(s: _Spec, ls: PQNState, obs: jax.Array, task_id: jax.Array) -> jax.Array:
    return state_value(_q(s, ls.params, obs, task_id))


def _mean_action(s: _Spec, ls: PQNState, obs: jax.Array, task_id: jax.Array) -> jax.Array:
    """The greedy action ``[N, A]`` (deterministic evaluation)."""
    return bins_to_action(greedy_bins(_q(s, ls.params, obs, task_id)), s.cfg.num_bins)


def _task_loss(s: _Spec, params: Any, mb: dict) -> tuple[jax.Array, jax.Array]:
    """One task's MSE ``mean_b (Q(s_b, a_b) - R_b)^2`` on ``[b, ...]`` leaves; aux: ``mean_b Q(s_b, a_b)``."""
    q_sa = chosen_q(_q(s, params, mb["obs"], mb["task_id"]), mb["bins"])
    return jnp.mean(jnp.square(q_sa - mb["ret"])), jnp.mean(q_sa)


def _minibatch_step(s: _Spec, carry: tuple, mb: dict) -> tuple[tuple, dict]:
    """One gradient step on a task-major ``[T, b, ...]`` minibatch."""
    params, opt_state, key = carry
    key, k_tx = jax.random.split(key)
    grad_fn = jax.vmap(jax.value_and_grad(functools.partial(_task_loss, s), has_aux=True), in_axes=(None, 0))
    (loss, q_mean), grads = grad_fn(params, mb)
    updates, opt_state = s.tx.update(grads, opt_state, params, key=k_tx, task_losses=loss,
                                     critic_task_losses=loss, actor_task_losses=jnp.zeros_like(loss))
    params = optax.apply_updates(params, updates)
    m = {"task_loss": loss, "q": jnp.mean(q_mean),
         "grad_norm": optax.tree.norm(jax.tree.map(lambda g: jnp.mean(g, 0), grads))}
    return (params, opt_state, key), m


def _update(s: _Spec, ls: PQNState, ro: Rollout, last_value: jax.Array,
            key: jax.Array) -> tuple[PQNState, dict]:
    """The MT-PQN update of one rollout (``[H, N, ...]``) bootstrapped from ``last_value = V(s_H)`` ``[N]``."""
    cfg = s.cfg
    chex.assert_shape(last_value, ro.reward.shape[1:])
    ret = q_targets(cfg, ro, last_value)
    data = {"obs": ro.obs, "bins": action_to_bins(ro.action, cfg.num_bins), "ret": ret,
            "task_id": jnp.broadcast_to(ro.task_id, ret.shape)}
    k_steps, k_epochs = jax.random.split(key)

    def epoch(carry, k_perm):
        batches = s.layout.minibatches(data, k_perm)  # a fresh shuffle every pass, as MTBench
        return jax.lax.scan(functools.partial(_minibatch_step, s), carry, batches)

    (params, opt_state, _), m = jax.lax.scan(epoch, (ls.params, ls.opt_state, k_steps),
                                             jax.random.split(k_epochs, cfg.epochs))
    task_loss = jnp.mean(m["task_loss"], axis=(0, 1))  # [T]
    metrics = {"loss/total": jnp.mean(task_loss), "loss/q": jnp.mean(task_loss), "task/q_loss": task_loss,
               "q": jnp.mean(m["q"]), "target_q": jnp.mean(ret), "grad_norm": jnp.mean(m["grad_norm"]),
               "epsilon": epsilon(cfg, ls.iteration), "lr": learning_rate(cfg, ls.iteration, 1)}
    metrics["nonfinite"] = ~(jnp.isfinite(m["task_loss"]).all() & jnp.isfinite(m["grad_norm"]).all())
    return PQNState(params=params, opt_state=opt_state, iteration=ls.iteration + 1), metrics
