"""Orbax checkpoints of the full training state plus the run's config (and latest per-task metrics) as JSON.

Layout of a run directory: ``config.json``, ``metrics.jsonl``, ``events.*`` (TensorBoard) and
``checkpoints/<step>/{state,config,metrics}``. Saves are atomic (orbax writes to a temporary directory and
renames). Typed PRNG keys are stored as their raw key data and re-wrapped on restore onto a
``jax.eval_shape`` target (zero-size arrays, which orbax refuses, are stored as 1-element stand-ins and
re-created from the target), so a restored ``TrainState`` equals the saved one, keys included. Nothing is pickled.

Without a target (analysis, no environment), ``restore_raw`` returns the saved state as nested dicts of NumPy
arrays, with the config and metrics.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

__all__ = ["Checkpointer", "latest_step", "restore_raw"]


def _is_key(x: Any) -> bool:
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key) or (
        isinstance(x, jax.ShapeDtypeStruct) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key))


def _empty(x: Any) -> bool:
    return hasattr(x, "shape") and int(np.prod(x.shape)) == 0


def _encode(tree: Any) -> Any:
    """Typed keys -> key data; zero-size arrays (orbax refuses them, MJX data has some) -> a 1-element stand-in."""
    def enc(x):
        if _is_key(x):
            return jax.random.key_data(x)
        return np.zeros((1,), np.asarray(x).dtype) if _empty(x) else x
    return jax.tree.map(enc, tree)


def _encode_target(tree: Any) -> Any:
    def enc(x):
        if _is_key(x):
            return jax.eval_shape(jax.random.key_data, x)
        return jax.ShapeDtypeStruct((1,), x.dtype) if _empty(x) else x
    return jax.tree.map(enc, tree)


def _decode(raw: Any, target: Any) -> Any:
    def dec(r, t):
        if _empty(t):
            return jnp.zeros(t.shape, t.dtype)
        if _is_key(t):
            return jax.random.wrap_key_data(jnp.asarray(r), impl=jax.random.key_impl(t) if isinstance(
                t, jax.Array) else t.dtype._impl)
        return r
    return jax.tree.map(dec, raw, target)


class Checkpointer:
    """Periodic and final saves of (state, config, metrics) under ``<run_dir>/checkpoints``.

    Attributes:
      directory: the checkpoint folder.
      max_to_keep: how many recent checkpoints to keep.
    """

    def __init__(self, run_dir: str, max_to_keep: int = 3):
        self.directory = os.path.abspath(os.path.join(run_dir, "checkpoints"))
        self._mngr = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                                 enable_async_checkpointing=False),
            item_names=("state", "config", "metrics"),
        )

    def latest_step(self) -> int | None:
        return self._mngr.latest_step()

    def all_steps(self) -> list[int]:
        return list(self._mngr.all_steps())

    def save(self, step: int, state: Any, config: dict, metrics: dict | None = None) -> None:
        """Saves synchronously (returns after the checkpoint is committed)."""
        self._mngr.save(int(step), args=ocp.args.Composite(
            state=ocp.args.StandardSave(_encode(state)),
            config=ocp.args.JsonSave(config),
            metrics=ocp.args.JsonSave(metrics or {}),
        ), force=True)
        self._mngr.wait_until_finished()

    def restore(self, target: Any, step: int | None = None) -> tuple[Any, dict, dict]:
        """Restores onto ``target`` (e.g. ``jax.eval_shape(trainer.init, key)``).

        Returns:
          ``(state, config, metrics)``.
        Raises:
          FileNotFoundError: no checkpoint in the directory.
        """
        step = self._mngr.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f"no checkpoint under {self.directory}")
        out = self._mngr.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(_encode_target(target)),
            config=ocp.args.JsonRestore(), metrics=ocp.args.JsonRestore()))
        return _decode(out["state"], target), dict(out["config"] or {}), dict(out["metrics"] or {})

    def close(self) -> None:
        self._mngr.close()


def latest_step(run_dir: str) -> int | None:
    """Latest checkpoint step of a run directory, or None."""
    d = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(d):
        return None
    steps = [int(s) for s in os.listdir(d) if s.isdigit()]
    return max(steps) if steps else None


def restore_raw(run_dir: str, step: int | None = None) -> tuple[dict, dict, dict]:
    """Loads a checkpoint without a target or an environment: ``(state as nested dicts, config, metrics)``."""
    mngr = ocp.CheckpointManager(os.path.abspath(os.path.join(run_dir, "checkpoints")),
                                 item_names=("state", "config", "metrics"),
                                 options=ocp.CheckpointManagerOptions(read_only=True))
    try:
        step = mngr.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f"no checkpoint under {run_dir}/checkpoints")
        out = mngr.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(), config=ocp.args.JsonRestore(), metrics=ocp.args.JsonRestore()))
        state = jax.tree.map(np.asarray, out["state"])
        return state, dict(out["config"] or {}), dict(out["metrics"] or {})
    finally:
        mngr.close()


def export_learner(run_dir: str, out_dir: str, step: int | None = None) -> int:
    """Writes a learner-only copy of a checkpoint to ``out_dir`` (config.json + checkpoints/<step>).

    The full ``TrainState`` holds the environment state (at 24,576 MJX envs, hundreds of MB); evaluation and
    analysis need only the learner (params, optimiser and normaliser statistics). The copy is read by
    ``restore_raw`` / ``experiments.evaluate`` like any run directory. Returns the exported step.
    """
    state, config, metrics = restore_raw(run_dir, step)
    step = latest_step(run_dir) if step is None else step
    os.makedirs(out_dir, exist_ok=True)
    src = os.path.join(run_dir, "config.json")
    if os.path.exists(src):
        with open(src) as f, open(os.path.join(out_dir, "config.json"), "w") as g:
            g.write(f.read())
    ckpt = Checkpointer(out_dir, max_to_keep=1)
    try:
        ckpt.save(int(step), {"learner": state["learner"]}, config, metrics)
    finally:
        ckpt.close()
    return int(step)

