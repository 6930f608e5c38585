"""Turns a run's config into the library's objects (env, networks, trainer) and manages its run directory.

The ConfigDict of ``experiments/configs/*.py`` (or a run's ``config.json``) is parsed once into the frozen
``mtjax.config.RunConfig`` (``typed``); everything here takes either and reads the typed object. Shared by
``train``, ``evaluate`` and ``analyze_checkpoint`` so that every entry point builds the same thing from the same
config. The run directory's life cycle (``open_run`` checks, ``commit_run`` writes) is described in
``docs/runs.md``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from envs_bridge import registry
from mtjax import checkpoint, config, nets, normalize, popart
from mtjax import run_dir as rundir
from mtjax.algos import on_policy, ppo
from mtjax.nets import presets

__all__ = ["apply_resume_changes", "build_env", "build_networks", "commit_run", "enable_compile_cache",
           "finished", "learner_from_raw", "open_run", "ppo_config",
           "quiet_logs", "restore_policy", "to_dict", "typed"]


def to_dict(c: Any) -> Any:
    """ConfigDict (or nested dicts) -> plain Python containers."""
    if isinstance(c, (ml_collections.ConfigDict, ml_collections.FrozenConfigDict)):
        c = c.to_dict()
    if isinstance(c, dict):
        return {k: to_dict(v) for k, v in c.items()}
    if isinstance(c, list):
        return [to_dict(v) for v in c]
    return c


def typed(c: Any) -> config.RunConfig:
    """The validated ``RunConfig`` of a ConfigDict, dict or ``config.json`` (a ``RunConfig`` passes through)."""
    return config.parse(c if isinstance(c, config.RunConfig) else to_dict(c))


def ppo_config(c: Any) -> ppo.PPOConfig:
    """The frozen ``PPOConfig`` of a run config (``c.ppo`` plus the top-level ``mtrl*`` fields)."""
    return typed(c).ppo


def build_env(c: Any, num_envs: int | None = None):
    """``make_env`` from the config's ``env`` section (optionally with another env count)."""
    e = typed(c).env
    try:
        return registry.make_env(e.name, num_envs or e.num_envs, **dict(e.kwargs))
    except TypeError as err:  # an option the env factory does not take
        raise ValueError(f"bad config.env.kwargs {sorted(dict(e.kwargs))} for env {e.name!r}: {err}") from None


def build_networks(c: Any, env) -> tuple[Any, Any]:
    """``(init_fn, apply_fn)`` of the actor-critic described by ``c.net``."""
    rc = typed(c)
    n = rc.net

    def sized(net: str, role: str, explicit: tuple) -> dict:
        base = presets.preset(net, n.preset, role) if n.preset and net in presets.preset_nets() else {}
        return {**base, **dict(explicit)}

    popart = rc.ppo.normalize_value and rc.ppo.value_norm == "popart"  # the critic's per-task PopArt head
    return nets.make_actor_critic(
        actor_net=n.actor_net, critic_net=n.critic_net, action_size=env.action_size, num_tasks=env.num_tasks,
        actor_kwargs=sized(n.actor_net, "actor", n.actor_kwargs),
        critic_kwargs=sized(n.critic_net, "critic", n.critic_kwargs), log_std_init=rc.ppo.log_std_init,
        popart=popart)


def open_run(rc: config.RunConfig, resume: bool, overwrite: bool) -> dict | None:
    """Checks the run directory before anything is built or written; call under ``run_dir.run_lock``.

    A new run into a directory that holds one is refused unless ``overwrite`` (which deletes the old run). With
    ``resume``, the config is compared with the newest checkpoint's (``run_dir.resume_diff``); a run killed before
    its first checkpoint starts over (its logs are deleted).

    Returns:
      the allowed resume changes ``{key: (old, new)}`` (empty if none), or None when there is nothing to resume.
    Raises:
      run_dir.RunDirError: the directory holds another run, or the resume changes the computation.
      checkpoint.CheckpointError: ``resume`` and checkpoints exist but none has a readable config.
    """
    if not resume:
        rundir.check_fresh(rc.directory, overwrite)
        return None
    ckpt = checkpoint.Checkpointer(rc.directory)
    try:
        found = ckpt.read_config()
    finally:
        ckpt.close()
    if found is None and checkpoint.latest_step(rc.directory) is not None:
        raise checkpoint.CheckpointError(f"no checkpoint in {rc.directory}/checkpoints has a readable config; "
                                         f"nothing was changed (--overwrite starts over)")
    if found is None:  # killed before its first checkpoint: its logged iterations will run again
        print(f"--resume: no checkpoint in {rc.directory}; starting fresh", file=sys.stderr, flush=True)
        rundir.check_fresh(rc.directory, overwrite=True)
        return None
    return rundir.resume_diff(typed(found[1]).to_json(), rc.to_json())


def apply_resume_changes(state: Any, changes: dict) -> Any:
    """Writes a changed ``ppo.lr`` into the restored learner state, so that what ``config.json`` says is what runs."""
    if "ppo.lr" not in changes:
        return state
    old, new = changes["ppo.lr"]
    print(f"resume: ppo.lr {old} -> {new} from here on", file=sys.stderr, flush=True)
    return state.replace(learner=state.learner.replace(lr=jnp.asarray(new, jnp.float32)))


def commit_run(rc: config.RunConfig, ckpt: checkpoint.Checkpointer, step: int) -> None:
    """The run's first writes, once everything was checked: damaged checkpoints newer than ``step`` are moved to
    ``damaged_checkpoints/``, ``metrics.jsonl`` is cut back to ``step`` and ``config.json`` is (re)written."""
    moved = rundir.quarantine_steps(rc.directory, step)
    if moved:
        ckpt.reload()
        print(f"resume: moved damaged checkpoint step(s) {moved} to {rc.directory}/damaged_checkpoints",
              file=sys.stderr, flush=True)
    dropped = rundir.truncate_metrics(rc.directory, step)
    if dropped:
        print(f"resume: dropped {dropped} metrics.jsonl row(s) logged after iteration {step}", file=sys.stderr,
              flush=True)
    with open(os.path.join(rc.directory, "config.json"), "w") as f:
        json.dump(rc.to_json(), f, indent=1)


def finished(rc: config.RunConfig, ckpt: checkpoint.Checkpointer, step: int) -> dict:
    """Message and record of a run that is already complete (``--resume`` with nothing left to do)."""
    print(f"{rc.directory} is already complete at iteration {step} (total_iterations={rc.total_iterations}); "
          f"nothing to do. Raise --config.total_iterations to train further.", flush=True)
    ckpt.close()
    return {"iteration": step}


def quiet_logs() -> None:
    """Keeps absl INFO chatter (orbax logs every save and restore) off the terminal unless --verbosity is set, and
    the asyncio noise that orbax's aborted reads of a damaged checkpoint leave at exit ("Future exception was never
    retrieved", "Event loop is closed"): the one warning line per damaged step says it all."""
    import logging as std_logging

    from absl import flags, logging

    if "verbosity" not in flags.FLAGS or not flags.FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)
    std_logging.getLogger("asyncio").setLevel(std_logging.CRITICAL)
    default_hook = sys.unraisablehook

    def hook(unraisable):
        if not (isinstance(unraisable.exc_value, RuntimeError) and "Event loop is closed" in str(unraisable.exc_value)):
            default_hook(unraisable)

    sys.unraisablehook = hook


def enable_compile_cache(path: str | None = None) -> str:
    """Turns on JAX's persistent compilation cache (``$JAX_COMPILATION_CACHE_DIR`` or ~/.cache/mtjax/jax)."""
    path = path or os.environ.get("JAX_COMPILATION_CACHE_DIR") or os.path.expanduser("~/.cache/mtjax/jax")
    os.makedirs(path, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    return path


def learner_from_raw(raw: dict) -> ppo.LearnerState:
    """The MT-PPO learner of a checkpoint loaded by ``checkpoint.restore_raw`` (no optimiser state: for acting)."""
    ls = raw["learner"]

    def stats(d):
        return normalize.RunningStats(mean=jnp.asarray(d["mean"]), var=jnp.asarray(d["var"]),
                                      count=jnp.asarray(d["count"]))

    pop = ls.get("popart")  # value_norm="popart" runs; a dict (or list) of mean, second, count
    if pop:
        fields = [pop[k] for k in popart.PopArtState._fields] if isinstance(pop, dict) else list(pop)
        pop = popart.PopArtState(*(jnp.asarray(x) for x in fields))
    return ppo.LearnerState(params=jax.tree.map(jnp.asarray, ls["params"]), opt_state=None,
                            obs_stats=stats(ls["obs_stats"]), value_stats=stats(ls["value_stats"]),
                            lr=jnp.asarray(ls["lr"]), popart=pop or None)


def restore_policy(run_dir: str, envs_per_task: int, step: int | None = None):
    """A run's checkpointed policy, ready to act: ``(RunConfig, env, learner, learner state)``.

    The config is the checkpoint's own; the env is the run's, rebuilt with ``envs_per_task`` envs for every task
    the checkpoint was trained on. A damaged newest checkpoint is skipped with a warning line.

    Raises:
      ValueError: ``envs_per_task`` < 1. FileNotFoundError / checkpoint.CheckpointError: no (readable) checkpoint.
    """
    if envs_per_task < 1:
        raise ValueError(f"episodes per task must be >= 1, got {envs_per_task}")
    _, raw, cfg, _ = checkpoint.read_raw(run_dir, step)
    rc = typed(cfg)
    num_tasks = int(np.shape(raw["learner"]["obs_stats"]["count"])[0])  # per-task normaliser rows
    env = build_env(rc, num_envs=envs_per_task * num_tasks)
    if env.task_set.envs_per_task != (envs_per_task,) * env.num_tasks:
        raise ValueError(f"could not give every task {envs_per_task} envs: {env.task_set.envs_per_task}")
    init_fn, apply_fn = build_networks(rc, env)
    learner = on_policy.make_learner(rc.algo, rc.ppo, init_fn, apply_fn, env.task_set, env.obs_size,
                                     env.action_size)
    return rc, env, learner, learner_from_raw(raw)
