"""The host side of a training run, shared by the jitted trainer and the IsaacGym host loop.

The host only calls a chunk function, checks for non-finite values, logs and checkpoints:
``drive(chunk, state, ...)`` runs ``chunk(state, n) -> (state, metrics stacked [n])`` until ``total``
iterations, stops with ``NonFiniteError`` *before* saving a chunk that produced NaN/Inf (so the last good
checkpoint stays intact), logs every iteration and saves every ``checkpoint_every`` iterations and at the end.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import jax
import numpy as np

from mtjax import checkpoint, run_logger

__all__ = ["NonFiniteError", "drive", "run_logged"]


class NonFiniteError(RuntimeError):
    """Raised when a loss, gradient, observation or reward became NaN/Inf."""


def drive(chunk: Callable[[Any, int], tuple[Any, dict]], state: Any, *, iteration: int, total: int,
          iters_per_call: int, checkpoint_every: int, logger: run_logger.RunLogger,
          ckpt: checkpoint.Checkpointer, config: dict) -> tuple[Any, dict]:
    """Runs chunks from ``iteration`` to ``total``; returns the final state and the last logged record."""
    every = max(1, int(iters_per_call))
    it, rec = int(iteration), {}
    while it < total:
        n = min(every, total - it)
        t0 = time.time()
        state, m = chunk(state, n)
        jax.block_until_ready(state)
        m = jax.device_get(m)
        dt = time.time() - t0
        bad = np.asarray(m["nonfinite"])
        if bad.any():
            i = int(np.argmax(bad))
            last = ckpt.latest_step()
            raise NonFiniteError(
                f"non-finite loss/gradient/observation at iteration {it + i + 1} "
                f"(loss/total={np.asarray(m['loss/total'])[i]}, grad_norm={np.asarray(m['grad_norm'])[i]}); "
                f"run stopped. Last good checkpoint: {'none' if last is None else f'iteration {last}'} "
                f"in {ckpt.directory}")
        rec = logger.log_chunk(it, m, dt)
        it += n
        if it % checkpoint_every < n or it >= total:
            ckpt.save(it, state, config, {k: v for k, v in rec.items() if np.isfinite(v)})
    return state, rec


def run_logged(chunk: Callable[[Any, int], tuple[Any, dict]], state: Any, *, c: Any, run_dir: str,
               task_names: tuple[str, ...], env_steps_per_iteration: int, ckpt: checkpoint.Checkpointer,
               config: dict) -> dict:
    """``drive`` with the run's logger (JSONL/TensorBoard/progress per ``c``), closing logger and checkpointer,
    then the per-task success plot if ``c["plot"]``; returns the last logged record."""
    total = int(c["total_iterations"])
    logger = run_logger.RunLogger(run_dir, task_names, total, env_steps_per_iteration,
                                  tensorboard=c["tensorboard"], progress=c["progress"])
    try:
        _, rec = drive(chunk, state, iteration=int(state.iteration), total=total,
                       iters_per_call=c["iters_per_call"], checkpoint_every=int(c["checkpoint_every"]),
                       logger=logger, ckpt=ckpt, config=config)
    finally:
        logger.close()
        ckpt.close()
    if c["plot"]:
        run_logger.plot_task_success(run_dir, task_names)
    return rec
