"""The CLI's ``env_backend="isaacgym"`` path: an IsaacGym env driven by ``mtjax.algos.host_loop``.

``run(c)`` is what ``python -m experiments.train --config.env_backend=isaacgym`` calls: same ``config.json``,
``metrics.jsonl``/TensorBoard (``mtjax.run_logger``) and orbax checkpoints (``mtjax.checkpoint``) as the jitted
path. A checkpoint holds the full ``TrainState`` but the simulator's internal state cannot be saved, so a resumed
run restores learner, key and iteration and starts fresh episodes. Needs torch and IsaacGym (or a stand-in module
given by ``c.isaacgym.make_module``).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from typing import Any

import jax

from experiments import common
from mtjax import checkpoint, run_loop
from mtjax import run_dir as rundir
from mtjax.algos import host_loop

__all__ = ["build_host_env", "env_config_from", "run"]


def env_config_from(c: Any):
    """``IsaacGymConfig`` from a run config: ``c.env`` (name = suite, num_envs, kwargs) and ``c.isaacgym``.

    ``c.env.kwargs`` and the optional ``c.isaacgym`` section may set any ``IsaacGymConfig`` field; ``c.isaacgym``
    may also hold ``make_module`` (a module with ``make``/``compose`` replacing isaacgymenvs), ``server_python``
    (run the simulator out of process under that interpreter, e.g. IsaacGym's Python 3.8) and ``transport``
    ("torch" or "raw", see ``ipc``). Returns ``(IsaacGymConfig, bridge options)``.
    """
    from envs_bridge.isaacgym.adapter import IsaacGymConfig
    from envs_bridge.metaworld import ARM_PHYSICS

    rc = common.typed(c)
    # The physics keys of the MT10 configs (hand, substeps, solver iterations) and how MJX compiles them (shared
    # graphs, level barriers) choose the embedded MJX env's model; MTBench's IsaacGym envs bring their own.
    mjx_only = (*ARM_PHYSICS, "physics_graphs", "level_barriers", "physics_impl", "warp_graph_mode")
    extra = {k: v for k, v in dict(rc.env.kwargs).items() if k not in mjx_only}
    ig = dict(rc.isaacgym)
    bridge = {k: ig.pop(k) for k in ("make_module", "server_python", "transport") if k in ig}
    extra.update(ig)
    valid = {f.name for f in dataclasses.fields(IsaacGymConfig)}
    bad = set(extra) - valid
    if bad:
        raise ValueError(f"unknown isaacgym option(s) {sorted(bad)}; valid: {sorted(valid)}")
    extra = {k: tuple(v) if isinstance(v, list) else v for k, v in extra.items()}
    return IsaacGymConfig(suite=rc.env.name, num_envs=rc.env.num_envs, seed=rc.seed, **extra), bridge


def build_host_env(c: Any):
    """The in-process adapter, or the out-of-process bridge when ``c.isaacgym.server_python`` is set."""
    from envs_bridge.isaacgym.adapter import make_isaacgym_env

    ig_cfg, bridge = env_config_from(c)
    make_module = bridge.get("make_module") or ""
    if bridge.get("server_python"):
        from envs_bridge.isaacgym.ipc import IPCVecEnv

        # Only project paths (never this interpreter's stdlib/site-packages) go to the other Python.
        prefixes = tuple(os.path.realpath(x) for x in {sys.prefix, sys.base_prefix, sys.exec_prefix})
        paths = [x for x in sys.path if x and "-packages" not in x and not os.path.realpath(x).startswith(prefixes)]
        return IPCVecEnv(ig_cfg, python=bridge["server_python"], make_module=make_module,
                         pythonpath=os.pathsep.join(paths), transport=bridge.get("transport") or "torch")
    mod = importlib.import_module(make_module) if make_module else None
    return make_isaacgym_env(ig_cfg, make_fn=getattr(mod, "make", None), compose_fn=getattr(mod, "compose", None))


def run(c: Any, resume: bool = False, env: Any = None, overwrite: bool = False) -> dict:
    """The CLI's ``env_backend="isaacgym"`` path; returns the last logged record (see module docstring).

    Args:
      c: the run config (ConfigDict or ``RunConfig``, as for the jitted path).
      resume: continue from the newest readable checkpoint of the run directory (fresh episodes).
      env: an already built host env (tests); default ``make_isaacgym_env`` from ``env_config_from(c)``.
      overwrite: delete a previous run in the run directory first.
    """
    rc = common.typed(c)
    if rc.num_devices > 1:
        raise ValueError(f"config.num_devices={rc.num_devices}: the IsaacGym host loop runs on one device (the "
                         "simulator's); use 0 or 1, or env_backend='jax' to split the envs over devices")
    common.enable_compile_cache()
    with rundir.run_lock(rc.directory):
        changes = common.open_run(rc, resume, overwrite)
        own = env is None
        env = build_host_env(rc) if own else env
        try:
            return _run(rc, env, changes)
        finally:
            if own and hasattr(env, "close"):
                env.close()


def _run(rc: Any, env: Any, changes: dict | None) -> dict:
    init_fn, apply_fn = common.build_networks(rc, env)
    trainer = host_loop.make_host_train(rc.ppo, env, init_fn, apply_fn)
    ckpt = checkpoint.Checkpointer(rc.directory)
    state = trainer.init(jax.random.key(rc.seed))
    if changes is not None:
        restored, _, _ = ckpt.restore(state)
        if int(restored.iteration) >= rc.total_iterations:
            return common.finished(rc, ckpt, int(restored.iteration))
        state = common.apply_resume_changes(
            state.replace(learner=restored.learner, key=restored.key, iteration=restored.iteration), changes)
        print(f"resumed {rc.directory} at iteration {int(state.iteration)} (fresh simulator episodes)", flush=True)
    common.commit_run(rc, ckpt, int(state.iteration))
    return run_loop.run_logged(trainer.train_chunk, state, rc=rc, task_names=env.task_set.task_names,
                               env_steps_per_iteration=env.task_set.num_envs * rc.ppo.horizon, ckpt=ckpt)
