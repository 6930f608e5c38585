"""MT-PPO as MTBench runs it (Joshi et al., 2025, arXiv 2507.23172; PPO: Schulman et al., 2017).

The learner is environment-agnostic: ``act`` and ``update`` are pure functions that the jitted JAX-env loop
(``mtjax.algos.on_policy``) and the host-loop trainer (``mtjax.algos.host_loop``, IsaacGym) both call.
MTBench specifics: per-task observation normalisation (one-hot passed through,
statistics updated from training minibatches during the first mini-epoch only), per-task value normalisation, GAE
with a ``gamma * V(s_t)`` bootstrap at time-outs, batch-wide advantage standardisation plus per-task
re-standardisation inside each minibatch, clipped surrogate and clipped value loss, entropy and bound losses,
gradient-norm clipping, Adam with a fixed or KL-adaptive learning rate.

There is one gradient path: each minibatch is task-major ``[T, b, ...]``, per-task gradients come from
``jax.vmap(jax.value_and_grad(loss), in_axes=(None, 0))`` and an optax multi-task transform aggregates them
(``mean`` is plain PPO; PCGrad/CAGrad/FAMO replace it on the ``mtrl_target`` parameter subset).
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

from mtjax import losses, normalize, returns, transforms
from mtjax.algos import batching
from mtjax.envs import TaskSet

_VALUE_EPS = 1e-5  # rl_games RunningMeanStd epsilon (value normaliser)

__all__ = ["Learner", "LearnerState", "PPOConfig", "Rollout", "make_learner", "make_transform"]

LR_SCHEDULES = ("fixed", "adaptive")
KL_REFERENCES = ("previous_epoch", "rollout")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PPOConfig:
    """MT-PPO hyper-parameters (defaults: MTBench's shared Meta-World settings).

    Attributes:
      horizon: rollout length per env per iteration.
      epochs: mini-epochs per update.
      minibatch_size: samples per minibatch over all tasks (the batch is ``num_envs * horizon``).
      lr: Adam learning rate (initial value for the adaptive schedule).
      lr_schedule: "fixed" or "adaptive" (rl_games' KL-threshold rule, applied after each mini-epoch).
      kl_threshold: the adaptive schedule's KL target.
      kl_reference: what the KL that drives the adaptive schedule compares the current policy with:
        "previous_epoch" (rl_games: after each minibatch the policy's mu/sigma on that minibatch, computed before
        the step, replace the stored ones, so mini-epoch ``e`` is compared with mini-epoch ``e - 1``) or
        "rollout" (the policy that collected the data; smaller learning rates). The KL is rl_games'
        ``policy_kl``: KL(current || reference) with its ``+1e-5`` inside the log-ratio.
      gamma: discount. lam: GAE lambda. clip: PPO ratio and value clip.
      critic_coef: the value loss is weighted ``0.5 * critic_coef``.
      entropy_coef: entropy bonus weight. bound_coef: action-mean bound loss weight.
      max_grad_norm: global gradient-norm clip after aggregation.
      adam_eps: Adam epsilon.
      normalize_obs / normalize_value / normalize_advantage: MTBench's normalisers (all on by default).
      value_norm_clip: rl_games clamps normalised values and returns, and the critic's output before
        de-normalising it, to ``[-value_norm_clip, value_norm_clip]`` (5); 0 disables the clamp.
      stats_init_count: starting count of the running statistics (rl_games' ``RunningMeanStd``: 1).
      obs_norm_clip, obs_norm_eps: normalised observations are ``(x - mean) / sqrt(var + obs_norm_eps)``,
        clamped to ``[-obs_norm_clip, obs_norm_clip]`` unless the clip is 0. Default: MTBench's executed
        per-task normaliser (1e-8, no clamp). rl_games' own ``RunningMeanStd`` uses 1e-5 and clamps at 5: the
        documented fix for dims that barely vary while a task is unsolved (window-close's handle x has a std of
        0.45 mm, so its first centimetre of motion is a 22-sigma input; ``docs/deviations.md``).
      value_bootstrap: add ``gamma * V(s_t)`` to the reward of time-out steps.
      mtrl: multi-task gradient method name ("mean" is plain PPO). mtrl_target: "critic", "actor" or "both".
      mtrl_kwargs: keyword arguments of the method, as a tuple of ``(name, value)`` pairs (hashable).
      log_std_init: initial log standard deviation of the policy.
    """

    horizon: int = 32
    epochs: int = 5
    minibatch_size: int = 32768
    lr: float = 5e-4
    lr_schedule: str = "fixed"
    kl_threshold: float = 0.008
    kl_reference: str = "previous_epoch"
    gamma: float = 0.99
    lam: float = 0.95
    clip: float = 0.2
    critic_coef: float = 4.0
    entropy_coef: float = 0.005
    bound_coef: float = 1e-4
    max_grad_norm: float = 1.0
    adam_eps: float = 1e-8
    normalize_obs: bool = True
    normalize_value: bool = True
    normalize_advantage: bool = True
    value_bootstrap: bool = True
    value_norm_clip: float = 5.0
    stats_init_count: float = 1.0
    obs_norm_clip: float = 0.0
    obs_norm_eps: float = 1e-8
    mtrl: str = "mean"
    mtrl_target: str = "critic"
    mtrl_kwargs: tuple = ()
    log_std_init: float = 0.0

    def __post_init__(self):
        positive = ("horizon", "epochs", "minibatch_size", "lr", "max_grad_norm", "kl_threshold")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"PPOConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.kl_reference not in KL_REFERENCES:
            raise ValueError(f"PPOConfig.kl_reference={self.kl_reference!r}; valid: {', '.join(KL_REFERENCES)}")
        if self.value_norm_clip < 0 or self.stats_init_count <= 0:
            raise ValueError(f"PPOConfig: value_norm_clip must be >= 0 and stats_init_count > 0, got "
                             f"{self.value_norm_clip}, {self.stats_init_count}")
        if self.obs_norm_clip < 0 or self.obs_norm_eps <= 0:
            raise ValueError(f"PPOConfig: obs_norm_clip must be >= 0 and obs_norm_eps > 0, got "
                             f"{self.obs_norm_clip}, {self.obs_norm_eps}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"PPOConfig.lr_schedule={self.lr_schedule!r}; valid: {', '.join(LR_SCHEDULES)}")
        if not 0.0 <= self.gamma <= 1.0 or not 0.0 <= self.lam <= 1.0:
            raise ValueError(f"gamma and lam must lie in [0, 1], got {self.gamma}, {self.lam}")
        if self.mtrl_target not in ("critic", "actor", "both"):
            raise ValueError(f"PPOConfig.mtrl_target={self.mtrl_target!r}; valid: critic, actor, both")


@struct.dataclass
class LearnerState:
    """Everything the learner owns: network variables, optimiser state, normalisers, learning rate."""

    params: Any
    opt_state: Any
    obs_stats: normalize.RunningStats
    value_stats: normalize.RunningStats
    lr: jax.Array


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
    """The pure functions of MT-PPO (see the module docstring)."""

    init: Callable[[jax.Array], LearnerState]
    act: Callable[..., tuple[jax.Array, jax.Array, jax.Array]]
    value: Callable[..., jax.Array]
    mean_action: Callable[..., jax.Array]
    update: Callable[..., tuple[LearnerState, dict]]


class _Policy(NamedTuple):
    """Gaussian policy outputs on a batch: ``mu`` and ``log_std``, both ``[..., A]``."""

    mu: jax.Array
    log_std: jax.Array


class _Batch(NamedTuple):
    """The update's samples: leaves ``[H, N, ...]``, then ``[M, T, b, ...]`` after minibatching.

    ``value`` and ``ret`` are in normalised units when ``normalize_value``; ``adv`` is batch-standardised when
    ``normalize_advantage``.
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
    """Carry of the minibatch scan inside one mini-epoch."""

    fit: _Fit
    key: jax.Array


class _EpochCarry(NamedTuple):
    """Carry of the mini-epoch scan; ``ref`` is the KL's reference policy per minibatch (``[M, T, b, A]``)."""

    fit: _Fit
    lr: jax.Array
    key: jax.Array
    ref: _Policy


@dataclasses.dataclass(frozen=True)
class _Spec:
    """The static parts of a learner.

    Attributes:
      cfg: hyper-parameters. apply_fn: the network. tx: the gradient transform. obs_size: ``O``.
      norm_dims: leading observation dims that are normalised (the one-hot tail passes through).
      layout: how a rollout is cut into task-major minibatches.
      obs_clip, value_clip: the normalisers' clamps (None: off).
    """

    cfg: PPOConfig
    apply_fn: Callable
    tx: optax.GradientTransformationExtraArgs
    obs_size: int
    norm_dims: int
    layout: batching.TaskMajorLayout
    obs_clip: float | None
    value_clip: float | None


def make_transform(cfg: PPOConfig, num_tasks: int) -> optax.GradientTransformationExtraArgs:
    """The gradient path's optax chain: multi-task aggregation, norm clip, Adam direction (lr applied later)."""
    agg = transforms.make_mtrl(cfg.mtrl, cfg.mtrl_target, num_tasks=num_tasks, **dict(cfg.mtrl_kwargs))
    return optax.chain(agg, optax.clip_by_global_norm(cfg.max_grad_norm), optax.scale_by_adam(eps=cfg.adam_eps))


def make_learner(cfg: PPOConfig, init_fn: Callable, apply_fn: Callable, task_set: TaskSet,
                 obs_size: int, action_size: int, onehot_dims: int | None = None,
                 tx: optax.GradientTransformationExtraArgs | None = None) -> Learner:
    """Builds MT-PPO for a task-major batch.

    Args:
      cfg: hyper-parameters.
      init_fn, apply_fn: from ``mtjax.nets.make_actor_critic``.
      task_set: the batch layout (task-major env blocks).
      obs_size: observation size including the one-hot; action_size: action size.
      onehot_dims: trailing observation dims passed through un-normalised (default: the number of tasks).
      tx: the gradient transform (default ``make_transform(cfg, T)``); must accept task-stacked gradients.
    """
    del action_size  # the network fixes it
    t = task_set.num_tasks
    spec = _Spec(cfg=cfg, apply_fn=apply_fn, tx=make_transform(cfg, t) if tx is None else tx, obs_size=obs_size,
                 norm_dims=obs_size - (t if onehot_dims is None else onehot_dims),
                 layout=batching.TaskMajorLayout.build(task_set, cfg.horizon, cfg.minibatch_size),
                 obs_clip=cfg.obs_norm_clip or None, value_clip=cfg.value_norm_clip or None)
    return Learner(init=functools.partial(_init, spec, init_fn, task_set), act=functools.partial(_act, spec),
                   value=functools.partial(_value, spec), mean_action=functools.partial(_mean_action, spec),
                   update=functools.partial(_update, spec))


def _init(s: _Spec, init_fn: Callable, task_set: TaskSet, key: jax.Array) -> LearnerState:
    n, t = task_set.num_envs, task_set.num_tasks
    params = init_fn(key, jnp.zeros((n, s.obs_size), jnp.float32), jnp.asarray(task_set.task_ids))
    count = s.cfg.stats_init_count
    return LearnerState(params=params, opt_state=s.tx.init(params),
                        obs_stats=normalize.init_stats(t, s.norm_dims, count),
                        value_stats=normalize.init_stats(t, 1, count), lr=jnp.asarray(s.cfg.lr, jnp.float32))


def _norm_obs(s: _Spec, stats: normalize.RunningStats, obs: jax.Array, tid: jax.Array) -> jax.Array:
    """Per-task normalised ``obs`` ``[..., O]``; the trailing one-hot dims pass through."""
    if not s.cfg.normalize_obs:
        return obs
    d = s.norm_dims
    x = normalize.normalize(stats, obs[..., :d], tid, eps=s.cfg.obs_norm_eps, clip=s.obs_clip)
    return jnp.concatenate([x, obs[..., d:]], axis=-1)


def _to_raw(s: _Spec, ls: LearnerState, v: jax.Array, tid: jax.Array) -> jax.Array:
    """The critic's (normalised) output in raw reward units."""
    if not s.cfg.normalize_value:
        return v
    return normalize.denormalize(ls.value_stats, v, tid, eps=_VALUE_EPS, clip=s.value_clip)


def _act(s: _Spec, ls: LearnerState, obs: jax.Array, task_id: jax.Array, key: jax.Array):
    """Samples ``(action, log_prob, raw value)`` for ``obs`` ``[N, O]``."""
    mu, log_std, v = s.apply_fn(ls.params, _norm_obs(s, ls.obs_stats, obs, task_id), task_id)
    action = mu + jnp.exp(log_std) * jax.random.normal(key, mu.shape, mu.dtype)
    return action, losses.gaussian_log_prob(mu, log_std, action), _to_raw(s, ls, v, task_id)


def _value(s: _Spec, ls: LearnerState, obs: jax.Array, task_id: jax.Array) -> jax.Array:
    return _to_raw(s, ls, s.apply_fn(ls.params, _norm_obs(s, ls.obs_stats, obs, task_id), task_id)[2], task_id)


def _mean_action(s: _Spec, ls: LearnerState, obs: jax.Array, task_id: jax.Array) -> jax.Array:
    return s.apply_fn(ls.params, _norm_obs(s, ls.obs_stats, obs, task_id), task_id)[0]


def _task_loss(s: _Spec, params: Any, nobs: jax.Array, mb: _Batch, ref: _Policy):
    """PPO loss of one task's minibatch slice (``[b, ...]`` leaves); aux: loss terms, KL and the policy seen."""
    cfg = s.cfg
    mu, log_std, v = s.apply_fn(params, nobs, mb.task_id)
    lp = losses.gaussian_log_prob(mu, log_std, mb.action)
    adv = losses.standardize(mb.adv) if cfg.normalize_advantage else mb.adv
    a = jnp.mean(losses.clipped_surrogate(lp, mb.log_prob, adv, cfg.clip))
    c = jnp.mean(losses.clipped_value_loss(v, mb.value, mb.ret, cfg.clip))
    ent = losses.gaussian_entropy(log_std)
    b = jnp.mean(losses.bound_loss(mu))
    total = a + 0.5 * cfg.critic_coef * c - cfg.entropy_coef * ent + cfg.bound_coef * b
    kl = jnp.mean(losses.rl_games_policy_kl(mu, log_std, ref.mu, ref.log_std))
    aux = {"actor": a, "critic": c, "entropy": ent, "bound": b, "kl": kl}
    return total, (aux, _Policy(mu, jnp.broadcast_to(log_std, mu.shape)))


def _minibatch_step(s: _Spec, lr: jax.Array, first_epoch: jax.Array, carry: _StepCarry,
                    inputs: tuple[_Batch, _Policy]) -> tuple[_StepCarry, tuple[dict, _Policy]]:
    """One gradient step on a ``[T, b, ...]`` minibatch: obs statistics (first mini-epoch), per-task grads, tx."""
    mb, ref = inputs
    fit = carry.fit
    key, k_tx = jax.random.split(carry.key)
    flat_obs, flat_tid = mb.obs.reshape(-1, s.obs_size), mb.task_id.reshape(-1)
    obs_stats = fit.obs_stats
    if s.cfg.normalize_obs:
        new = normalize.update_stats(obs_stats, flat_obs[:, :s.norm_dims], flat_tid)
        obs_stats = jax.tree.map(lambda a, b: jnp.where(first_epoch, a, b), new, obs_stats)
    nobs = _norm_obs(s, obs_stats, flat_obs, flat_tid).reshape(mb.obs.shape)
    grad_fn = jax.vmap(jax.value_and_grad(functools.partial(_task_loss, s), has_aux=True), in_axes=(None, 0, 0, 0))
    (tot, (aux, seen)), grads = grad_fn(fit.params, nobs, mb, ref)
    mean_grad_norm = optax.tree.norm(jax.tree.map(lambda g: jnp.mean(g, 0), grads))
    updates, opt_state = s.tx.update(grads, fit.opt_state, fit.params, key=k_tx, task_losses=tot,
                                     critic_task_losses=aux["critic"], actor_task_losses=aux["actor"])
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


def _epoch(s: _Spec, batches: _Batch, carry: _EpochCarry, epoch: jax.Array) -> tuple[_EpochCarry, dict]:
    """One mini-epoch over the ``M`` minibatches; metrics are means over them."""
    key, sub = jax.random.split(carry.key)
    step = functools.partial(_minibatch_step, s, carry.lr, epoch == 0)
    inner, (m, seen) = jax.lax.scan(step, _StepCarry(carry.fit, sub), (batches, carry.ref))
    ref = seen if s.cfg.kl_reference == "previous_epoch" else carry.ref  # rl_games' dataset.update_mu_sigma
    m = jax.tree.map(jnp.mean, m)
    return _EpochCarry(fit=inner.fit, lr=_adapt_lr(s.cfg, carry.lr, m["kl"]), key=key, ref=ref), m


def _targets(s: _Spec, ls: LearnerState, ro: Rollout, last_value: jax.Array):
    """GAE advantages and returns, value normalisation and advantage standardisation.

    Returns:
      ``(value, ret, adv, value_stats)``: ``[H, N]`` leaves (value and return normalised when
      ``normalize_value``) and the updated value statistics.
    """
    cfg = s.cfg
    reward = ro.reward
    if cfg.value_bootstrap:
        reward = reward + cfg.gamma * ro.value * ro.truncated.astype(reward.dtype)
    adv, ret = jax.vmap(returns.gae, in_axes=(1, 1, 1, 0, None, None), out_axes=1)(
        reward, ro.value, ro.done, last_value, cfg.gamma, cfg.lam)
    value, value_stats = ro.value, ls.value_stats
    tid = jnp.broadcast_to(ro.task_id, ro.value.shape).reshape(-1)
    if cfg.normalize_value:
        norm = {"eps": _VALUE_EPS, "clip": s.value_clip}
        value_stats = normalize.update_stats(value_stats, value.reshape(-1, 1), tid)
        value = normalize.normalize(value_stats, value.reshape(-1), tid, **norm).reshape(ret.shape)
        value_stats = normalize.update_stats(value_stats, ret.reshape(-1, 1), tid)
        ret = normalize.normalize(value_stats, ret.reshape(-1), tid, **norm).reshape(ret.shape)
    if cfg.normalize_advantage:
        adv = losses.standardize(adv)
    return value, ret, adv, value_stats


def _rollout_policy(s: _Spec, ls: LearnerState, ro: Rollout) -> _Policy:
    """The policy that collected the rollout, on its observations: ``[H, N, A]`` leaves."""
    tid = jnp.broadcast_to(ro.task_id, ro.value.shape).reshape(-1)
    mu, log_std, _ = s.apply_fn(ls.params, _norm_obs(s, ls.obs_stats, ro.obs.reshape(-1, s.obs_size), tid), tid)
    return _Policy(mu.reshape(ro.action.shape), jnp.broadcast_to(log_std, ro.action.shape))


def _update(s: _Spec, ls: LearnerState, ro: Rollout, last_value: jax.Array,
            key: jax.Array) -> tuple[LearnerState, dict]:
    """The MT-PPO update of one rollout (``[H, N, ...]``) bootstrapped from ``last_value`` ``[N]``."""
    value, ret, adv, value_stats = _targets(s, ls, ro, last_value)
    data = _Batch(obs=ro.obs, action=ro.action, log_prob=ro.log_prob, value=value, ret=ret, adv=adv,
                  task_id=jnp.broadcast_to(ro.task_id, ro.value.shape))
    k_perm, k_epochs = jax.random.split(key)
    # Leaves [M, T, b, ...]: the same partition every mini-epoch; the reference policy is cut with the data.
    batches, ref = s.layout.minibatches((data, _rollout_policy(s, ls, ro)), k_perm)
    carry = _EpochCarry(fit=_Fit(ls.params, ls.opt_state, ls.obs_stats), lr=ls.lr, key=k_epochs, ref=ref)
    carry, m = jax.lax.scan(functools.partial(_epoch, s, batches), carry, jnp.arange(s.cfg.epochs))
    metrics = {k: v[-1] if k == "kl" else jnp.mean(v) for k, v in m.items()}
    metrics["lr"] = carry.lr
    metrics["nonfinite"] = ~(jnp.isfinite(m["loss/total"]).all() & jnp.isfinite(m["grad_norm"]).all())
    fit = carry.fit
    new = LearnerState(params=fit.params, opt_state=fit.opt_state, obs_stats=fit.obs_stats,
                       value_stats=value_stats, lr=carry.lr)
    return new, metrics
