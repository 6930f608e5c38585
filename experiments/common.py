"""Turns a run's ConfigDict into the library's frozen dataclasses and objects (env, networks, trainer).

Shared by ``train``, ``evaluate`` and ``analyze_checkpoint`` so that every entry point builds the same thing
from the same ``config.json``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from envs_bridge import registry
from mtjax import checkpoint, nets, normalize
from mtjax.algos import ppo
from mtjax.nets import presets

__all__ = ["to_dict", "ppo_config", "build_env", "build_networks", "run_dir_of", "enable_compile_cache",
           "load_config_json", "jsonable", "quiet_logs", "prepare_run_dir", "learner_from_raw",
           "restore_policy"]


def to_dict(c: Any) -> Any:
    """ConfigDict (or nested dicts) -> plain Python containers."""
    if isinstance(c, (ml_collections.ConfigDict, ml_collections.FrozenConfigDict)):
        c = c.to_dict()
    if isinstance(c, dict):
        return {k: to_dict(v) for k, v in c.items()}
    if isinstance(c, list):
        return [to_dict(v) for v in c]
    return c


def jsonable(c: Any) -> Any:
    """Like ``to_dict`` but tuples become lists (for JSON)."""
    c = to_dict(c)
    if isinstance(c, dict):
        return {k: jsonable(v) for k, v in c.items()}
    if isinstance(c, (list, tuple)):
        return [jsonable(v) for v in c]
    return c


def ppo_config(c: Any) -> ppo.PPOConfig:
    """The frozen ``PPOConfig`` of a run config (``c.ppo`` plus the top-level ``mtrl*`` fields)."""
    d = dict(to_dict(c["ppo"]))
    valid = {f.name for f in dataclasses.fields(ppo.PPOConfig)}
    bad = set(d) - valid
    if bad:
        raise ValueError(f"unknown ppo option(s) {sorted(bad)}; valid: {sorted(valid)}")
    kw = tuple(sorted(to_dict(c["mtrl_kwargs"]).items()))
    kw = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in kw)
    return ppo.PPOConfig(**d, mtrl=c["mtrl"], mtrl_target=c["mtrl_target"], mtrl_kwargs=kw)


def build_env(c: Any, num_envs: int | None = None):
    """``make_env`` from the config's ``env`` section (optionally with another env count)."""
    e = c["env"]
    return registry.make_env(e["name"], num_envs or e["num_envs"], **to_dict(e["kwargs"]))


def _kwargs(d: Any) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in to_dict(d).items()}


def build_networks(c: Any, env) -> tuple[Any, Any]:
    """``(init_fn, apply_fn)`` of the actor-critic described by ``c.net``."""
    n = c["net"]
    suite = n.get("preset", "")

    def sized(net: str, role: str, explicit: Any) -> dict:
        base = presets.preset(net, suite, role) if suite and net in presets.preset_nets() else {}
        return {**base, **_kwargs(explicit)}

    return nets.make_actor_critic(
        actor_net=n["actor_net"], critic_net=n["critic_net"], action_size=env.action_size,
        num_tasks=env.num_tasks, actor_kwargs=sized(n["actor_net"], "actor", n["actor_kwargs"]),
        critic_kwargs=sized(n["critic_net"], "critic", n["critic_kwargs"]),
        log_std_init=float(c["ppo"]["log_std_init"]))


def run_dir_of(c: Any) -> str:
    return c["run_dir"] or os.path.join("runs", f"{c['name']}-s{c['seed']}")


def prepare_run_dir(c: Any) -> tuple[str, dict]:
    """Creates the run directory and writes ``config.json``; returns ``(run_dir, config as JSON-able dict)``."""
    run_dir = run_dir_of(c)
    os.makedirs(run_dir, exist_ok=True)
    cfg_json = jsonable(c)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump(cfg_json, f, indent=1)
    return run_dir, cfg_json


def load_config_json(run_dir: str) -> dict:
    with open(os.path.join(run_dir, "config.json")) as f:
        return json.load(f)


def quiet_logs() -> None:
    """Keeps absl INFO chatter (orbax logs every save and restore) off the terminal unless --verbosity is set."""
    from absl import flags, logging

    if "verbosity" not in flags.FLAGS or not flags.FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)


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

    return ppo.LearnerState(params=jax.tree.map(jnp.asarray, ls["params"]), opt_state=None,
                            obs_stats=stats(ls["obs_stats"]), value_stats=stats(ls["value_stats"]),
                            lr=jnp.asarray(ls["lr"]), step=jnp.asarray(ls["step"]))


def restore_policy(run_dir: str, envs_per_task: int, step: int | None = None):
    """A run's checkpointed policy, ready to act: ``(config, env, learner, learner state)``.

    The env is the run's, rebuilt with ``envs_per_task`` envs for every task the checkpoint was trained on.
    """
    c = load_config_json(run_dir)
    raw, _, _ = checkpoint.restore_raw(run_dir, step)
    num_tasks = int(np.shape(raw["learner"]["obs_stats"]["count"])[0])  # per-task normaliser rows
    env = build_env(c, num_envs=envs_per_task * num_tasks)
    if env.task_set.envs_per_task != (envs_per_task,) * env.num_tasks:
        raise ValueError(f"could not give every task {envs_per_task} envs: {env.task_set.envs_per_task}")
    init_fn, apply_fn = build_networks(c, env)
    learner = ppo.make_learner(ppo_config(c), init_fn, apply_fn, env.task_set, env.obs_size, env.action_size)
    return c, env, learner, learner_from_raw(raw)
