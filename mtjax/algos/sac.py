"""MT-SAC as MTBench runs it (Joshi et al., 2025, arXiv 2507.23172, ``mt_sac_agent.py``), as a pure learner.

Soft actor-critic (Haarnoja et al., 2018, arXiv 1801.01290 and 1812.05905): a tanh-squashed Gaussian actor whose
log-std is squashed into ``[log_std_min, log_std_max]`` by tanh rescaling, twin critics with Polyak-averaged
targets, n-step targets ``y = r_n + (1 - done) gamma^n (min Q'(s', a') - alpha_k log pi(a'|s'))`` and one
learnable temperature per task (Yu et al., 2019, arXiv 1910.10897; MTBench ``use_disentangled_alpha``).
Observations are normalised per task (one-hot passed through) with statistics updated on the replay minibatches.

One gradient step (``update``), in MTBench's order: critic step (target from the current actor and temperature),
actor step against the *updated* critics, temperature step with the actor's log-probs, then the Polyak update.
Critic and actor gradients follow the house gradient path: the minibatch is task-major ``[T, b, ...]``, per-task
gradients come from ``vmap(value_and_grad)``, and an optax multi-task aggregator combines them (``mean`` =
plain MT-SAC; ``mtrl``/``mtrl_target`` put PCGrad, CAGrad, FAMO... on the critic, the actor or both).
Deviations from MTBench: ``docs/offpolicy.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct

from mtjax import metrics as mt_metrics
from mtjax import normalize, replay, targets, transforms
from mtjax.algos import off_policy
from mtjax.envs import TaskSet
from mtjax.nets import registry as net_registry

__all__ = ["LOG_STD_MODES", "MTBENCH_NET", "Networks", "SACConfig", "SACState", "init_networks", "log_std_bounds", "make_alpha_tx", "make_learner",
           "make_networks", "polyak", "squashed_gaussian", "temperature_step"]

MTBENCH_NET = {"hidden": (512, 256, 128), "act": "relu", "zero_bias": True}  # rl_games soft_actor_critic (SACBuilder
# zeroes every Linear's bias; weights keep PyTorch's default), MTBench MT-SAC
MTRL_TARGETS = ("critic", "actor", "both")
LOG_STD_MODES = ("clamp", "tanh")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SACConfig(off_policy.OffPolicyConfig):
    """MT-SAC hyper-parameters; defaults are MTBench's MT10 best run (``sac_best.sh``, spec 3.6 and 5.2).

    Attributes:
      horizon, gradient_steps, batch_size, buffer_size, n_step, gamma, warmup_steps, timeout_as_terminal: the
        driver's (``off_policy.OffPolicyConfig``): 1 env step, 4 updates of 8,192, replay 5 M, n = 4,
        gamma 0.99, n random warm-up steps, time-outs are terminals.
      actor_lr, critic_lr, alpha_lr: Adam learning rates (5e-4, 5e-4, 5e-3).
      adam_b1, adam_b2, adam_eps: Adam's betas and epsilon (torch defaults).
      init_alpha: initial temperature of every task (1).
      target_entropy_per_dim: the target entropy is this times the action size (-1: ``-|A|``).
      alpha_grad_clip: global-norm clip of the ``[T]`` log-alpha gradient (0.5).
      tau: Polyak rate of the target critics after every gradient step (0.01).
      log_std_min, log_std_max: the actor's log-std range (-20, 2).
      log_std_mode: how the raw log-std enters that range: "clamp" (rl_games 1.6.1's ``DiagGaussianActor``, what
        MTBench ran: a raw output near 0 is sigma near 1) or "tanh" (``low + (high - low)(tanh(raw) + 1) / 2``,
        rl_games from 1.6.5: sigma near e^-9 at a raw 0).
      obs_stats_on_next_obs: the per-task statistics also take each minibatch's ``next_obs`` after its ``obs``
        (MTBench normalises ``obs`` then ``next_obs`` with its running statistics in train mode, which updates them
        on both calls; ``obs`` is normalised after the first update, ``next_obs`` after both). False: ``obs`` only.
      max_grad_norm: global-norm clip of actor and critic gradients; 0 = off (MTBench calls its clip before
        ``backward()``, so it never acts; spec quirk Q9).
      normalize_obs: per-task observation normalisation. obs_norm_eps, obs_norm_clip: ``(x - mu) /
        sqrt(var + eps)``, clamped to ``+-clip`` unless 0 (MTBench: 1e-8, no clamp).
      stats_init_count: starting count of the running statistics (rl_games: 1).
      mtrl: multi-task gradient method (``transforms.method_names()``; "mean" = MTBench).
      mtrl_target: which network's gradient it combines: "critic", "actor" or "both" (the other gets "mean").
      mtrl_kwargs: the method's options as ``(name, value)`` pairs.
    """

    horizon: int = 1
    gradient_steps: int = 4
    batch_size: int = 8192
    buffer_size: int = 5_000_000
    n_step: int = 4
    gamma: float = 0.99
    warmup_steps: int = 4
    timeout_as_terminal: bool = True
    actor_lr: float = 5e-4
    critic_lr: float = 5e-4
    alpha_lr: float = 5e-3
    adam_b1: float = 0.9
    adam_b2: float = 0.999
    adam_eps: float = 1e-8
    init_alpha: float = 1.0
    target_entropy_per_dim: float = -1.0
    alpha_grad_clip: float = 0.5
    tau: float = 0.01
    log_std_min: float = -20.0
    log_std_max: float = 2.0
    log_std_mode: str = "clamp"
    obs_stats_on_next_obs: bool = True
    max_grad_norm: float = 0.0
    normalize_obs: bool = True
    obs_norm_eps: float = 1e-8
    obs_norm_clip: float = 0.0
    stats_init_count: float = 1.0
    mtrl: str = "mean"
    mtrl_target: str = "critic"
    mtrl_kwargs: tuple = ()

    def __post_init__(self):
        super().__post_init__()
        for f in ("actor_lr", "critic_lr", "alpha_lr", "init_alpha", "adam_eps", "obs_norm_eps", "stats_init_count"):
            if getattr(self, f) <= 0:
                raise ValueError(f"SACConfig.{f} must be > 0, got {getattr(self, f)}")
        for f in ("adam_b1", "adam_b2"):
            if not 0.0 <= getattr(self, f) < 1.0:
                raise ValueError(f"SACConfig.{f} must lie in [0, 1), got {getattr(self, f)}")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"SACConfig.tau must lie in (0, 1], got {self.tau}")
        for f in ("alpha_grad_clip", "max_grad_norm", "obs_norm_clip"):
            if getattr(self, f) < 0:
                raise ValueError(f"SACConfig.{f} must be >= 0 (0 = off), got {getattr(self, f)}")
        if self.log_std_mode not in LOG_STD_MODES:
            raise ValueError(f"SACConfig.log_std_mode={self.log_std_mode!r}; valid: {', '.join(LOG_STD_MODES)}")
        if not self.log_std_min < self.log_std_max:
            raise ValueError(f"SACConfig needs log_std_min < log_std_max, got {self.log_std_min}, {self.log_std_max}")
        if self.mtrl_target not in MTRL_TARGETS:
            raise ValueError(f"SACConfig.mtrl_target={self.mtrl_target!r}; valid: {', '.join(MTRL_TARGETS)}")
        if self.mtrl not in transforms.method_names():
            raise ValueError(f"SACConfig.mtrl={self.mtrl!r}; valid: {', '.join(transforms.method_names())}")


# ---------------------------------------------------------------------------------------------- networks


class Networks(NamedTuple):
    """``actor_init(key, obs, task_id)``, ``actor_apply(params, obs [B, O], task_id [B]) -> [B, 2A]`` (mean,
    raw log-std); ``critic_init(key, obs, action, task_id)``, ``critic_apply(params, obs, action [B, A],
    task_id) -> (q1 [B], q2 [B])``."""

    actor_init: Callable
    actor_apply: Callable
    critic_init: Callable
    critic_apply: Callable


class _TwinQ(nn.Module):
    """Two critics on ``[obs, action, one-hot]``: the action goes before the one-hot, which must stay last for
    the task-aware networks (MOORE, CARE, ... split it off the end; for an MLP the order is immaterial)."""

    q1: nn.Module
    q2: nn.Module
    num_tasks: int
    squeeze: bool = True  # scalar critics ([B]); False keeps [B, out] (FastTD3's C51 logits)

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array, task_id: jax.Array):
        k = self.num_tasks
        x = jnp.concatenate([obs[..., :-k], action.astype(obs.dtype), obs[..., -k:]], axis=-1)
        q1, q2 = self.q1(x, task_id), self.q2(x, task_id)
        return (q1[..., 0], q2[..., 0]) if self.squeeze else (q1, q2)


def make_networks(*, action_size: int, num_tasks: int, actor_net: str = "mlp", critic_net: str = "mlp",
                  actor_kwargs: dict | None = None, critic_kwargs: dict | None = None,
                  out_dim: int | None = None, critic_out: int = 1) -> Networks:
    """Actor (``out_dim`` outputs, default ``2A``) and twin critics from registered networks (``mtjax.nets``).

    ``*_kwargs=None`` gives MTBench's MT-SAC MLP ``[512, 256, 128]`` ReLU (``MTBENCH_NET``) for an ``mlp``.
    ``critic_out > 1`` makes each critic return ``[B, critic_out]`` (e.g. C51 logits) instead of ``[B]``.
    """
    def kw(name, given):
        return dict(MTBENCH_NET) if given is None and name in ("mlp", "multihead") else dict(given or {})

    actor = net_registry.make_net(actor_net, out_dim=out_dim or 2 * action_size, num_tasks=num_tasks,
                                  **kw(actor_net, actor_kwargs))
    qs = [net_registry.make_net(critic_net, out_dim=critic_out, num_tasks=num_tasks, **kw(critic_net, critic_kwargs))
          for _ in range(2)]
    critic = _TwinQ(q1=qs[0], q2=qs[1], num_tasks=num_tasks, squeeze=critic_out == 1)
    tid = functools.partial(jnp.asarray, dtype=jnp.int32)
    return Networks(actor_init=lambda key, x, t: actor.init(key, x, tid(t)), actor_apply=actor.apply,
                    critic_init=lambda key, x, a, t: critic.init(key, x, a, tid(t)), critic_apply=critic.apply)


# ---------------------------------------------------------------------------------------------- math


def log_std_bounds(raw: jax.Array, low: float, high: float, mode: str = "clamp") -> jax.Array:
    """rl_games' ``DiagGaussianActor``: ``clip(raw, low, high)`` up to 1.6.1 (``"clamp"``, what MTBench ran), from
    1.6.5 ``low + (high - low) (tanh(raw) + 1) / 2`` (``"tanh"``)."""
    if mode == "clamp":
        return jnp.clip(raw, low, high)
    return low + 0.5 * (high - low) * (jnp.tanh(raw) + 1.0)


def squashed_gaussian(mu: jax.Array, log_std: jax.Array, eps: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Reparameterised sample ``a = tanh(mu + sigma eps)`` and ``log pi(a) = sum_i [log N(u_i) - log(1 - a_i^2)]``.

    The Jacobian term is written ``2 (log 2 - u - softplus(-2u))`` (= ``log(1 - tanh(u)^2)``, stable for large
    ``|u|``; torch's ``TanhTransform``). Shapes: ``[..., A]`` in, ``([..., A], [...])`` out.
    """
    u = mu + jnp.exp(log_std) * eps
    log_n = -0.5 * jnp.square(eps) - log_std - 0.5 * math.log(2.0 * math.pi)
    log_det = 2.0 * (math.log(2.0) - u - jax.nn.softplus(-2.0 * u))
    return jnp.tanh(u), jnp.sum(log_n - log_det, axis=-1)


def make_alpha_tx(cfg: SACConfig) -> optax.GradientTransformation:
    """The temperature optimiser: global-norm clip of the ``[T]`` log-alpha gradient, then Adam (``alpha_lr``)."""
    clip = [optax.clip_by_global_norm(cfg.alpha_grad_clip)] if cfg.alpha_grad_clip > 0 else []
    return optax.chain(*clip, optax.adam(cfg.alpha_lr, b1=cfg.adam_b1, b2=cfg.adam_b2, eps=cfg.adam_eps))


def temperature_step(tx: optax.GradientTransformation, log_alpha: jax.Array, opt_state: Any, log_prob: jax.Array,
                     task_id: jax.Array, target_entropy: float):
    """One step on ``targets.sac_alpha_loss`` (per-task temperatures, mean over the whole batch).

    Args:
      tx: ``make_alpha_tx(cfg)``. log_alpha: ``[T]``. opt_state: its state. log_prob: ``[B]`` log-probs of fresh
        actions (constants). task_id: ``[B]``. target_entropy: ``H_target``.

    Returns:
      ``(log_alpha, opt_state, loss, grad [T])`` with the gradient before clipping.
    """
    loss, grad = jax.value_and_grad(targets.sac_alpha_loss)(log_alpha, log_prob, task_id, target_entropy)
    upd, opt_state = tx.update(grad, opt_state, log_alpha)
    return optax.apply_updates(log_alpha, upd), opt_state, loss, grad


def polyak(target: Any, online: Any, tau: float) -> Any:
    """``target <- (1 - tau) target + tau online`` leafwise."""
    return jax.tree.map(lambda t, o: (1.0 - tau) * t + tau * o, target, online)


# ---------------------------------------------------------------------------------------------- learner


@struct.dataclass
class SACState:
    """Everything MT-SAC owns.

    Attributes:
      actor_params, critic_params, target_params: network variables (target = Polyak copy of the critics).
      log_alpha: ``[T]`` per-task log temperature.
      actor_opt, critic_opt, alpha_opt: optax states.
      obs_stats: per-task observation statistics (non-one-hot dims).
      steps: gradient steps taken (int32).
    """

    actor_params: Any
    critic_params: Any
    target_params: Any
    log_alpha: jax.Array
    actor_opt: Any
    critic_opt: Any
    alpha_opt: Any
    obs_stats: normalize.RunningStats
    steps: jax.Array


@dataclasses.dataclass(frozen=True)
class _Spec:
    cfg: SACConfig
    nets: Networks
    actor_tx: optax.GradientTransformationExtraArgs
    critic_tx: optax.GradientTransformationExtraArgs
    alpha_tx: optax.GradientTransformation
    task_set: TaskSet
    obs_size: int
    action_size: int
    norm_dims: int


def _net_tx(cfg: SACConfig, lr: float, role: str, num_tasks: int) -> optax.GradientTransformationExtraArgs:
    """Aggregator over the task axis (the configured method on ``mtrl_target``, else mean), clip, Adam."""
    method = cfg.mtrl if cfg.mtrl_target in (role, "both") else "mean"
    agg = transforms.make_method(method, num_tasks=num_tasks, **dict(cfg.mtrl_kwargs if method != "mean" else ()))
    clip = [optax.clip_by_global_norm(cfg.max_grad_norm)] if cfg.max_grad_norm > 0 else []
    return optax.chain(agg, *clip, optax.adam(lr, b1=cfg.adam_b1, b2=cfg.adam_b2, eps=cfg.adam_eps))


def make_learner(cfg: SACConfig, nets: Networks, task_set: TaskSet, obs_size: int, action_size: int,
                 onehot_dims: int | None = None) -> off_policy.Learner:
    """Builds MT-SAC for a task-major batch of envs.

    Args:
      cfg: hyper-parameters.
      nets: ``make_networks(...)``.
      task_set: the env layout. obs_size: observation size including the one-hot. action_size: ``|A|``.
      onehot_dims: trailing observation dims passed through un-normalised (default: the number of tasks).
    """
    t = task_set.num_tasks
    s = _Spec(cfg=cfg, nets=nets, actor_tx=_net_tx(cfg, cfg.actor_lr, "actor", t),
              critic_tx=_net_tx(cfg, cfg.critic_lr, "critic", t),
              alpha_tx=make_alpha_tx(cfg),
              task_set=task_set, obs_size=obs_size, action_size=action_size,
              norm_dims=obs_size - (t if onehot_dims is None else onehot_dims))
    return off_policy.Learner(init=functools.partial(_init, s), act=functools.partial(_act, s),
                              update=functools.partial(_update, s))


def init_networks(nets: Networks, task_set: TaskSet, obs_size: int, action_size: int,
                  key: jax.Array) -> tuple[Any, Any]:
    """Initial ``(actor, twin critics)`` parameters on a zero batch shaped like ``task_set`` (MT-SAC, FastTD3)."""
    k_actor, k_critic = jax.random.split(key)
    n = task_set.num_envs
    obs, tid = jnp.zeros((n, obs_size), jnp.float32), jnp.asarray(task_set.task_ids)
    actor = nets.actor_init(k_actor, obs, tid)
    return actor, nets.critic_init(k_critic, obs, jnp.zeros((n, action_size), jnp.float32), tid)


def _init(s: _Spec, key: jax.Array) -> SACState:
    t = s.task_set.num_tasks
    actor, critic = init_networks(s.nets, s.task_set, s.obs_size, s.action_size, key)
    log_alpha = jnp.full((t,), math.log(s.cfg.init_alpha), jnp.float32)
    return SACState(actor_params=actor, critic_params=critic, target_params=critic, log_alpha=log_alpha,
                    actor_opt=s.actor_tx.init(actor), critic_opt=s.critic_tx.init(critic),
                    alpha_opt=s.alpha_tx.init(log_alpha),
                    obs_stats=normalize.init_stats(t, s.norm_dims, s.cfg.stats_init_count),
                    steps=jnp.zeros((), jnp.int32))


def _norm_obs(s: _Spec, stats: normalize.RunningStats, obs: jax.Array, tid: jax.Array) -> jax.Array:
    """Per-task normalised ``obs [B, O]``; the trailing one-hot dims pass through."""
    if not s.cfg.normalize_obs:
        return obs
    return normalize.normalize_head(stats, obs, tid, s.norm_dims, eps=s.cfg.obs_norm_eps, clip=s.cfg.obs_norm_clip or None)


def _policy(s: _Spec, params: Any, nobs: jax.Array, tid: jax.Array) -> tuple[jax.Array, jax.Array]:
    out = s.nets.actor_apply(params, nobs, tid)
    a = s.action_size
    return out[..., :a], log_std_bounds(out[..., a:], s.cfg.log_std_min, s.cfg.log_std_max, s.cfg.log_std_mode)


def _act(s: _Spec, ls: SACState, obs: jax.Array, task_id: jax.Array, key: jax.Array,
         deterministic: bool = False) -> jax.Array:
    """``tanh(mu)`` (deterministic) or a squashed-Gaussian sample for ``obs [N, O]``; ``[N, A]`` in (-1, 1)."""
    mu, log_std = _policy(s, ls.actor_params, _norm_obs(s, ls.obs_stats, obs, task_id), task_id)
    if deterministic:
        return jnp.tanh(mu)
    return squashed_gaussian(mu, log_std, jax.random.normal(key, mu.shape, mu.dtype))[0]


def _critic_loss(s: _Spec, params: Any, nobs: jax.Array, action: jax.Array, y: jax.Array, tid: jax.Array):
    """One task's ``mean (Q1 - y)^2 + mean (Q2 - y)^2`` (MTBench: the sum of the two heads' MSEs)."""
    q1, q2 = s.nets.critic_apply(params, nobs, action, tid)
    return jnp.mean(jnp.square(q1 - y)) + jnp.mean(jnp.square(q2 - y)), jnp.mean(0.5 * (q1 + q2))


def _actor_loss(s: _Spec, params: Any, critic: Any, alpha: jax.Array, nobs: jax.Array, tid: jax.Array,
                eps: jax.Array):
    """One task's ``mean (alpha_k log pi(a|s) - min(Q1, Q2)(s, a))``, ``a`` reparameterised; aux: log-probs."""
    mu, log_std = _policy(s, params, nobs, tid)
    action, log_prob = squashed_gaussian(mu, log_std, eps)
    q1, q2 = s.nets.critic_apply(critic, nobs, action, tid)
    return jnp.mean(alpha[tid] * log_prob - jnp.minimum(q1, q2)), log_prob


def _target(s: _Spec, ls: SACState, nnext: jax.Array, batch: replay.Transition, tid: jax.Array,
            key: jax.Array) -> jax.Array:
    """``y [B]`` of a flat batch: ``a' ~ pi(.|s')`` from the current actor, target critics, ``gamma^n``."""
    mu, log_std = _policy(s, ls.actor_params, nnext, tid)
    a_next, lp_next = squashed_gaussian(mu, log_std, jax.random.normal(key, mu.shape, mu.dtype))
    q1, q2 = s.nets.critic_apply(ls.target_params, nnext, a_next, tid)
    return targets.sac_critic_target(batch.reward, batch.done, s.cfg.gamma ** s.cfg.n_step, q1, q2, lp_next,
                                     ls.log_alpha, tid)


def _update(s: _Spec, ls: SACState, batch: replay.Transition, key: jax.Array) -> tuple[SACState, dict]:
    """One MT-SAC gradient step on a task-major minibatch (``[T, b, ...]`` leaves)."""
    cfg = s.cfg
    chex.assert_shape(batch.reward, (s.task_set.num_tasks, None))  # task-major [T, b]
    t, b = batch.reward.shape
    tid = jnp.broadcast_to(jnp.arange(t, dtype=jnp.int32)[:, None], (t, b))
    flat = jax.tree.map(lambda x: x.reshape((t * b,) + x.shape[2:]), batch)
    ftid = tid.reshape(-1)
    obs_stats = ls.obs_stats
    if cfg.normalize_obs:
        obs_stats = normalize.update_stats(obs_stats, flat.obs[:, :s.norm_dims], ftid)
    nobs = _norm_obs(s, obs_stats, flat.obs, ftid)
    if cfg.normalize_obs and cfg.obs_stats_on_next_obs:
        obs_stats = normalize.update_stats(obs_stats, flat.next_obs[:, :s.norm_dims], ftid)
    nnext = _norm_obs(s, obs_stats, flat.next_obs, ftid)
    k_next, k_pi, k_ctx, k_atx = jax.random.split(key, 4)
    y = _target(s, ls, nnext, flat, ftid, k_next).reshape(t, b)

    def task_major(x):
        return x.reshape((t, b) + x.shape[1:])

    c_grad = jax.vmap(jax.value_and_grad(functools.partial(_critic_loss, s), has_aux=True), in_axes=(None, 0, 0, 0, 0))
    (c_loss, q_mean), c_grads = c_grad(ls.critic_params, task_major(nobs), batch.action, y, tid)
    c_upd, critic_opt = s.critic_tx.update(c_grads, ls.critic_opt, ls.critic_params, key=k_ctx, task_losses=c_loss)
    critic = optax.apply_updates(ls.critic_params, c_upd)

    alpha = jax.lax.stop_gradient(jnp.exp(ls.log_alpha))
    eps = jax.random.normal(k_pi, batch.action.shape, batch.action.dtype)
    a_grad = jax.vmap(jax.value_and_grad(functools.partial(_actor_loss, s), has_aux=True),
                      in_axes=(None, None, None, 0, 0, 0))
    (a_loss, log_prob), a_grads = a_grad(ls.actor_params, critic, alpha, task_major(nobs), tid, eps)
    a_upd, actor_opt = s.actor_tx.update(a_grads, ls.actor_opt, ls.actor_params, key=k_atx, task_losses=a_loss)
    actor = optax.apply_updates(ls.actor_params, a_upd)

    log_alpha, alpha_opt, al_loss, _ = temperature_step(s.alpha_tx, ls.log_alpha, ls.alpha_opt, log_prob.reshape(-1),
                                                        ftid, cfg.target_entropy_per_dim * s.action_size)

    new = SACState(actor_params=actor, critic_params=critic, target_params=polyak(ls.target_params, critic, cfg.tau),
                   log_alpha=log_alpha, actor_opt=actor_opt, critic_opt=critic_opt, alpha_opt=alpha_opt,
                   obs_stats=obs_stats, steps=ls.steps + 1)
    return new, _metrics(new, c_loss, a_loss, al_loss, q_mean, y, log_prob, c_grads, a_grads)


def _metrics(new: SACState, c_loss, a_loss, al_loss, q_mean, y, log_prob, c_grads, a_grads) -> dict:
    """Scalars of one step (per-task temperatures as ``task/alpha [T]``) and the transforms' diagnostics."""
    mean_grads = jax.tree.map(lambda g: jnp.mean(g, 0), (c_grads, a_grads))
    m = {"loss/critic": jnp.mean(c_loss), "loss/actor": jnp.mean(a_loss), "loss/alpha": al_loss,
         "entropy": -jnp.mean(log_prob), "q": jnp.mean(q_mean), "target_q": jnp.mean(y),
         "task/target_q": jnp.mean(y, axis=1),
         "alpha": jnp.mean(jnp.exp(new.log_alpha)), "task/alpha": jnp.exp(new.log_alpha),
         "task/entropy": -jnp.mean(log_prob, axis=1), "grad_norm": optax.tree.norm(mean_grads)}
    m["loss/total"] = m["loss/critic"] + m["loss/actor"] + m["loss/alpha"]
    m["nonfinite"] = ~(jnp.isfinite(m["loss/total"]) & jnp.isfinite(m["grad_norm"]))
    m.update(mt_metrics.transform_diagnostics((new.critic_opt, new.actor_opt)))
    return m

