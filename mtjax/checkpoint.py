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

import logging
import os
import shutil
import sys
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from mtjax import run_dir as run_dir_lib

__all__ = ["CheckpointError", "Checkpointer", "export_learner", "latest_step", "read_raw", "restore_raw"]


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
    """Restore target: key data for typed keys, (1,) stand-ins for empty leaves, and a sharding on every leaf.

    A leaf without a sharding (e.g. from ``jax.eval_shape``) is restored onto the first local device, so a
    checkpoint saved on N devices restores on this process's device(s) (pass a target with ``mtjax.sharding``
    shardings to restore straight onto a mesh)."""
    default = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])

    def enc(x):
        sharding = getattr(x, "sharding", None) or default
        if _is_key(x):
            shape = jax.eval_shape(jax.random.key_data, x)
            return jax.ShapeDtypeStruct(shape.shape, shape.dtype, sharding=default)
        if _empty(x):
            return jax.ShapeDtypeStruct((1,), x.dtype, sharding=default)
        return jax.ShapeDtypeStruct(np.shape(x), x.dtype, sharding=sharding)
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

        Without ``step``, the newest readable checkpoint: a damaged one is skipped with one warning line naming it.

        Returns:
          ``(state, config, metrics)``.
        Raises:
          FileNotFoundError: no checkpoint in the directory.
          CheckpointError: no readable checkpoint (or ``step`` given and unreadable); one line.
        """
        def load(s):
            out = self._mngr.restore(s, args=ocp.args.Composite(
                state=ocp.args.StandardRestore(_encode_target(target)),
                config=ocp.args.JsonRestore(), metrics=ocp.args.JsonRestore()))
            return _decode(out["state"], target), _config_of(out), dict(out["metrics"] or {})

        return _first_readable(self.all_steps() if step is None else [step], load, self.directory)[1]

    def read_config(self) -> tuple[int, dict] | None:
        """``(step, config)`` of the newest checkpoint whose config item reads; None if there is none.

        Only the JSON config is read (silently: ``restore`` reports damage), so a resume can compare configs
        before restoring any array.
        """
        def load(s):
            return _config_of(self._mngr.restore(s, args=ocp.args.Composite(config=ocp.args.JsonRestore())))

        try:
            return _first_readable(self.all_steps(), load, self.directory, warn=False)
        except (FileNotFoundError, CheckpointError):
            return None

    def reload(self) -> None:
        """Re-reads the step list (after steps were moved out of the directory)."""
        self._mngr.reload()

    def close(self) -> None:
        self._mngr.close()


class CheckpointError(RuntimeError):
    """No readable checkpoint; the message names the directory and the damaged steps."""


def _config_of(out: Any) -> dict:
    if out["config"] is None:
        raise ValueError("its config item is missing")
    return dict(out["config"])


def _first_readable(steps: list[int], load: Callable[[int], Any], directory: str,
                    warn: bool = True) -> tuple[int, Any]:
    """``(step, load(step))`` for the newest step that loads; damaged ones are skipped with one stderr line each.

    Raises:
      FileNotFoundError: no steps. CheckpointError: none loads.
    """
    if not steps:
        raise FileNotFoundError(f"no checkpoint under {directory}")
    bad = []
    for s in sorted(steps, reverse=True):
        try:
            return s, load(s)
        except Exception as e:  # noqa: BLE001 - orbax/TensorStore raise many types for damaged files
            bad.append(s)
            if warn:
                msg = (str(e).strip().splitlines() or [""])[0][:160]
                print(f"warning: checkpoint step {s} in {directory} is unreadable ({type(e).__name__}: {msg})"
                      + ("; trying the previous one" if s != min(steps) else ""), file=sys.stderr, flush=True)
    raise CheckpointError(f"no readable checkpoint in {directory} (damaged steps: {bad})")


def latest_step(run_dir: str) -> int | None:
    """Latest checkpoint step of a run directory, or None."""
    d = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(d):
        return None
    steps = [int(s) for s in os.listdir(d) if s.isdigit()]
    return max(steps) if steps else None


def _no_item_metadata_warning(record: logging.LogRecord) -> bool:
    """Drops orbax's "Metadata file does not exist: .../state/_CHECKPOINT_METADATA": reading one item's array
    metadata (below) looks for a checkpoint-level file that lives one directory up; nothing is missing."""
    return "_CHECKPOINT_METADATA" not in record.getMessage()


def _raw_target(directory: str, step: int) -> Any:
    """A restore target from the saved array metadata, every leaf on this process's first device.

    Without it orbax restores onto the saving topology and refuses a checkpoint written on N devices in a process
    that has M (``mtjax.sharding``)."""
    absl_log = logging.getLogger("absl")
    absl_log.addFilter(_no_item_metadata_warning)
    try:
        with ocp.StandardCheckpointer() as ck:
            md = ck.metadata(os.path.join(directory, str(step), "state"))
    finally:
        absl_log.removeFilter(_no_item_metadata_warning)
    tree = getattr(getattr(md, "item_metadata", md), "tree", None)
    if tree is None:
        return None
    dev = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    return jax.tree.map(lambda m: jax.ShapeDtypeStruct(tuple(m.shape), m.dtype, sharding=dev), tree)


def state_keys(run_dir: str, step: int) -> set[str]:
    """Top-level keys of checkpoint ``step``'s state (array metadata only): ``{"learner"}`` for a learner-only
    export (``export_learner``), the train state's fields for a full checkpoint."""
    target = _raw_target(os.path.abspath(os.path.join(run_dir, "checkpoints")), step)
    return set(target) if isinstance(target, dict) else set()


def restore_raw(run_dir: str, step: int | None = None) -> tuple[dict, dict, dict]:
    """Loads a checkpoint without a target or an environment: ``(state as nested dicts, config, metrics)``."""
    return read_raw(run_dir, step)[1:]


def read_raw(run_dir: str, step: int | None = None) -> tuple[int, dict, dict, dict]:
    """``(step, state as nested dicts of NumPy arrays, config, metrics)`` of a checkpoint, no target needed.

    Without ``step``, the newest readable checkpoint (damaged ones are skipped with a warning line each).
    Raises ``FileNotFoundError`` (no checkpoint) or ``CheckpointError`` (none readable), one line each.
    """
    directory = os.path.abspath(os.path.join(run_dir, "checkpoints"))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"no checkpoint under {directory}")
    mngr = ocp.CheckpointManager(directory, item_names=("state", "config", "metrics"),
                                 options=ocp.CheckpointManagerOptions(create=False))  # nothing is saved

    def load(s):
        out = mngr.restore(s, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(_raw_target(directory, s)), config=ocp.args.JsonRestore(),
            metrics=ocp.args.JsonRestore()))
        return jax.tree.map(np.asarray, out["state"]), _config_of(out), dict(out["metrics"] or {})

    try:
        s, (state, config, metrics) = _first_readable(list(mngr.all_steps()) if step is None else [step], load,
                                                      directory)
        return s, state, config, metrics
    finally:
        mngr.close()


def export_learner(run_dir: str, out_dir: str, step: int | None = None) -> int:
    """Writes a learner-only copy of a checkpoint to ``out_dir`` (config.json, provenance.json, metrics.jsonl up to
    the step, checkpoints/<step>).

    The full ``TrainState`` holds the environment state (at 24,576 MJX envs, hundreds of MB); evaluation and
    analysis need only the learner (params, optimiser and normaliser statistics). The copy is read by
    ``restore_raw`` / ``experiments.evaluate`` like any run directory. Returns the exported step.
    """
    step, state, config, metrics = read_raw(run_dir, step)
    os.makedirs(out_dir, exist_ok=True)
    for name in ("config.json", "provenance.json"):  # provenance: which machines and physics ran which iterations
        src = os.path.join(run_dir, name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(out_dir, name))
    ckpt = Checkpointer(out_dir, max_to_keep=1)
    try:
        ckpt.save(int(step), {"learner": state["learner"]}, config, metrics)
    finally:
        ckpt.close()
    _copy_metrics(run_dir, out_dir, int(step))
    return int(step)


def _copy_metrics(run_dir: str, out_dir: str, step: int) -> None:
    """The run's ``metrics.jsonl`` (and each ``seed_<s>/metrics.jsonl``) up to ``step`` into ``out_dir``, so that
    ``--resume`` from the export appends to the same log: one file, no duplicate or missing iteration."""
    subdirs = [""] + sorted(d for d in os.listdir(run_dir) if d.startswith("seed_"))
    for sub in subdirs:
        src = os.path.join(run_dir, sub, "metrics.jsonl")
        if not os.path.isfile(src):
            continue
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
        shutil.copyfile(src, os.path.join(out_dir, sub, "metrics.jsonl"))
        run_dir_lib.truncate_metrics(os.path.join(out_dir, sub), step)

