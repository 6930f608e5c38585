"""MT-GRPO as MTBench runs it: critic-free PPO with group-relative advantages (Joshi et al., 2025, arXiv
2507.23172, its ``grpo_agent.py``; GRPO: Shao et al., 2024, arXiv 2402.03300).

The group of a sample is its task: every (env, step) sample of task ``k`` in the rollout. The return is the
in-rollout reward-to-go ``G_t = r_t + gamma (1 - d_t) G_{t+1}``, ``G_H = 0`` (no value to bootstrap with; the
horizon is one episode, 150 steps on Meta-World), with a constant ``+gamma`` added to the reward of time-out
steps when ``value_bootstrap`` (MTBench's executed code, spec quirk Q10); the advantage is
``A = (G - mean_k G) / (std_k G + 1e-8)`` with the unbiased std over all of task ``k``'s samples
(``mtjax.targets.reward_to_go``, ``group_advantages``), with no further standardisation. The loss per task is
the clipped surrogate ``- entropy_coef * H + bound_coef * bound``; with ``grpo_exp_loss`` its ``exp`` (MTBench's
FAMO-GRPO, where FAMO needs positive task losses). Everything else (observation normaliser, task-major minibatches,
per-task gradients, the multi-task transform, learning-rate schedules) is MT-PPO's: ``mtjax.algos.ppo_core``.

The learner has MT-PPO's interface (``mtjax.algos.ppo.make_learner``'s signature, the same ``LearnerState``), so
the jitted trainer ``mtjax.algos.on_policy.make_train(..., algo="grpo")`` drives it unchanged. Its value is
zeros: build the network with ``critic_net="none"`` (``mtjax.nets.make_actor_critic``); a critic would be
ignored. ``docs/ppo.md`` ("MT-GRPO").
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from mtjax import losses, targets
from mtjax.algos import ppo, ppo_core
from mtjax.algos.ppo_core import Learner, LearnerState, Rollout
from mtjax.envs import TaskSet

__all__ = ["group_relative_advantages", "make_learner"]


def make_learner(cfg: ppo.PPOConfig, init_fn: Callable, apply_fn: Callable, task_set: TaskSet,
                 obs_size: int, action_size: int, onehot_dims: int | None = None,
                 tx: optax.GradientTransformationExtraArgs | None = None) -> Learner:
    """Builds MT-GRPO for a task-major batch (arguments as ``mtjax.algos.ppo.make_learner``).

    ``cfg`` is the ``ppo`` section: GRPO reads ``horizon``, ``epochs``, ``minibatch_size``, the learning-rate and
    KL fields, ``gamma``, ``clip``, ``entropy_coef``, ``bound_coef``, ``max_grad_norm``, ``adam_eps``, the
    observation-normaliser fields, ``value_bootstrap`` (the time-out bonus), ``mtrl*`` and ``grpo_exp_loss``.
    """
    del action_size  # the network fixes it
    t = task_set.num_tasks
    s = ppo_core.build_spec(cfg, apply_fn, ppo.make_transform(cfg, t) if tx is None else tx, task_set, obs_size,
                            onehot_dims, _task_loss, _zero_value)
    return Learner(init=functools.partial(ppo_core.init_state, s, init_fn, task_set),
                   act=functools.partial(ppo_core.act, s), value=functools.partial(ppo_core.value, s),
                   mean_action=functools.partial(ppo_core.mean_action, s), update=functools.partial(_update, s, t))


def _zero_value(s: ppo_core.Spec, ls: LearnerState, v: jax.Array, tid: jax.Array) -> jax.Array:
    del s, ls, tid
    return jnp.zeros_like(v)


def _task_loss(s: ppo_core.Spec, params, nobs: jax.Array, mb: ppo_core.Batch, ref: ppo_core.Policy):
    """GRPO loss of one task's minibatch slice (``[b, ...]`` leaves); the aux as MT-PPO's (no critic term)."""
    cfg = s.cfg
    mu, log_std, _ = s.apply_fn(params, nobs, mb.task_id)
    lp = losses.gaussian_log_prob(mu, log_std, mb.action)
    a = jnp.mean(losses.clipped_surrogate(lp, mb.log_prob, mb.adv, cfg.clip))
    ent = losses.gaussian_entropy(log_std)
    b = jnp.mean(losses.bound_loss(mu))
    total = a - cfg.entropy_coef * ent + cfg.bound_coef * b
    if cfg.grpo_exp_loss:
        total = jnp.exp(total)
    kl = jnp.mean(losses.rl_games_policy_kl(mu, log_std, ref.mu, ref.log_std))
    aux = {"actor": a, "entropy": ent, "bound": b, "kl": kl}
    return total, (aux, ppo_core.Policy(mu, jnp.broadcast_to(log_std, mu.shape)), (jnp.zeros_like(total), total))


def group_relative_advantages(cfg: ppo.PPOConfig, ro: Rollout, num_tasks: int) -> tuple[jax.Array, jax.Array]:
    """``(advantages, reward-to-go)``, both ``[H, N]``, of a rollout (module docstring)."""
    g = jax.vmap(targets.reward_to_go, in_axes=(1, 1, 1, None, None), out_axes=1)(
        ro.reward, ro.done, ro.truncated, cfg.gamma, cfg.value_bootstrap)
    return targets.group_advantages(g, ro.task_id, num_tasks), g


def _update(s: ppo_core.Spec, num_tasks: int, ls: LearnerState, ro: Rollout, last_value: jax.Array,
            key: jax.Array) -> tuple[LearnerState, dict]:
    """The MT-GRPO update of one rollout (``[H, N, ...]``); ``last_value`` is unused (no bootstrap)."""
    del last_value
    adv, g = group_relative_advantages(s.cfg, ro, num_tasks)
    zeros = jnp.zeros_like(adv)
    data = ppo_core.Batch(obs=ro.obs, action=ro.action, log_prob=ro.log_prob, value=zeros, ret=zeros, adv=adv,
                          task_id=jnp.broadcast_to(ro.task_id, adv.shape))
    ls, m = ppo_core.run_epochs(s, ls, ro, data, key)
    m["return_to_go"] = jnp.mean(g)
    return ls, m
