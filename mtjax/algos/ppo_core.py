"""The clipped-surrogate learner machinery shared by MT-PPO and MT-GRPO (Joshi et al., 2025, arXiv 2507.23172).

``mtjax.algos.ppo`` (critic, GAE, value normalisers) and ``mtjax.algos.grpo`` (critic-free, group-relative
advantages) differ in their targets and their per-task loss; both run the same update here: per-task observation
normalisation (statistics from the first mini-epoch's minibatches, one-hot passed through), task-major minibatches
``[M, T, b, ...]`` (``mtjax.algos.batching``), per-task gradients from one
``jax.vmap(jax.value_and_grad(task_loss), in_axes=(None, 0, 0, 0))``, an optax multi-task transform, and the
fixed or KL-adaptive learning rate applied outside the chain. ``docs/ppo.md`` describes the choices.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import struct

from mtjax import losses, normalize
from mtjax.algos import batching
from mtjax.algos.ppo_config import PPOConfig
from mtjax.envs import TaskSet

__all__ = ["Batch", "Learner", "LearnerState", "Policy", "Rollout", "Spec", "act", "build_spec", "init_state",
           "mean_action", "norm_obs", "run_epochs", "value"]


@struct.dataclass
class LearnerState:
    """Everything the learner owns: network variables, optimiser state, normalisers, learning rate.

    ``popart`` is the ``mtjax.popart.PopArtState`` with ``value_norm="popart"`` and None otherwise (the
    state then has exactly the fields of earlier checkpoints).
    """

    params: Any
    opt_state: Any
    obs_stats: normalize.RunningStats
    value_stats: normalize.RunningStats
    lr: jax.Array
    popart: Any = None


@struct.dataclass
class Rollout:
    """One iteration's transitions, time-major (``H`` steps of ``N`` envs).

    Attributes:
      obs: ``[H, N, O]`` raw observations acted on. action: ``[H, N, A]`` sampled (unclipped) actions.
      log_prob: ``[H, N]``. value: ``[H, N]`` raw-unit values of ``obs``. reward: ``[H, N]``.
      done: ``[H, N]`` bool, episode ended after the step. truncated: ``[H, N]`` bool, by time limit.
      task_id: ``[N]`` int32.
    """

    obs: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    reward: jax.Array
    done: jax.Array
    truncated: jax.Array
    task_id: jax.Array


class Learner(NamedTuple):
    """The pure functions of an on-policy learner (MT-PPO, MT-GRPO)."""

    init: Callable[[jax.Array], LearnerState]
    act: Callable[..., tuple[jax.Array, jax.Array, jax.Array]]
    value: Callable[..., jax.Array]
    mean_action: Callable[..., jax.Array]
    update: Callable[..., tuple[LearnerState, dict]]


class Policy(NamedTuple):
    """Gaussian policy outputs on a batch: ``mu`` and ``log_std``, both ``[..., A]``."""

    mu: jax.Array
    log_std: jax.Array


class Batch(NamedTuple):
    """The update's samples: leaves ``[H, N, ...]``, then ``[M, T, b, ...]`` after minibatching.

    MT-PPO: ``value`` and ``ret`` in normalised units when ``normalize_value``, ``adv`` batch-standardised when
    ``normalize_advantage``. MT-GRPO: ``adv`` group-relative, ``value`` and ``ret`` unused.
    """

    obs: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    ret: jax.Array
    adv: jax.Array
    task_id: jax.Array


class _Fit(NamedTuple):
    """What the gradient steps change: network variables, optimiser state, observation statistics."""

    params: Any
    opt_state: Any
    obs_stats: normalize.RunningStats


class _StepCarry(NamedTuple):
    fit: _Fit
    key: jax.Array


class _EpochCarry(NamedTuple):
    """Carry of the mini-epoch scan; ``ref`` is the KL's reference policy per minibatch (``[M, T, b, A]``)."""

    fit: _Fit
    lr: jax.Array
    key: jax.Array
    ref: Policy


@dataclasses.dataclass(frozen=True)
class Spec:
    """The static parts of a learner.

    Attributes:
      cfg: hyper-parameters. apply_fn: the network. tx: the gradient transform. obs_size: ``O``.
      norm_dims: leading observation dims that are normalised (the one-hot tail passes through).
      layout: how a rollout is cut into task-major minibatches.
      obs_clip, value_clip: the normalisers' clamps (None: off).
      task_loss: ``(spec, params, nobs [b, O], mb [b], ref [b]) -> (total, (aux, policy seen, routed))``: one
        task's loss; ``aux`` holds the logged terms and ``"kl"``, ``routed = (critic_loss, actor_loss)`` are the
        losses a loss-weighting transform (FAMO) receives for ``mtrl_target`` "critic" / "actor".
      to_raw: ``(spec, learner state, critic output [B], task_id [B]) -> raw value [B]``.
    """

    cfg: PPOConfig
    apply_fn: Callable
    tx: optax.GradientTransformationExtraArgs
    obs_size: int
    norm_dims: int
    layout: batching.TaskMajorLayout
    obs_clip: float | None
    value_clip: float | None
    task_loss: Callable
    to_raw: Callable


def build_spec(cfg: PPOConfig, apply_fn: Callable, tx: optax.GradientTransformationExtraArgs, task_set: TaskSet,
               obs_size: int, onehot_dims: int | None, task_loss: Callable, to_raw: Callable) -> Spec:
    """The ``Spec`` of a learner on ``task_set`` (``onehot_dims`` default: the number of tasks)."""
    t = task_set.num_tasks
    return Spec(cfg=cfg, apply_fn=apply_fn, tx=tx, obs_size=obs_size,
                norm_dims=obs_size - (t if onehot_dims is None else onehot_dims),
                layout=batching.TaskMajorLayout.build(task_set, cfg.horizon, cfg.minibatch_size),
                obs_clip=cfg.obs_norm_clip or None, value_clip=cfg.value_norm_clip or None,
                task_loss=task_loss, to_raw=to_raw)


def init_state(s: Spec, init_fn: Callable, task_set: TaskSet, key: jax.Array, popart: Any = None) -> LearnerState:
    """Fresh network variables, optimiser state, statistics (count ``stats_init_count``) and learning rate."""
    n, t = task_set.num_envs, task_set.num_tasks
    params = init_fn(key, jnp.zeros((n, s.obs_size), jnp.float32), jnp.asarray(task_set.task_ids))
    count = s.cfg.stats_init_count
    return LearnerState(params=params, opt_state=s.tx.init(params),
                        obs_stats=normalize.init_stats(t, s.norm_dims, count),
                        value_stats=normalize.init_stats(t, 1, count), lr=jnp.asarray(s.cfg.lr, jnp.float32),
                        popart=popart)


def norm_obs(s: Spec, stats: normalize.RunningStats, obs: jax.Array, tid: jax.Array) -> jax.Array:
    """Per-task normalised ``obs`` ``[..., O]``; the trailing one-hot dims pass through."""
    if not s.cfg.normalize_obs:
        return obs
    return normalize.normalize_head(stats, obs, tid, s.norm_dims, eps=s.cfg.obs_norm_eps, clip=s.obs_clip)


def act(s: Spec, ls: LearnerState, obs: jax.Array, task_id: jax.Array, key: jax.Array):
    """Samples ``(action, log_prob, raw value)`` for ``obs`` ``[N, O]``."""
    mu, log_std, v = s.apply_fn(ls.params, norm_obs(s, ls.obs_stats, obs, task_id), task_id)
    action = mu + jnp.exp(log_std) * jax.random.normal(key, mu.shape, mu.dtype)
    return action, losses.gaussian_log_prob(mu, log_std, action), s.to_raw(s, ls, v, task_id)


def value(s: Spec, ls: LearnerState, obs: jax.Array, task_id: jax.Array) -> jax.Array:
    """Raw-unit values ``[N]`` of ``obs`` ``[N, O]``."""
    return s.to_raw(s, ls, s.apply_fn(ls.params, norm_obs(s, ls.obs_stats, obs, task_id), task_id)[2], task_id)


def mean_action(s: Spec, ls: LearnerState, obs: jax.Array, task_id: jax.Array) -> jax.Array:
    """The policy mean ``[N, A]`` (deterministic evaluation)."""
    return s.apply_fn(ls.params, norm_obs(s, ls.obs_stats, obs, task_id), task_id)[0]


def _minibatch_step(s: Spec, lr: jax.Array, first_epoch: jax.Array, carry: _StepCarry,
                    inputs: tuple[Batch, Policy]) -> tuple[_StepCarry, tuple[dict, Policy]]:
    """One gradient step on a ``[T, b, ...]`` minibatch: obs statistics (first mini-epoch), per-task grads, tx."""
    mb, ref = inputs
    fit = carry.fit
    key, k_tx = jax.random.split(carry.key)
    flat_obs, flat_tid = mb.obs.reshape(-1, s.obs_size), mb.task_id.reshape(-1)
    obs_stats = fit.obs_stats
    if s.cfg.normalize_obs:
        new = normalize.update_stats(obs_stats, flat_obs[:, :s.norm_dims], flat_tid)
        obs_stats = jax.tree.map(lambda a, b: jnp.where(first_epoch, a, b), new, obs_stats)
    nobs = norm_obs(s, obs_stats, flat_obs, flat_tid).reshape(mb.obs.shape)
    grad_fn = jax.vmap(jax.value_and_grad(functools.partial(s.task_loss, s), has_aux=True), in_axes=(None, 0, 0, 0))
    (tot, (aux, seen, (critic_l, actor_l))), grads = grad_fn(fit.params, nobs, mb, ref)
    mean_grad_norm = optax.tree.norm(jax.tree.map(lambda g: jnp.mean(g, 0), grads))
    updates, opt_state = s.tx.update(grads, fit.opt_state, fit.params, key=k_tx, task_losses=tot,
                                     critic_task_losses=critic_l, actor_task_losses=actor_l)
    params = jax.tree.map(lambda p, u: p - lr.astype(p.dtype) * u, fit.params, updates)
    metrics = {"loss/total": jnp.mean(tot), **{f"loss/{k}": jnp.mean(v) for k, v in aux.items() if k != "kl"},
               "kl": jnp.mean(aux["kl"]), "grad_norm": mean_grad_norm}
    return _StepCarry(_Fit(params, opt_state, obs_stats), key), (metrics, seen)


def _adapt_lr(cfg: PPOConfig, lr: jax.Array, kl: jax.Array) -> jax.Array:
    """rl_games' KL-threshold schedule (after each mini-epoch); the fixed schedule returns ``lr``."""
    if cfg.lr_schedule != "adaptive":
        return lr
    lr = jnp.where(kl > 2.0 * cfg.kl_threshold, jnp.maximum(lr / 1.5, 1e-6), lr)
    return jnp.where(kl < 0.5 * cfg.kl_threshold, jnp.minimum(lr * 1.5, 1e-2), lr)


def _epoch(s: Spec, batches: Batch, carry: _EpochCarry, epoch: jax.Array) -> tuple[_EpochCarry, dict]:
    """One mini-epoch over the ``M`` minibatches; metrics are means over them."""
    key, sub = jax.random.split(carry.key)
    step = functools.partial(_minibatch_step, s, carry.lr, epoch == 0)
    inner, (m, seen) = jax.lax.scan(step, _StepCarry(carry.fit, sub), (batches, carry.ref))
    ref = seen if s.cfg.kl_reference == "previous_epoch" else carry.ref  # rl_games' dataset.update_mu_sigma
    m = jax.tree.map(jnp.mean, m)
    return _EpochCarry(fit=inner.fit, lr=_adapt_lr(s.cfg, carry.lr, m["kl"]), key=key, ref=ref), m


def _rollout_policy(s: Spec, ls: LearnerState, ro: Rollout) -> Policy:
    """The policy that collected the rollout, on its observations: ``[H, N, A]`` leaves."""
    tid = jnp.broadcast_to(ro.task_id, ro.value.shape).reshape(-1)
    mu, log_std, _ = s.apply_fn(ls.params, norm_obs(s, ls.obs_stats, ro.obs.reshape(-1, s.obs_size), tid), tid)
    return Policy(mu.reshape(ro.action.shape), jnp.broadcast_to(log_std, ro.action.shape))


def run_epochs(s: Spec, ls: LearnerState, ro: Rollout, data: Batch,
               key: jax.Array) -> tuple[LearnerState, dict]:
    """The gradient part of an update: ``cfg.epochs`` mini-epochs over task-major minibatches of ``data``.

    Args:
      ls: the learner state the update starts from (``params`` may already hold a PopArt-rescaled head; the
        actor is the rollout's).
      ro: the rollout (its policy is the KL reference of the first mini-epoch).
      data: ``[H, N, ...]`` samples with their targets.
    Returns:
      ``ls`` with new params, optimiser state, observation statistics and learning rate, and the metrics.
    """
    k_perm, k_epochs = jax.random.split(key)
    # Leaves [M, T, b, ...]: the same partition every mini-epoch; the reference policy is cut with the data.
    batches, ref = s.layout.minibatches((data, _rollout_policy(s, ls, ro)), k_perm)
    carry = _EpochCarry(fit=_Fit(ls.params, ls.opt_state, ls.obs_stats), lr=ls.lr, key=k_epochs, ref=ref)
    carry, m = jax.lax.scan(functools.partial(_epoch, s, batches), carry, jnp.arange(s.cfg.epochs))
    metrics = {k: v[-1] if k == "kl" else jnp.mean(v) for k, v in m.items()}
    metrics["lr"] = carry.lr
    metrics["nonfinite"] = ~(jnp.isfinite(m["loss/total"]).all() & jnp.isfinite(m["grad_norm"]).all())
    fit = carry.fit
    return ls.replace(params=fit.params, opt_state=fit.opt_state, obs_stats=fit.obs_stats, lr=carry.lr), metrics
