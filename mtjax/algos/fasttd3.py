"""FastTD3 as MTBench runs it (Joshi et al., 2025, arXiv 2507.23172, ``td3_agent.py``; spec 3.8), a pure learner.

TD3 (Fujimoto et al., 2018, arXiv 1802.09477) in FastTD3's form (Seo et al., 2025, arXiv 2505.22642): a
deterministic tanh actor with Gaussian exploration noise, twin distributional critics (C51, Bellemare et al., 2017,
arXiv 1707.06887: 101 atoms on [-10, 10]) with clipped double-Q (per sample, the projected target of the twin with
the lower mean), target-policy smoothing, n-step targets discounted by ``gamma^m``, Polyak target critics
(tau 0.1), an actor step every ``policy_frequency`` critic steps, and cosine-decayed learning rates. Default
networks: SimbaV2 (``mtjax.nets.simba``) with a learned 32-d task embedding. The target action comes from the
current actor (FastTD3 keeps no target actor). Runs on ``mtjax.algos.off_policy``; deviations in
``docs/offpolicy.md``.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import chex
import jax
import jax.numpy as jnp
import optax
from flax import struct

from mtjax import normalize, replay, reward_norm, targets, transforms
from mtjax.algos import off_policy, sac
from mtjax.envs import TaskSet

__all__ = ["ACTOR_NET", "CRITIC_NET", "TD3Config", "TD3State", "lr_schedules", "make_learner", "make_networks"]

ACTOR_NET = {"hidden": 512, "num_blocks": 1, "task_embedding_dim": 32}  # fast_td3_simbav2 actor
CRITIC_NET = {"hidden": 1024, "num_blocks": 2, "task_embedding_dim": 32}  # its distributional critic


@dataclasses.dataclass(frozen=True, kw_only=True)
class TD3Config(off_policy.OffPolicyConfig):
    """FastTD3 hyper-parameters; defaults are MTBench's MT10 ``meta-world-mt10-fast-TD3-simba-v2`` (spec 3.8).

    Attributes:
      horizon, gradient_steps, batch_size, buffer_size, n_step, gamma, warmup_steps, timeout_as_terminal: the
        driver's: 1 env step, 2 updates of 8,192, replay 8,388,608, n = 8, gamma 0.97 (MT50: 0.99), 8 random
        warm-up steps (MTBench's ``num_warmup_steps`` = ``nstep``), time-outs terminal (our envs report no final
        observation).
      actor_lr, critic_lr: initial learning rates (3e-4); lr_end: final rate (3e-5) of a cosine decay over
        lr_decay_steps critic updates (MT10: 12,208 iterations x 2 updates; 0 = constant); the actor, stepped
        every ``policy_frequency``-th update, decays over ``lr_decay_steps / policy_frequency`` of its own steps,
        so both follow MTBench's per-iteration ``CosineAnnealingLR(T_max=max_epochs)``.
      weight_decay: AdamW decoupled weight decay (MTBench's configs: 0; FastTD3's reference default is 0.1).
      adam_b1, adam_b2, adam_eps: AdamW's betas and epsilon.
      tau: Polyak rate of the target critics (0.1). policy_frequency: critic steps per actor step (2).
      policy_noise, noise_clip: target-policy smoothing (0.001, 0.5).
      std_min, std_max: exploration noise std, drawn per env uniformly from this range (0.001, 0.4).
      noise_per_episode: each env keeps its std until its episode ends, then draws a new one (FastTD3's
        ``noise_scales``, MTBench's default); False draws it afresh at every step.
      normalize_reward: scale sampled rewards per task by the running discounted return (MTBench's
        ``PerTaskRewardNormalizer``, on in its FastTD3 configs; ``mtjax.reward_norm``); reward_norm_g_max: its
        ``g_max`` (10); reward_norm_return: ``"task"`` (MTBench's one return per task) or ``"env"`` (one per env).
      v_min, v_max, num_atoms: the C51 support (-10, 10, 101).
      max_grad_norm: global-norm clip of actor and critic gradients; 0 = off.
      normalize_obs, obs_norm_eps, obs_norm_clip, stats_init_count: per-task observation normalisation, as in
        ``sac.SACConfig``.
    """

    horizon: int = 1
    gradient_steps: int = 2
    batch_size: int = 8192
    buffer_size: int = 8_388_608
    n_step: int = 8
    gamma: float = 0.97
    warmup_steps: int = 8
    timeout_as_terminal: bool = True
    actor_lr: float = 3e-4
    critic_lr: float = 3e-4
    lr_end: float = 3e-5
    lr_decay_steps: int = 24_416
    weight_decay: float = 0.0
    adam_b1: float = 0.9
    adam_b2: float = 0.999
    adam_eps: float = 1e-8
    tau: float = 0.1
    policy_frequency: int = 2
    policy_noise: float = 0.001
    noise_clip: float = 0.5
    std_min: float = 0.001
    std_max: float = 0.4
    noise_per_episode: bool = True
    normalize_reward: bool = True
    reward_norm_g_max: float = 10.0
    reward_norm_return: str = "task"
    v_min: float = -10.0
    v_max: float = 10.0
    num_atoms: int = 101
    max_grad_norm: float = 0.0
    normalize_obs: bool = True
    obs_norm_eps: float = 1e-8
    obs_norm_clip: float = 0.0
    stats_init_count: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        for f in ("actor_lr", "critic_lr", "lr_end", "adam_eps", "obs_norm_eps", "stats_init_count"):
            if getattr(self, f) <= 0:
                raise ValueError(f"TD3Config.{f} must be > 0, got {getattr(self, f)}")
        for f in ("lr_decay_steps", "weight_decay", "policy_noise", "noise_clip", "max_grad_norm", "obs_norm_clip"):
            if getattr(self, f) < 0:
                raise ValueError(f"TD3Config.{f} must be >= 0, got {getattr(self, f)}")
        if not 0.0 < self.tau <= 1.0 or self.policy_frequency < 1:
            raise ValueError(f"TD3Config: tau must lie in (0, 1] and policy_frequency >= 1, got {self.tau}, "
                             f"{self.policy_frequency}")
        if not 0.0 <= self.std_min <= self.std_max:
            raise ValueError(f"TD3Config needs 0 <= std_min <= std_max, got {self.std_min}, {self.std_max}")
        if self.reward_norm_return not in reward_norm.RETURN_PER or self.reward_norm_g_max <= 0:
            raise ValueError(f"TD3Config.reward_norm_return must be one of {reward_norm.RETURN_PER} and "
                             f"reward_norm_g_max > 0, got {self.reward_norm_return!r}, {self.reward_norm_g_max}")
        if self.num_atoms < 2 or not self.v_min < self.v_max:
            raise ValueError(f"TD3Config needs num_atoms >= 2 and v_min < v_max, got {self.num_atoms}, "
                             f"[{self.v_min}, {self.v_max}]")


def make_networks(cfg: TD3Config, *, action_size: int, num_tasks: int, actor_net: str = "simba",
                  critic_net: str = "simba", actor_kwargs: dict | None = None,
                  critic_kwargs: dict | None = None) -> sac.Networks:
    """Actor (``|A|`` pre-tanh outputs) and twin C51 critics (``[B, num_atoms]`` logits each).

    ``*_kwargs=None`` gives MTBench's SimbaV2 sizes (``ACTOR_NET``, ``CRITIC_NET``) for ``simba``.
    """
    def kw(name, given, default):
        return dict(default) if given is None and name == "simba" else dict(given or {})

    return sac.make_networks(action_size=action_size, num_tasks=num_tasks, actor_net=actor_net,
                             critic_net=critic_net, actor_kwargs=kw(actor_net, actor_kwargs, ACTOR_NET),
                             critic_kwargs=kw(critic_net, critic_kwargs, CRITIC_NET), out_dim=action_size,
                             critic_out=cfg.num_atoms)


@struct.dataclass
class TD3State:
    """Everything FastTD3 owns (target critics only: the target action uses the current actor), with the per-env
    exploration std ``noise_std [N, 1]`` and the reward normaliser's state."""

    actor_params: Any
    critic_params: Any
    target_params: Any
    actor_opt: Any
    critic_opt: Any
    obs_stats: normalize.RunningStats
    steps: jax.Array
    noise_std: jax.Array
    reward_stats: reward_norm.RewardNormState


@dataclasses.dataclass(frozen=True)
class _Spec:
    cfg: TD3Config
    nets: sac.Networks
    actor_tx: optax.GradientTransformation
    critic_tx: optax.GradientTransformation
    task_set: TaskSet
    obs_size: int
    action_size: int
    norm_dims: int


def lr_schedules(cfg: TD3Config) -> tuple[optax.Schedule | float, optax.Schedule | float]:
    """``(actor, critic)`` learning rates by each optimiser's own step count: cosine from ``*_lr`` to ``lr_end``
    over ``lr_decay_steps`` critic updates, i.e. ``lr_decay_steps / policy_frequency`` actor steps (the actor steps
    once per ``policy_frequency`` updates), so at every iteration both sit where MTBench's per-iteration
    ``CosineAnnealingLR`` puts them. Constants when ``lr_decay_steps`` is 0."""
    if not cfg.lr_decay_steps:
        return cfg.actor_lr, cfg.critic_lr
    actor_steps = -(-cfg.lr_decay_steps // cfg.policy_frequency)
    return (optax.cosine_decay_schedule(cfg.actor_lr, actor_steps, alpha=cfg.lr_end / cfg.actor_lr),
            optax.cosine_decay_schedule(cfg.critic_lr, cfg.lr_decay_steps, alpha=cfg.lr_end / cfg.critic_lr))


def _tx(cfg: TD3Config, sched: optax.Schedule | float) -> optax.GradientTransformation:
    """Task-axis ``mean()`` (the house gradient path), optional clip, AdamW with the cosine-decayed rate."""
    clip = [optax.clip_by_global_norm(cfg.max_grad_norm)] if cfg.max_grad_norm > 0 else []
    return optax.chain(transforms.mean(), *clip, optax.adamw(sched, b1=cfg.adam_b1, b2=cfg.adam_b2, eps=cfg.adam_eps,
                                          weight_decay=cfg.weight_decay))


def make_learner(cfg: TD3Config, nets: sac.Networks, task_set: TaskSet, obs_size: int, action_size: int,
                 onehot_dims: int | None = None) -> off_policy.Learner:
    """Builds FastTD3 for a task-major batch of envs (arguments as ``sac.make_learner``)."""
    t = task_set.num_tasks
    actor_lr, critic_lr = lr_schedules(cfg)
    s = _Spec(cfg=cfg, nets=nets, actor_tx=_tx(cfg, actor_lr), critic_tx=_tx(cfg, critic_lr),
              task_set=task_set, obs_size=obs_size, action_size=action_size,
              norm_dims=obs_size - (t if onehot_dims is None else onehot_dims))
    return off_policy.Learner(init=functools.partial(_init, s), act=functools.partial(_act, s),
                              update=functools.partial(_update, s), observe=functools.partial(_observe, s))


def _init(s: _Spec, key: jax.Array) -> TD3State:
    t, n = s.task_set.num_tasks, s.task_set.num_envs
    k_net, k_std = jax.random.split(key)
    actor, critic = sac.init_networks(s.nets, s.task_set, s.obs_size, s.action_size, k_net)
    return TD3State(actor_params=actor, critic_params=critic, target_params=critic,
                    actor_opt=s.actor_tx.init(actor), critic_opt=s.critic_tx.init(critic),
                    obs_stats=normalize.init_stats(t, s.norm_dims, s.cfg.stats_init_count),
                    steps=jnp.zeros((), jnp.int32), noise_std=_draw_std(s, k_std, n),
                    reward_stats=reward_norm.init(t, n, s.cfg.reward_norm_return))


def _draw_std(s: _Spec, key: jax.Array, n: int) -> jax.Array:
    return jax.random.uniform(key, (n, 1), jnp.float32, s.cfg.std_min, s.cfg.std_max)


def _observe(s: _Spec, ls: TD3State, reward: jax.Array, done: jax.Array, task_id: jax.Array,
             key: jax.Array) -> TD3State:
    """After an env step: envs whose episode ended draw a new exploration std; the reward statistics take the
    step's raw rewards and dones."""
    std = jnp.where(done[:, None] > 0, _draw_std(s, key, done.shape[0]), ls.noise_std)
    stats = ls.reward_stats
    if s.cfg.normalize_reward:
        stats = reward_norm.update(stats, reward, done, task_id, s.cfg.gamma)
    return ls.replace(noise_std=std, reward_stats=stats)


def _norm_obs(s: _Spec, stats: normalize.RunningStats, obs: jax.Array, tid: jax.Array) -> jax.Array:
    if not s.cfg.normalize_obs:
        return obs
    return normalize.normalize_head(stats, obs, tid, s.norm_dims, eps=s.cfg.obs_norm_eps, clip=s.cfg.obs_norm_clip or None)


def _act(s: _Spec, ls: TD3State, obs: jax.Array, task_id: jax.Array, key: jax.Array,
         deterministic: bool = False) -> jax.Array:
    """``tanh(mu(s))``, plus ``N(0, std^2)`` noise with one ``std ~ U[std_min, std_max]`` per env (the env's held
    ``noise_std`` with ``noise_per_episode`` and the training batch's env count, else a fresh draw), clipped."""
    mu = jnp.tanh(s.nets.actor_apply(ls.actor_params, _norm_obs(s, ls.obs_stats, obs, task_id), task_id))
    if deterministic:
        return mu
    k_std, k_eps = jax.random.split(key)
    held = s.cfg.noise_per_episode and ls.noise_std.shape[0] == mu.shape[0]
    std = ls.noise_std.astype(mu.dtype) if held else _draw_std(s, k_std, mu.shape[0]).astype(mu.dtype)
    return jnp.clip(mu + std * jax.random.normal(k_eps, mu.shape, mu.dtype), -1.0, 1.0)


def _mean_q(logits: jax.Array, support: jax.Array) -> jax.Array:
    return jax.nn.softmax(logits, axis=-1) @ support


def _critic_loss(s: _Spec, params: Any, nobs: jax.Array, action: jax.Array, target: jax.Array, tid: jax.Array):
    """One task's C51 cross-entropy of both critics to the shared CDQ target ``[b, K]``; aux: mean Q."""
    l1, l2 = s.nets.critic_apply(params, nobs, action, tid)
    ce = -jnp.sum(target * (jax.nn.log_softmax(l1, -1) + jax.nn.log_softmax(l2, -1)), axis=-1)
    support = targets.c51_support(s.cfg.v_min, s.cfg.v_max, s.cfg.num_atoms)
    return jnp.mean(ce), jnp.mean(0.5 * (_mean_q(l1, support) + _mean_q(l2, support)))


def _actor_loss(s: _Spec, params: Any, critic: Any, nobs: jax.Array, tid: jax.Array) -> jax.Array:
    """``-mean min(Q1, Q2)(s, tanh(mu(s)))`` with ``Q`` the critics' means."""
    action = jnp.tanh(s.nets.actor_apply(params, nobs, tid))
    l1, l2 = s.nets.critic_apply(critic, nobs, action, tid)
    support = targets.c51_support(s.cfg.v_min, s.cfg.v_max, s.cfg.num_atoms)
    return -jnp.mean(jnp.minimum(_mean_q(l1, support), _mean_q(l2, support)))


def _target(s: _Spec, ls: TD3State, nnext: jax.Array, batch: replay.Transition, tid: jax.Array,
            key: jax.Array) -> jax.Array:
    """The projected CDQ target distribution ``[B, K]`` of a flat batch, discounted by ``gamma^m``."""
    cfg = s.cfg
    a_next = targets.td3_target_action(jnp.tanh(s.nets.actor_apply(ls.actor_params, nnext, tid)), key,
                                       cfg.policy_noise, cfg.noise_clip)
    l1, l2 = s.nets.critic_apply(ls.target_params, nnext, a_next, tid)
    discount = cfg.gamma ** batch.n_steps
    proj = [targets.c51_project(jax.nn.softmax(lg, -1), batch.reward, batch.done, discount, cfg.v_min, cfg.v_max)
            for lg in (l1, l2)]
    return targets.cdq_select(proj[0], proj[1], targets.c51_support(cfg.v_min, cfg.v_max, cfg.num_atoms))


def _update(s: _Spec, ls: TD3State, batch: replay.Transition, key: jax.Array) -> tuple[TD3State, dict]:
    """One FastTD3 step on a task-major minibatch: critics, the actor every ``policy_frequency`` steps, Polyak."""
    cfg = s.cfg
    chex.assert_shape(batch.reward, (s.task_set.num_tasks, None))  # task-major [T, b]
    t, b = batch.reward.shape
    tid = jnp.broadcast_to(jnp.arange(t, dtype=jnp.int32)[:, None], (t, b))
    flat = jax.tree.map(lambda x: x.reshape((t * b,) + x.shape[2:]), batch)
    ftid = tid.reshape(-1)
    obs_stats = ls.obs_stats
    if cfg.normalize_obs:
        obs_stats = normalize.update_stats(obs_stats, flat.obs[:, :s.norm_dims], ftid)
    nobs = _norm_obs(s, obs_stats, flat.obs, ftid).reshape((t, b, -1))
    if cfg.normalize_reward:  # the sampled (n-step) rewards, scaled by their task's return statistics
        flat = flat._replace(reward=reward_norm.scale(ls.reward_stats, flat.reward, ftid, cfg.reward_norm_g_max))
    target = _target(s, ls, _norm_obs(s, obs_stats, flat.next_obs, ftid), flat, ftid, key).reshape((t, b, -1))

    c_grad = jax.vmap(jax.value_and_grad(functools.partial(_critic_loss, s), has_aux=True), in_axes=(None, 0, 0, 0, 0))
    (c_loss, q_mean), c_grads = c_grad(ls.critic_params, nobs, batch.action, target, tid)
    c_upd, critic_opt = s.critic_tx.update(c_grads, ls.critic_opt, ls.critic_params)  # mean(): plain FastTD3
    critic = optax.apply_updates(ls.critic_params, c_upd)

    a_grad = jax.vmap(jax.value_and_grad(functools.partial(_actor_loss, s)), in_axes=(None, None, 0, 0))
    a_loss, a_grads = a_grad(ls.actor_params, critic, nobs, tid)
    a_upd, actor_opt = s.actor_tx.update(a_grads, ls.actor_opt, ls.actor_params)
    # MTBench: the actor steps when gradient_step % actor_update_freq == 1, i.e. after the second critic update
    do_actor = ls.steps % cfg.policy_frequency == 1 % cfg.policy_frequency

    def pick(new, old):
        return jax.tree.map(lambda x, y: jnp.where(do_actor, x, y), new, old)

    new = TD3State(actor_params=pick(optax.apply_updates(ls.actor_params, a_upd), ls.actor_params),
                   critic_params=critic, target_params=sac.polyak(ls.target_params, critic, cfg.tau),
                   actor_opt=pick(actor_opt, ls.actor_opt), critic_opt=critic_opt, obs_stats=obs_stats,
                   steps=ls.steps + 1, noise_std=ls.noise_std, reward_stats=ls.reward_stats)
    support = targets.c51_support(cfg.v_min, cfg.v_max, cfg.num_atoms)
    y = target @ support  # [T, b] mean of the target distribution
    m = {"loss/critic": jnp.mean(c_loss), "loss/actor": jnp.mean(a_loss), "q": jnp.mean(q_mean),
         "target_q": jnp.mean(y), "task/target_q": jnp.mean(y, axis=1), "actor_updated": do_actor,
         "grad_norm": optax.tree.norm(jax.tree.map(lambda g: jnp.mean(g, 0), (c_grads, a_grads)))}
    m["loss/total"] = m["loss/critic"] + m["loss/actor"]
    m["nonfinite"] = ~(jnp.isfinite(m["loss/total"]) & jnp.isfinite(m["grad_norm"]))
    return new, m
