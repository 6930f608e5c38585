"""MT-PPO's per-task value normalisers: MTBench's running mean/std, or PopArt (``PPOConfig.value_norm``).

"running" (MTBench, Joshi et al., 2025, arXiv 2507.23172; rl_games' ``RunningMeanStd``): per-task statistics
updated with the rollout values, then with the returns; count starts at ``stats_init_count``, eps 1e-5;
normalised values and returns and the critic's output before de-normalising are clamped to
``[-value_norm_clip, value_norm_clip]``.

"popart" (van Hasselt et al., 2016, arXiv 1602.07714; Hessel et al., 2019, arXiv 1809.04474; ``mtjax.popart``):
per-task exponential moments of the returns (step ``popart_beta``, bias-corrected), and after every statistics
update the network's per-task head ``critic_popart`` (``mtjax.nets.registry.PopArtHead``) is rescaled so that
every task's raw value ``sigma_k n_k + mu_k`` is unchanged. No clamp: a clamp would break that preservation.
"""

from __future__ import annotations

from typing import Any

import jax

from mtjax import normalize, popart
from mtjax.algos.ppo_config import PPOConfig
from mtjax.nets.registry import POPART_HEAD

__all__ = ["VALUE_EPS", "check_head", "init_popart", "normalize_targets", "to_raw"]

VALUE_EPS = 1e-5  # rl_games RunningMeanStd epsilon (value normaliser)


def _uses_popart(cfg: PPOConfig) -> bool:
    return cfg.normalize_value and cfg.value_norm == "popart"


def _head_parent(params: Any) -> Any:
    """The dict that holds the PopArt head (flax variables ``{"params": {...}}`` or a bare params dict)."""
    return params.get("params", params)


def check_head(cfg: PPOConfig, params: Any, num_tasks: int) -> None:
    """Raises ``ValueError`` if ``value_norm="popart"`` and the network has no ``[1, T]`` PopArt head."""
    if not _uses_popart(cfg):
        return
    head = _head_parent(params).get(POPART_HEAD)
    if head is None or tuple(head["kernel"].shape) != (1, num_tasks):
        raise ValueError(f"value_norm='popart' needs a network with a per-task PopArt head "
                         f"'{POPART_HEAD}' of {num_tasks} tasks: build it with "
                         f"mtjax.nets.make_actor_critic(..., popart=True)")


def init_popart(cfg: PPOConfig, num_tasks: int) -> popart.PopArtState | None:
    """PopArt statistics (``mu = 0``, ``nu = 1``) with ``value_norm="popart"``, else None."""
    return popart.init_popart(num_tasks) if _uses_popart(cfg) else None


def to_raw(cfg: PPOConfig, value_stats: normalize.RunningStats, pop: popart.PopArtState | None, v: jax.Array,
           tid: jax.Array, clip: float | None) -> jax.Array:
    """The critic's (normalised) output ``v [B]`` in raw reward units."""
    if not cfg.normalize_value:
        return v
    if _uses_popart(cfg):
        return popart.denormalize(pop, v, tid)
    return normalize.denormalize(value_stats, v, tid, eps=VALUE_EPS, clip=clip)


def normalize_targets(cfg: PPOConfig, value_stats: normalize.RunningStats, pop: popart.PopArtState | None,
                      params: Any, value: jax.Array, ret: jax.Array, tid: jax.Array, clip: float | None):
    """Updates the statistics and normalises the rollout values and returns.

    Args:
      value, ret: ``[H, N]`` raw-unit rollout values and returns. tid: ``[H * N]`` task of each flat sample.
    Returns:
      ``(value, ret, value_stats, popart_state, params)``: normalised ``[H, N]`` values and returns (unchanged
      without ``normalize_value``), the new statistics, and the params with the PopArt head rescaled.
    """
    if not cfg.normalize_value:
        return value, ret, value_stats, pop, params
    shape = ret.shape
    if _uses_popart(cfg):
        new = popart.update_stats(pop, ret.reshape(-1), tid, cfg.popart_beta, debias=True)
        parent = dict(_head_parent(params))
        parent[POPART_HEAD] = popart.rescale_head(parent[POPART_HEAD], pop, new)
        params = {**params, "params": parent} if "params" in params else parent
        value = popart.normalize(new, value.reshape(-1), tid).reshape(shape)
        ret = popart.normalize(new, ret.reshape(-1), tid).reshape(shape)
        return value, ret, value_stats, new, params
    norm = {"eps": VALUE_EPS, "clip": clip}
    value_stats = normalize.update_stats(value_stats, value.reshape(-1, 1), tid)
    value = normalize.normalize(value_stats, value.reshape(-1), tid, **norm).reshape(shape)
    value_stats = normalize.update_stats(value_stats, ret.reshape(-1, 1), tid)
    ret = normalize.normalize(value_stats, ret.reshape(-1), tid, **norm).reshape(shape)
    return value, ret, value_stats, pop, params
