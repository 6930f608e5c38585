"""The jitted training loop for JAX-native environments: rollout, update and metrics in one XLA program.

``make_train(cfg, env, init_fn, apply_fn)`` returns ``Trainer(init, train_chunk, train)``:
``init(key) -> TrainState``; ``train_chunk(state, n) -> (state, metrics stacked [n])`` runs ``n`` iterations
with ``lax.scan`` (``n`` static); ``train(key)`` runs ``cfg``'s whole budget and is pure, so
``jax.vmap(train)(keys)`` trains several seeds at once. The host only logs and checkpoints between chunks.

The iteration is defined once, here, for both trainers: ``run_iteration`` (key schedule ``iteration_keys``, a
rollout of ``rollout_step``s, then ``finish_iteration``: bootstrap, the learner's update, metrics and the non-finite check
of observations, rewards and losses). ``make_train`` passes a ``lax.scan`` over the pure env step as the rollout;
the host-loop trainer (``mtjax.algos.host_loop``, IsaacGym) passes a Python loop around a host env step.

The learner is picked by ``algo`` (``LEARNERS``): "ppo" (``mtjax.algos.ppo``), "grpo" (``mtjax.algos.grpo``,
critic-free; its value is zeros) or "pqn" (``mtjax.algos.pqn``: epsilon-greedy Q-learning, log-prob zeros, value
``V(s)``, its own ``PQNState``). All have the interface ``init / act / value / mean_action / update``, so this loop
does not know which one it runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct

from mtjax import metrics as mt_metrics
from mtjax.algos import grpo, ppo, pqn
from mtjax.envs import Env, EnvState

__all__ = ["LEARNERS", "TrainState", "Trainer", "act_and_clip", "env_action", "finish_iteration", "iteration_keys",
           "make_learner", "make_train", "rollout_step", "run_iteration"]

# algo name -> learner factory with ``ppo.make_learner``'s signature.
LEARNERS: dict[str, Callable[..., ppo.Learner]] = {"ppo": ppo.make_learner, "grpo": grpo.make_learner,
                                                   "pqn": pqn.make_learner}


def make_learner(algo: str, *args: Any, **kwargs: Any) -> ppo.Learner:
    """``LEARNERS[algo](*args, **kwargs)``; an unknown ``algo`` raises ``ValueError`` naming the valid ones."""
    if algo not in LEARNERS:
        raise ValueError(f"unknown algo {algo!r}; valid: {', '.join(LEARNERS)}")
    return LEARNERS[algo](*args, **kwargs)


@struct.dataclass
class TrainState:
    """Full training state (what a checkpoint holds).

    Attributes:
      learner: network parameters, optimiser state, normalisers, learning rate.
      env_state: the batch of environments (simulator state, episode accumulators, env key).
      key: the trainer's PRNG key (typed).
      iteration: completed iterations (int32 scalar).
    """

    learner: ppo.LearnerState
    env_state: EnvState
    key: jax.Array
    iteration: jax.Array


class Trainer(NamedTuple):
    init: Callable[[jax.Array], TrainState]
    train_chunk: Callable[[TrainState, int], tuple[TrainState, dict]]
    train: Callable[[jax.Array], tuple[TrainState, dict]]
    learner: ppo.Learner


def make_train(cfg: ppo.PPOConfig, env: Env, init_fn: Callable, apply_fn: Callable,
               total_iterations: int = 1, tx: Any = None, algo: str = "ppo") -> Trainer:
    """Builds the pure training functions (jit them at the top: ``jax.jit(trainer.train_chunk, static_argnums=1)``).

    Args:
      cfg: MT-PPO (and MT-GRPO) hyper-parameters.
      env: a pure JAX environment following ``mtjax.envs.Env``.
      init_fn, apply_fn: network factory output (``mtjax.nets.make_actor_critic``).
      total_iterations: iterations run by ``train(key)``.
      tx: optional gradient transform replacing ``ppo.make_transform(cfg, T)``.
      algo: the learner, a key of ``LEARNERS`` ("ppo", "grpo"; "pqn" takes a ``pqn.PQNConfig`` as ``cfg`` and
        ``mtjax.nets.make_q_network``'s functions).
    """
    ts_ = env.task_set
    learner = make_learner(algo, cfg, init_fn, apply_fn, ts_, env.obs_size, env.action_size, tx=tx)

    def init(key: jax.Array) -> TrainState:
        k_env, k_learn, k_run = jax.random.split(key, 3)
        return TrainState(learner=learner.init(k_learn), env_state=env.reset(k_env), key=k_run,
                          iteration=jnp.zeros((), jnp.int32))

    act = functools.partial(act_and_clip, learner, clip=getattr(cfg, "clip_actions", True))
    finish = functools.partial(finish_iteration, learner, ts_.num_tasks)

    def _rollout(ls, es, step_keys):
        return jax.lax.scan(lambda e, k: rollout_step(act, env.step, ls, e, k), es, step_keys)

    def _iteration(state: TrainState, _):
        return run_iteration(state, cfg.horizon, _rollout, finish)

    def train_chunk(state: TrainState, n: int):
        return jax.lax.scan(_iteration, state, None, length=n)

    def train(key: jax.Array):
        return train_chunk(init(key), total_iterations)

    return Trainer(init=init, train_chunk=train_chunk, train=train, learner=learner)


def run_iteration(state: TrainState, horizon: int, rollout: Callable, finish: Callable) -> tuple[TrainState, dict]:
    """One training iteration, the same for both trainers: key schedule, rollout, then ``finish_iteration``.

    Args:
      state: the state before the iteration.
      horizon: ``H``, steps per rollout.
      rollout: ``(learner_state, env_state, step_keys [H]) -> (env_state, transitions)``, transitions with
        ``[H, N, ...]`` leaves as ``rollout_step`` records them: a ``lax.scan`` of ``rollout_step`` over the pure
        env step (``make_train``) or a Python loop around a host env step (``mtjax.algos.host_loop``).
      finish: ``finish_iteration`` with its learner and task count bound (jitted on the host path).
    """
    step_keys, k_update = iteration_keys(state.key, state.iteration, horizon)
    es, tr = rollout(state.learner, state.env_state, step_keys)
    ls, m = finish(state.learner, tr, es.obs, es.task_id, k_update)
    return state.replace(learner=ls, env_state=es, iteration=state.iteration + 1), m


def rollout_step(act: Callable, env_step: Callable[[EnvState, jax.Array], EnvState], ls: ppo.LearnerState,
                 es: EnvState, key: jax.Array) -> tuple[EnvState, dict]:
    """One env step of the rollout: sample the policy, step the env with the clipped action, record the transition.

    Args:
      act: ``act_and_clip`` with its learner bound (jitted on the host path).
      env_step: ``(EnvState, action [N, A]) -> EnvState``: the pure JAX step or a host call.

    Returns:
      The next ``EnvState`` and the transition ``{obs, action, log_prob, value, reward, done, truncated, info}``
      (``[N, ...]`` leaves; ``obs`` is the observation acted on).
    """
    action, log_prob, value, clipped = act(ls, es.obs, es.task_id, key)
    nxt = env_step(es, clipped)
    return nxt, {"obs": es.obs, "action": action, "log_prob": log_prob, "value": value, "reward": nxt.reward,
                 "done": nxt.done, "truncated": nxt.truncated, "info": nxt.info}


def iteration_keys(key: jax.Array, iteration: jax.Array, horizon: int) -> tuple[jax.Array, jax.Array]:
    """The iteration's keys: ``fold_in(key, iteration)`` split into ``horizon`` step keys and one update key."""
    k_roll, k_update = jax.random.split(jax.random.fold_in(key, iteration))
    return jax.random.split(k_roll, horizon), k_update


def act_and_clip(learner: ppo.Learner, ls: ppo.LearnerState, obs: jax.Array, task_id: jax.Array,
                 key: jax.Array, clip: bool = True) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Samples the policy: ``(action, log_prob, value, the env's action)``, the last clipped to [-1, 1] unless
    ``clip`` is False (``env_action``).

    The log-prob is of the unclipped sample (rl_games).
    """
    action, log_prob, value = learner.act(ls, obs, task_id, key)
    return action, log_prob, value, env_action(action, clip)


def env_action(action: jax.Array, clip: bool = True) -> jax.Array:
    """What the env receives of a policy's action, in training and evaluation alike: clipped to [-1, 1] (rl_games'
    ``clip_actions``, ``PPOConfig.clip_actions``), or unchanged (an env with a wider range, Go1 parkour's +-5, then
    clamps it itself)."""
    return jnp.clip(action, -1.0, 1.0) if clip else action


def finish_iteration(learner: ppo.Learner, num_tasks: int, ls: ppo.LearnerState, tr: dict, last_obs: jax.Array,
                     task_id: jax.Array, k_update: jax.Array) -> tuple[ppo.LearnerState, dict]:
    """Everything after the rollout, shared by the jitted trainer and the host-loop (IsaacGym) trainer.

    Bootstrap value of ``last_obs``, the learner's update (MT-PPO or MT-GRPO), per-task episode metrics, transform
    diagnostics and the non-finite check of observations, rewards and losses (``metrics["nonfinite"]``).

    Args:
      tr: the rollout, ``[H, N, ...]`` leaves: obs, action, log_prob, value, reward, done, truncated, info.
      last_obs: ``[N, O]`` observation after the last step. task_id: ``[N]``.
    """
    ro = ppo.Rollout(obs=tr["obs"], action=tr["action"], log_prob=tr["log_prob"], value=tr["value"],
                     reward=tr["reward"], done=tr["done"], truncated=tr["truncated"], task_id=task_id)
    last_value = learner.value(ls, last_obs, task_id)
    ls, m = learner.update(ls, ro, last_value, k_update)
    m.update(mt_metrics.episode_metrics(tr["done"], tr["info"], task_id, num_tasks))
    m["reward"] = jnp.mean(tr["reward"])
    finite_env = jnp.isfinite(tr["obs"]).all() & jnp.isfinite(last_obs).all() & jnp.isfinite(tr["reward"]).all()
    m["nonfinite"] = m["nonfinite"] | ~finite_env
    m.update(mt_metrics.transform_diagnostics(ls.opt_state))
    return ls, m
