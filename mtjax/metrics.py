"""Per-task training metrics (MTBench's success protocol) and their aggregation across tasks and seeds.

Success (MTBench's metric): for each task, the fraction of episodes *ending in the iteration* whose success
flag was ever set; the headline number is the mean over tasks that finished at least one episode
(MTBench's ``average_task_success_rate``). Aggregation across runs: mean, interquartile mean (IQM) and a
percentile bootstrap confidence interval over seeds (Agarwal et al., 2021, arXiv 2108.13264).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["bootstrap_ci", "episode_metrics", "flatten_metrics", "iqm", "transform_diagnostics"]

PER_TASK = ("success", "return", "length", "progress")
# Logged like PER_TASK when the env's info has the key (read at episode ends): Go1 parkour's terrain ``level``
# (the finished episode's difficulty row; hard_cl's curriculum moves it).
OPTIONAL_PER_TASK = ("level",)


def episode_metrics(done: jax.Array, info: dict, task_id: jax.Array, num_tasks: int) -> dict[str, jax.Array]:
    """Per-task episode statistics of one iteration.

    Args:
      done: ``[H, N]`` bool episode-end flags. info: dict with ``episode_success``/``episode_return``/
        ``episode_length``/``episode_progress`` ``[H, N]`` (valid where done). task_id: ``[N]``.
      num_tasks: ``T``.

    Returns:
      ``task/episodes [T]`` counts, ``task/<x> [T]`` means over finished episodes (NaN where none finished),
      and the scalars ``success``, ``return``, ``length``, ``progress``: means over tasks with episodes; the same
      for ``level`` where ``info`` has it (``OPTIONAL_PER_TASK``).
    """
    tid = jnp.broadcast_to(task_id, done.shape).reshape(-1)
    w = done.reshape(-1).astype(jnp.float32)
    count = jax.ops.segment_sum(w, tid, num_segments=num_tasks)
    out = {"task/episodes": count}
    has = count > 0
    columns = [(n, info[f"episode_{n}"]) for n in PER_TASK] + [(n, info[n]) for n in OPTIONAL_PER_TASK if n in info]
    for name, column in columns:
        x = column.reshape(-1).astype(jnp.float32)
        s = jax.ops.segment_sum(w * x, tid, num_segments=num_tasks)
        per_task = jnp.where(has, s / jnp.maximum(count, 1.0), jnp.nan)
        out[f"task/{name}"] = per_task
        out[name] = jnp.where(has.any(), jnp.sum(jnp.where(has, per_task, 0.0)) / jnp.maximum(has.sum(), 1),
                              jnp.nan)
    return out


def transform_diagnostics(opt_state: Any) -> dict[str, jax.Array]:
    """Scalar diagnostics of the multi-task transform inside ``opt_state`` (empty if none are exposed)."""
    from mtjax import transforms

    fn = getattr(transforms, "diagnostics", None)
    return {f"mtrl/{k}": v for k, v in fn(opt_state).items()} if fn is not None else {}


def flatten_metrics(m: dict[str, Any], task_names: tuple[str, ...] | None = None) -> dict[str, float]:
    """Host-side: turns ``[T]`` per-task arrays into ``task/<name>/<metric>`` floats for logging."""
    out: dict[str, float] = {}
    for k, v in m.items():
        v = np.asarray(v)
        if v.ndim == 0:
            out[k] = float(v)
        elif k.startswith("task/") and task_names is not None and v.shape == (len(task_names),):
            for name, x in zip(task_names, v):
                out[f"task/{name}/{k[5:]}"] = float(x)
        else:
            for i, x in enumerate(v.reshape(-1)):
                out[f"{k}/{i}"] = float(x)
    return out


def iqm(x: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50 % of values (25 % trimmed each side)."""
    x = np.sort(np.asarray(x, np.float64).reshape(-1))
    n = len(x)
    lo, hi = int(np.floor(0.25 * n)), int(np.ceil(0.75 * n))
    return float(np.mean(x[lo:hi] if hi > lo else x))


def bootstrap_ci(x: np.ndarray, stat=np.mean, reps: int = 2000, alpha: float = 0.05,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of ``stat`` over runs (MTBench: 2,000 resamples of seeds, 95 %)."""
    x = np.asarray(x, np.float64).reshape(-1)
    rng = np.random.default_rng(seed)
    samples = [stat(x[rng.integers(0, len(x), len(x))]) for _ in range(reps)]
    return float(np.quantile(samples, alpha / 2)), float(np.quantile(samples, 1 - alpha / 2))
