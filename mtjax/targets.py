"""Regression targets of the off-policy and critic-free MTBench learners (MT-SAC, FastTD3, MT-PQN, MT-GRPO).

* SAC soft target with one temperature per task (Haarnoja et al., 2018, arXiv 1812.05905; per-task
  "disentangled" alpha as in Yu et al., 2019, Meta-World, arXiv 1910.10897) and its temperature loss.
* TD3 clipped double-Q target with clipped target-policy noise (Fujimoto et al., 2018, arXiv 1802.09477).
* C51 categorical projection (Bellemare et al., 2017, arXiv 1707.06887) and FastTD3's distributional clipped
  double-Q (Seo et al., 2025, arXiv 2505.22642).
* PQN's Q(lambda) returns (Gallici et al., 2024, arXiv 2407.04811), in MTBench's form.
* GRPO reward-to-go and per-task group-relative advantages (Shao et al., 2024, arXiv 2402.03300).

Which MTBench setting each reproduces, and its quirks, is in ``docs/offpolicy.md``. Batches are flat ``[B]``
with a ``task_id [B]``; the recursive returns are unbatched over time ``[H]`` (``lax.scan(reverse=True)``) and
callers ``jax.vmap`` them over envs, like ``mtjax.returns.gae``. Every target is wrapped in
``lax.stop_gradient``.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

__all__ = [
    "c51_project",
    "c51_support",
    "cdq_select",
    "group_advantages",
    "q_lambda_returns",
    "reward_to_go",
    "sac_alpha_loss",
    "sac_critic_target",
    "td3_target",
    "td3_target_action",
]


# ---------------------------------------------------------------------------------------------- SAC / TD3


def sac_critic_target(reward: jax.Array, done: jax.Array, discount: jax.Array | float, next_q1: jax.Array,
                      next_q2: jax.Array, next_log_prob: jax.Array, log_alpha: jax.Array,
                      task_id: jax.Array) -> jax.Array:
    """``y = r_n + (1 - done) * discount * (min(Q1', Q2') - alpha_k * log pi(a'|s'))``.

    Args:
      reward: ``[B]`` n-step reward.
      done: ``[B]`` 1 where the bootstrap is dropped.
      discount: ``gamma^n`` (MT-SAC) as a scalar, or ``[B]`` ``gamma^m``.
      next_q1: ``[B]`` target critic 1 at ``(s', a')``, ``a' ~ pi(.|s')``.
      next_q2: ``[B]`` target critic 2.
      next_log_prob: ``[B]`` ``log pi(a'|s')``.
      log_alpha: ``[T]`` per-task log temperature (no gradient reaches it through the target).
      task_id: ``[B]`` int task of each sample.

    Returns:
      ``[B]`` target.
    """
    chex.assert_equal_shape([reward, done, next_q1, next_q2, next_log_prob, task_id])
    alpha = jnp.exp(log_alpha)[task_id]
    soft_v = jnp.minimum(next_q1, next_q2) - alpha * next_log_prob
    return jax.lax.stop_gradient(reward + (1.0 - done) * discount * soft_v)


def sac_alpha_loss(log_alpha: jax.Array, log_prob: jax.Array, task_id: jax.Array,
                   target_entropy: float) -> jax.Array:
    """Per-task temperature loss ``mean_b alpha_{k(b)} * (-log pi(a_b|s_b) - H_target)``.

    As in MTBench, the gradient flows through ``alpha = exp(log_alpha)`` (not through ``log_alpha`` alone, as in
    Haarnoja et al.'s ``-log_alpha * (log pi + H)``), and ``log_prob`` is a constant. So
    ``d loss / d log_alpha_k = (1/B) sum_{b in k} alpha_k * (-log pi_b - H_target)``: alpha_k shrinks while the
    task's entropy ``-log pi`` exceeds the target. The mean is over the whole batch ``B``, not per task.

    Args:
      log_alpha: ``[T]`` per-task log temperature (the parameter being learned).
      log_prob: ``[B]`` ``log pi(a|s)`` of fresh actions.
      task_id: ``[B]`` int task of each sample.
      target_entropy: ``H_target`` (MTBench: ``-|A|`` = -4).

    Returns:
      scalar loss.
    """
    chex.assert_equal_shape([log_prob, task_id])
    alpha = jnp.exp(log_alpha)[task_id]
    return jnp.mean(alpha * jax.lax.stop_gradient(-log_prob - target_entropy))


def td3_target_action(next_action: jax.Array, key: jax.Array, noise_std: float, noise_clip: float,
                      low: float = -1.0, high: float = 1.0) -> jax.Array:
    """Target-policy smoothing ``clip(mu'(s') + clip(eps, -c, c), low, high)``, ``eps ~ N(0, noise_std^2)``.

    Args:
      next_action: ``[B, A]`` target actor's action ``mu'(s')``.
      key: PRNG key.
      noise_std: noise standard deviation (FastTD3 in MTBench: 0.001).
      noise_clip: noise bound ``c`` (MTBench: 0.5).
      low: lower action bound.
      high: upper action bound.

    Raises:
      ValueError: negative ``noise_std`` or ``noise_clip``.
    """
    if noise_std < 0 or noise_clip < 0:
        raise ValueError(f"td3_target_action: noise_std={noise_std}, noise_clip={noise_clip} must be >= 0")
    eps = jnp.clip(noise_std * jax.random.normal(key, next_action.shape, next_action.dtype),
                   -noise_clip, noise_clip)
    return jax.lax.stop_gradient(jnp.clip(next_action + eps, low, high))


def td3_target(reward: jax.Array, done: jax.Array, discount: jax.Array | float, next_q1: jax.Array,
               next_q2: jax.Array) -> jax.Array:
    """Clipped double-Q target ``r_n + (1 - done) * discount * min(Q1', Q2')`` (all ``[B]``)."""
    chex.assert_equal_shape([reward, done, next_q1, next_q2])
    return jax.lax.stop_gradient(reward + (1.0 - done) * discount * jnp.minimum(next_q1, next_q2))


# ---------------------------------------------------------------------------------------------- C51


def c51_support(v_min: float, v_max: float, num_atoms: int) -> jax.Array:
    """``[K]`` evenly spaced atoms ``z_i = v_min + i * (v_max - v_min) / (K - 1)`` (FastTD3: 101 on [-10, 10]).

    Raises:
      ValueError: ``num_atoms < 2`` or ``v_max <= v_min``.
    """
    if num_atoms < 2 or not v_max > v_min:
        raise ValueError(f"c51_support: need num_atoms >= 2 and v_max > v_min, got {num_atoms}, [{v_min}, {v_max}]")
    return jnp.linspace(v_min, v_max, num_atoms, dtype=jnp.float32)


def c51_project(probs: jax.Array, reward: jax.Array, done: jax.Array, discount: jax.Array | float,
                v_min: float, v_max: float) -> jax.Array:
    """Projects ``r + (1 - done) * discount * z`` (probabilities ``probs``) onto the fixed support.

    Bellemare et al.'s projection: each shifted atom ``Tz_j`` is clipped to ``[v_min, v_max]`` and its mass is
    split between the two neighbouring atoms in proportion to closeness, i.e.
    ``m_i = sum_j p_j * max(0, 1 - |clip(Tz_j) - z_i| / dz)``. This equals MTBench's floor/ceil ``index_add``
    (including its fix for ``Tz_j`` landing exactly on an atom) without a scatter.

    Args:
      probs: ``[B, K]`` next-state distribution (sums to 1 per row).
      reward: ``[B]`` n-step reward.
      done: ``[B]`` 1 where the bootstrap is dropped (all mass goes to ``clip(r)``).
      discount: scalar or ``[B]`` (FastTD3: ``gamma^m``).
      v_min: lowest atom.
      v_max: highest atom.

    Returns:
      ``[B, K]`` projected probabilities.
    """
    b, k = probs.shape
    chex.assert_shape([reward, done], (b,))
    z = c51_support(v_min, v_max, k)
    dz = (v_max - v_min) / (k - 1)
    scale = (1.0 - done) * jnp.broadcast_to(discount, (b,))
    tz = jnp.clip(reward[:, None] + scale[:, None] * z[None, :], v_min, v_max)  # [B, K] (source atoms j)
    weight = jnp.clip(1.0 - jnp.abs(tz[:, :, None] - z[None, None, :]) / dz, 0.0, 1.0)  # [B, j, i]
    return jax.lax.stop_gradient(jnp.einsum("bj,bji->bi", probs, weight))


def cdq_select(proj1: jax.Array, proj2: jax.Array, support: jax.Array) -> jax.Array:
    """FastTD3's distributional clipped double-Q: per sample, the projected distribution (``[B, K]``) whose mean
    ``sum_i p_i z_i`` is smaller (ties pick ``proj2``, as MTBench's ``where(v1 < v2, p1, p2)``)."""
    chex.assert_equal_shape([proj1, proj2])
    v1, v2 = proj1 @ support, proj2 @ support
    return jnp.where((v1 < v2)[:, None], proj1, proj2)


# ---------------------------------------------------------------------------------------------- PQN / GRPO


def q_lambda_returns(reward: jax.Array, done: jax.Array, value: jax.Array, last_value: jax.Array,
                     gamma: float, lam: float, mask_lambda_return: bool = False) -> jax.Array:
    """MTBench/PQN Q(lambda) returns of one env's rollout.

    ``R_{H-1} = r_{H-1} + gamma (1 - d_{H-1}) V(s_H)`` and
    ``R_t = r_t + gamma [lam R_{t+1} + (1 - lam) (1 - d_t) V(s_{t+1})]``, where ``d_t`` = the episode ended at
    step ``t`` (our convention; MTBench indexes the same flag as ``dones[t+1]``). As in MTBench (and CleanRL's
    PQN), ``lam R_{t+1}`` is *not* masked at an episode end, so ``lam``-weighted return from the next episode
    leaks into ``R_t``; ``mask_lambda_return=True`` multiplies it by ``(1 - d_t)`` too (Peng's Q(lambda) as in
    Gallici et al.'s reference code).

    Args:
      reward: ``[H]`` rewards.
      done: ``[H]`` episode ended at step ``t``.
      value: ``[H]`` ``V(s_t) = mean over action dims of max_a Q(s_t, .)`` of the state acted in.
      last_value: scalar ``V(s_H)`` after the rollout.
      gamma: discount.
      lam: lambda.
      mask_lambda_return: see above; False reproduces MTBench.

    Returns:
      ``[H]`` returns.
    """
    chex.assert_equal_shape([reward, done, value])
    notdone = 1.0 - done.astype(value.dtype)
    next_value = jnp.concatenate([value[1:], jnp.asarray(last_value, value.dtype)[None]])
    is_last = jnp.arange(reward.shape[0]) == reward.shape[0] - 1
    lam_t = jnp.where(is_last, 0.0, lam)  # the last step bootstraps fully: R_{H-1} has no lambda term

    def body(next_ret, xs):
        r, nv, nd, lt = xs
        carried = lt * next_ret * (nd if mask_lambda_return else 1.0)
        ret = r + gamma * (carried + (1.0 - lt) * nd * nv)
        return ret, ret

    _, ret = jax.lax.scan(body, jnp.zeros((), value.dtype), (reward, next_value, notdone, lam_t), reverse=True)
    return jax.lax.stop_gradient(ret)


def reward_to_go(reward: jax.Array, done: jax.Array, truncated: jax.Array, gamma: float,
                 timeout_bonus: bool = True) -> jax.Array:
    """MT-GRPO's in-rollout return ``G_t = r_t + gamma (1 - d_t) G_{t+1}``, ``G_H = 0``.

    ``d_t`` = the episode ended at step ``t`` (MTBench's ``d_{t+1}``). With ``timeout_bonus`` (MTBench's
    ``value_bootstrap``, on by default for parity) a constant ``gamma`` is added to the reward of every
    time-out step, the critic-free stand-in for ``gamma * V(s)``.

    Args:
      reward: ``[H]`` rewards (already scaled).
      done: ``[H]`` episode ended at step ``t``.
      truncated: ``[H]`` the end was a time-out.
      gamma: discount.
      timeout_bonus: add ``gamma`` at time-outs.

    Returns:
      ``[H]`` reward-to-go.
    """
    chex.assert_equal_shape([reward, done, truncated])
    r = reward + (gamma * truncated.astype(reward.dtype) if timeout_bonus else 0.0)
    notdone = 1.0 - done.astype(reward.dtype)

    def body(g_next, xs):
        rt, nd = xs
        g = rt + gamma * nd * g_next
        return g, g

    _, g = jax.lax.scan(body, jnp.zeros((), reward.dtype), (r, notdone), reverse=True)
    return jax.lax.stop_gradient(g)


def group_advantages(returns: jax.Array, task_id: jax.Array, num_tasks: int, eps: float = 1e-8,
                     ddof: int = 1) -> jax.Array:
    """Group-relative advantage ``(G - mean_k) / (std_k + eps)`` over all samples of each task ``k``.

    Args:
      returns: ``[..., N]`` (e.g. ``[H, N]`` time-major) or any shape equal to ``task_id``'s.
      task_id: ``[N]`` task of every env column, or the full shape of ``returns``.
      num_tasks: ``T`` (static).
      eps: added to the standard deviation (MTBench: 1e-8).
      ddof: 1 = unbiased standard deviation, as torch's ``Tensor.std()`` in MTBench.

    Returns:
      advantages shaped like ``returns``.
    """
    tid = jnp.broadcast_to(task_id, returns.shape).reshape(-1)
    g = returns.reshape(-1)
    count = jax.ops.segment_sum(jnp.ones_like(g), tid, num_segments=num_tasks)
    mean = jax.ops.segment_sum(g, tid, num_segments=num_tasks) / jnp.maximum(count, 1.0)
    sq = jax.ops.segment_sum(jnp.square(g - mean[tid]), tid, num_segments=num_tasks)
    std = jnp.sqrt(sq / jnp.maximum(count - ddof, 1.0))
    return jax.lax.stop_gradient(((g - mean[tid]) / (std[tid] + eps)).reshape(returns.shape))
