"""The host side of a training run, shared by the jitted trainer and the IsaacGym host loop.

The host only calls a chunk function, checks for divergence, logs and checkpoints:
``drive(chunk, state, ...)`` runs ``chunk(state, n) -> (state, metrics stacked [n])`` for exactly ``total``
iterations (the last chunk is shorter when ``iters_per_call`` does not divide what is left: one more compile),
stops with ``NonFiniteError`` *before* logging or saving a chunk that diverged (so the last checkpoint is one a
resume can continue from), logs every iteration and saves every ``checkpoint_every`` iterations and at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mtjax import checkpoint, multi_seed, run_logger
from mtjax.config import RunConfig

__all__ = ["NonFiniteError", "SeedLoggers", "drive", "iteration_of", "log_dirs", "run_logged"]


class NonFiniteError(RuntimeError):
    """Raised when a run diverged: a NaN/Inf loss, gradient, observation, reward or learner state, or a huge loss."""


def _learner_finite(state: Any) -> bool:
    """Every floating leaf of the learner (parameters, optimiser state, normaliser statistics) is finite.

    Only ``state.learner``: an off-policy ``TrainState``'s replay is not scanned (it holds the env's own
    observations and rewards, which the chunk's ``nonfinite`` flag already checks as they arrive).
    """
    leaves = jax.tree.leaves(getattr(state, "learner", state))
    return all(bool(jnp.isfinite(x).all()) for x in leaves if jnp.issubdtype(jnp.result_type(x), jnp.floating))


def _check_diverged(state: Any, m: dict, it: int, max_abs_loss: float, ckpt: checkpoint.Checkpointer) -> None:
    """Raises ``NonFiniteError`` naming the first bad iteration and the last good checkpoint.

    A chunk diverged when a loss, gradient, observation or reward was NaN/Inf (``m["nonfinite"]``), when
    ``|loss/total| > max_abs_loss``, or when it leaves a non-finite learner state (e.g. the value normaliser's
    variance overflowing to inf while the losses are still finite).
    """
    loss = np.asarray(m["loss/total"], np.float64)
    bad = np.asarray(m["nonfinite"]) | ~(np.abs(loss) <= max_abs_loss)
    if not bad.any() and _learner_finite(state):
        return
    i = int(np.argmax(bad)) if bad.any() else len(loss) - 1
    what = ("a NaN/Inf loss, gradient, observation or reward" if np.asarray(m["nonfinite"])[i] else
            f"|loss/total| > max_abs_loss={max_abs_loss:g}" if bad.any() else
            "a non-finite learner state (parameters, optimiser or normaliser statistics)")
    last = ckpt.latest_step()
    raise NonFiniteError(
        f"the run diverged at iteration {it + i + 1}: {what} (loss/total={loss[i]:.4g}, "
        f"grad_norm={np.asarray(m['grad_norm'])[i]:.4g}); stopped before logging or saving it. Last good "
        f"checkpoint: {'none' if last is None else f'iteration {last}'} in {ckpt.directory} (resume it with "
        f"--resume; an on-policy run can lower --config.ppo.lr on resume, an off-policy run restarts with another "
        f"config)")


def iteration_of(state: Any) -> int:
    """The iteration a (possibly seed-stacked, ``mtjax.multi_seed``) train state has reached."""
    return int(np.asarray(state.iteration).reshape(-1)[0])


class SeedLoggers:
    """One ``RunLogger`` per seed of a seed-stacked run (``mtjax.multi_seed``), used like one ``RunLogger``.

    ``log_chunk`` splits metrics ``[S, n]`` by seed, logs each into its own ``seed_<seed>/`` and returns the mean
    of the seeds' last records (what the checkpoint stores beside the stacked state).
    """

    def __init__(self, loggers: list):
        self.loggers = loggers

    def log_chunk(self, first_iteration: int, stacked: dict[str, Any], seconds: float) -> dict[str, float]:
        recs = [lg.log_chunk(first_iteration, multi_seed.select(stacked, k), seconds)
                for k, lg in enumerate(self.loggers)]
        out = {}
        for key in sorted(set().union(*recs)):
            vals = np.array([r.get(key, np.nan) for r in recs], np.float64)
            out[key] = float(vals[np.isfinite(vals)].mean()) if np.isfinite(vals).any() else float("nan")
        return out

    def close(self) -> None:
        for lg in self.loggers:
            lg.close()


def _check_seeds(state: Any, m: dict, it: int, max_abs_loss: float, ckpt: checkpoint.Checkpointer,
                 num_seeds: int) -> None:
    if num_seeds == 1:
        _check_diverged(state, m, it, max_abs_loss, ckpt)
        return
    for k in range(num_seeds):
        try:
            _check_diverged(multi_seed.select(state, k), multi_seed.select(m, k), it, max_abs_loss, ckpt)
        except NonFiniteError as e:
            raise NonFiniteError(f"seed index {k}: {e}") from None


def drive(chunk: Callable[[Any, int], tuple[Any, dict]], state: Any, *, iteration: int, total: int,
          iters_per_call: int, checkpoint_every: int, logger: run_logger.RunLogger,
          ckpt: checkpoint.Checkpointer, config: dict,
          max_abs_loss: float = RunConfig.max_abs_loss, num_seeds: int = 1) -> tuple[Any, dict]:
    """Runs chunks from ``iteration`` to exactly ``total``; returns the final state and the last logged record.

    ``num_seeds > 1``: ``state`` and the chunk's metrics carry a leading seed axis (``mtjax.multi_seed``), the
    logger is a ``SeedLoggers`` and the divergence guard checks every seed.

    Raises:
      ValueError: ``iters_per_call`` or ``checkpoint_every`` below 1.
      NonFiniteError: the run diverged (see ``_check_diverged``).
    """
    if iters_per_call < 1 or checkpoint_every < 1:
        raise ValueError(f"iters_per_call and checkpoint_every must be >= 1, got {iters_per_call}, "
                         f"{checkpoint_every}")
    it, rec, compiled = int(iteration), {}, set()
    while it < total:
        n = min(iters_per_call, total - it)
        if n not in compiled:
            print(f"compiling the training program for {n}-iteration calls (first call of that size; minutes for "
                  f"Meta-World on 2 CPU cores, seconds for the toy env)...", file=sys.stderr, flush=True)
        t0 = time.time()
        state, m = chunk(state, n)
        jax.block_until_ready(state)
        m = jax.device_get(m)
        dt = time.time() - t0
        if n not in compiled:
            compiled.add(n)
            print(f"compiled and ran iterations {it + 1}-{it + n} in {dt:.1f} s", file=sys.stderr, flush=True)
        _check_seeds(state, m, it, max_abs_loss, ckpt, num_seeds)
        rec = logger.log_chunk(it, m, dt)
        it += n
        if it % checkpoint_every < n or it >= total:
            ckpt.save(it, state, config, {k: v for k, v in rec.items() if np.isfinite(v)})
    return state, rec


def run_logged(chunk: Callable[[Any, int], tuple[Any, dict]], state: Any, *, rc: RunConfig,
               task_names: tuple[str, ...], env_steps_per_iteration: int, ckpt: checkpoint.Checkpointer) -> dict:
    """``drive`` with the run's logger (JSONL/TensorBoard/progress per ``rc``), closing logger and checkpointer,
    then the per-task success plot if ``rc.plot``; returns the last logged record.

    A resumed run's logger starts at the restored iteration (TensorBoard purges later events, see ``RunLogger``);
    ``metrics.jsonl`` must already be cut back to it (``run_dir.truncate_metrics``).
    """
    start = iteration_of(state)
    dirs = log_dirs(rc)

    def one(d: str, progress: bool):
        return run_logger.RunLogger(d, task_names, rc.total_iterations, env_steps_per_iteration,
                                    tensorboard=rc.tensorboard, progress=progress, start_iteration=start)

    # several seeds: each logs into seed_<seed>/; the progress line is the first seed's
    logger = one(dirs[0], rc.progress) if rc.num_seeds == 1 else SeedLoggers(
        [one(d, rc.progress and k == 0) for k, d in enumerate(dirs)])
    try:
        _, rec = drive(chunk, state, iteration=start, total=rc.total_iterations, iters_per_call=rc.iters_per_call,
                       checkpoint_every=rc.checkpoint_every, logger=logger, ckpt=ckpt, config=rc.to_json(),
                       max_abs_loss=rc.max_abs_loss, num_seeds=rc.num_seeds)
    finally:
        logger.close()
        ckpt.close()
    if rc.plot:
        for d in dirs:
            run_logger.plot_task_success(d, task_names)
    return rec


def log_dirs(rc: RunConfig) -> list[str]:
    """Where a run logs: its directory, or ``seed_<seed>/`` inside it per seed of a ``num_seeds > 1`` run."""
    if rc.num_seeds == 1:
        return [rc.directory]
    return [multi_seed.seed_dir(rc.directory, rc.seed + k) for k in range(rc.num_seeds)]
