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
(``mean`` is plain PPO; PCGrad/CAGrad/FAMO replace it on the ``mtrl_target`` parameter subset). The update
machinery shared with MT-GRPO is ``mtjax.algos.ppo_core``; the value normalisers (MTBench's running mean/std,
or PopArt) are ``mtjax.algos.value_norm``; the hyper-parameters ``mtjax.algos.ppo_config``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from mtjax import losses, returns, transforms
from mtjax.algos import ppo_core, value_norm
from mtjax.algos.ppo_config import KL_REFERENCES, LR_SCHEDULES, VALUE_NORMS, PPOConfig
from mtjax.algos.ppo_core import Learner, LearnerState, Rollout
from mtjax.envs import TaskSet

__all__ = ["KL_REFERENCES", "LR_SCHEDULES", "VALUE_NORMS", "Learner", "LearnerState", "PPOConfig", "Rollout",
           "make_learner", "make_transform"]


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
      init_fn, apply_fn: from ``mtjax.nets.make_actor_critic`` (with ``popart=True`` for
        ``value_norm="popart"``).
      task_set: the batch layout (task-major env blocks).
      obs_size: observation size including the one-hot; action_size: action size.
      onehot_dims: trailing observation dims passed through un-normalised (default: the number of tasks).
      tx: the gradient transform (default ``make_transform(cfg, T)``); must accept task-stacked gradients.
    """
    del action_size  # the network fixes it
    t = task_set.num_tasks
    s = ppo_core.build_spec(cfg, apply_fn, make_transform(cfg, t) if tx is None else tx, task_set, obs_size,
                            onehot_dims, _task_loss, _to_raw)
    return Learner(init=functools.partial(_init, s, init_fn, task_set), act=functools.partial(ppo_core.act, s),
                   value=functools.partial(ppo_core.value, s), mean_action=functools.partial(ppo_core.mean_action, s),
                   update=functools.partial(_update, s))


def _init(s: ppo_core.Spec, init_fn: Callable, task_set: TaskSet, key: jax.Array) -> LearnerState:
    ls = ppo_core.init_state(s, init_fn, task_set, key, popart=value_norm.init_popart(s.cfg, task_set.num_tasks))
    value_norm.check_head(s.cfg, ls.params, task_set.num_tasks)
    return ls


def _to_raw(s: ppo_core.Spec, ls: LearnerState, v: jax.Array, tid: jax.Array) -> jax.Array:
    """The critic's (normalised) output in raw reward units."""
    return value_norm.to_raw(s.cfg, ls.value_stats, ls.popart, v, tid, s.value_clip)


def _task_loss(s: ppo_core.Spec, params, nobs: jax.Array, mb: ppo_core.Batch, ref: ppo_core.Policy):
    """PPO loss of one task's minibatch slice (``[b, ...]`` leaves); aux: loss terms, KL, the policy seen and the
    (critic, actor) losses routed to a loss-weighting transform."""
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
    return total, (aux, ppo_core.Policy(mu, jnp.broadcast_to(log_std, mu.shape)), (c, a))


def _targets(s: ppo_core.Spec, ls: LearnerState, ro: Rollout, last_value: jax.Array):
    """GAE advantages and returns, value normalisation and advantage standardisation.

    Returns:
      ``(value, ret, adv, learner state)``: ``[H, N]`` leaves (value and return normalised when
      ``normalize_value``) and the state with the updated value statistics (and, for PopArt, the rescaled head).
    """
    cfg = s.cfg
    reward = ro.reward
    if cfg.value_bootstrap:
        reward = reward + cfg.gamma * ro.value * ro.truncated.astype(reward.dtype)
    adv, ret = jax.vmap(returns.gae, in_axes=(1, 1, 1, 0, None, None), out_axes=1)(
        reward, ro.value, ro.done, last_value, cfg.gamma, cfg.lam)
    tid = jnp.broadcast_to(ro.task_id, ro.value.shape).reshape(-1)
    value, ret, value_stats, pop, params = value_norm.normalize_targets(
        cfg, ls.value_stats, ls.popart, ls.params, ro.value, ret, tid, s.value_clip)
    if cfg.normalize_advantage:
        adv = losses.standardize(adv)
    return value, ret, adv, ls.replace(params=params, value_stats=value_stats, popart=pop)


def _update(s: ppo_core.Spec, ls: LearnerState, ro: Rollout, last_value: jax.Array,
            key: jax.Array) -> tuple[LearnerState, dict]:
    """The MT-PPO update of one rollout (``[H, N, ...]``) bootstrapped from ``last_value`` ``[N]``."""
    value, ret, adv, ls = _targets(s, ls, ro, last_value)
    data = ppo_core.Batch(obs=ro.obs, action=ro.action, log_prob=ro.log_prob, value=value, ret=ret, adv=adv,
                          task_id=jnp.broadcast_to(ro.task_id, ro.value.shape))
    return ppo_core.run_epochs(s, ls, ro, data, key)
