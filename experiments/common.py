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
from mtjax import checkpoint, config, nets, normalize, popart, run_loop
from mtjax import run_dir as rundir
from mtjax.algos import fasttd3, off_policy, on_policy, ppo, sac
from mtjax.nets import presets

__all__ = ["apply_resume_changes", "build_env", "build_networks", "build_off_policy_learner", "build_trainer",
           "commit_run", "deterministic_policy", "enable_compile_cache", "env_steps_per_iteration", "finished",
           "init_params_from", "learner_from_raw", "open_run", "ppo_config", "quiet_logs", "restore_policy",
           "to_dict", "typed"]

_LR_ON_RESUME = ("ppo", "grpo")  # algos whose learner state carries the learning rate (``ppo.lr`` on --resume)


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


def build_env(c: Any, num_envs: int | None = None, env_overrides: dict | None = None, env_name: str | None = None):
    """``make_env`` from the config's ``env`` section (optionally with another env count, ``env_overrides``
    replacing some of its kwargs, e.g. ``{"physics_impl": "jax"}`` to act in another physics implementation, and
    another registry name, e.g. ``parkour_hard`` for a ``parkour_hard_cl`` run)."""
    e = typed(c).env
    try:
        return registry.make_env(env_name or e.name, num_envs or e.num_envs,
                                 **{**dict(e.kwargs), **(env_overrides or {})})
    except TypeError as err:  # an option the env factory does not take
        raise ValueError(f"bad config.env.kwargs {sorted(dict(e.kwargs))} for env {e.name!r}: {err}") from None


def _sized(rc: config.RunConfig, net: str, role: str, explicit: tuple) -> dict:
    """A network's options: the preset's sizes (``net.preset``) overridden by ``net.<role>_kwargs``."""
    base = presets.preset(net, rc.net.preset, role) if rc.net.preset and net in presets.preset_nets() else {}
    return {**base, **dict(explicit)}


def build_networks(c: Any, env) -> tuple[Any, Any]:
    """``(init_fn, apply_fn)`` of an on-policy learner's network: the actor-critic of ``c.net`` (MT-PPO, MT-GRPO),
    or MT-PQN's decoupled Q-network (``net.critic_net`` / ``critic_kwargs``; MTBench's when both are defaults)."""
    rc = typed(c)
    n = rc.net
    if rc.algo == "pqn":
        kwargs = _sized(rc, n.critic_net, "critic", n.critic_kwargs)
        return nets.make_q_network(action_size=env.action_size, num_bins=rc.pqn.num_bins, num_tasks=env.num_tasks,
                                   net=n.critic_net, net_kwargs=kwargs or None)
    popart_head = rc.ppo.normalize_value and rc.ppo.value_norm == "popart"  # the critic's per-task PopArt head
    return nets.make_actor_critic(
        actor_net=n.actor_net, critic_net=n.critic_net, action_size=env.action_size, num_tasks=env.num_tasks,
        actor_kwargs=_sized(rc, n.actor_net, "actor", n.actor_kwargs),
        critic_kwargs=_sized(rc, n.critic_net, "critic", n.critic_kwargs), log_std_init=rc.ppo.log_std_init,
        popart=popart_head)


def build_off_policy_learner(c: Any, env) -> off_policy.Learner:
    """MT-SAC or FastTD3 (``c.algo``) with the networks of ``c.net``; empty options and no preset give the
    learner's MTBench networks (``sac.MTBENCH_NET``, ``fasttd3.ACTOR_NET`` / ``CRITIC_NET``)."""
    rc = typed(c)
    n = rc.net
    kw = {role: (_sized(rc, net, role, given) or None)
          for role, net, given in (("actor", n.actor_net, n.actor_kwargs), ("critic", n.critic_net, n.critic_kwargs))}
    shape = {"action_size": env.action_size, "num_tasks": env.num_tasks, "actor_net": n.actor_net,
             "critic_net": n.critic_net, "actor_kwargs": kw["actor"], "critic_kwargs": kw["critic"]}
    if rc.algo == "sac":
        return sac.make_learner(rc.sac, sac.make_networks(**shape), env.task_set, env.obs_size, env.action_size)
    if rc.algo == "fasttd3":
        return fasttd3.make_learner(rc.td3, fasttd3.make_networks(rc.td3, **shape), env.task_set, env.obs_size,
                                    env.action_size)
    raise ValueError(f"config.algo={rc.algo!r} is not off-policy; off-policy: {', '.join(config.OFF_POLICY)}")


def build_trainer(c: Any, env):
    """The run's trainer (``init(key)``, ``train_chunk(state, n)``): ``on_policy.make_train`` for MT-PPO, MT-GRPO and
    MT-PQN, ``off_policy.make_train`` for MT-SAC and FastTD3 (one contract, so the CLI drives both alike)."""
    rc = typed(c)
    if rc.algo in config.OFF_POLICY:
        return off_policy.make_train(rc.learner_config, env, build_off_policy_learner(rc, env),
                                     total_iterations=rc.total_iterations)
    init_fn, apply_fn = build_networks(rc, env)
    return on_policy.make_train(rc.learner_config, env, init_fn, apply_fn, total_iterations=rc.total_iterations,
                                algo=rc.algo)


def env_steps_per_iteration(c: Any, env) -> int:
    """Env steps of one iteration: all envs times the learner's ``horizon``."""
    return int(env.task_set.num_envs) * int(typed(c).learner_config.horizon)


def deterministic_policy(c: Any, learner: Any, ls: Any):
    """``(obs [N, O], task_id [N]) -> action [N, A]`` without exploration: the Gaussian mean (MT-PPO, MT-GRPO), the
    greedy bins (MT-PQN), ``tanh`` of the actor's mean (MT-SAC, FastTD3). On-policy actions are clipped to [-1, 1]
    as the trainer's rollout clips them (``on_policy.env_action``, ``ppo.clip_actions``): Go1 parkour's env would
    take +-5 rad, and its policies, trained behind the clip, drive their means to ~4 (they fall without the clip)."""
    rc = typed(c)
    if rc.algo in config.OFF_POLICY:
        return lambda obs, tid: learner.act(ls, obs, tid, jax.random.key(0), deterministic=True)
    clip = getattr(rc.learner_config, "clip_actions", True)
    return lambda obs, tid: on_policy.env_action(learner.mean_action(ls, obs, tid), clip)


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
    # ppo.lr is applied to the restored state of learners that carry it; the others' rates live in their optimisers.
    keys = rundir.RESUMABLE_KEYS if rc.algo in _LR_ON_RESUME else tuple(
        k for k in rundir.RESUMABLE_KEYS if k != "ppo.lr")
    # Only the section the run's algo reads is compared: another learner's defaults may change between versions
    # (session 24 changed FastTD3's) without touching this run's computation.
    unread = {config.ALGO_SECTION[a] for a in config.ALGOS} - {config.ALGO_SECTION[rc.algo]}
    old, new = ({k: v for k, v in c.items() if k not in unread} for c in (typed(found[1]).to_json(), rc.to_json()))
    return rundir.resume_diff(old, new, keys)


def resume_learner_only(rc: config.RunConfig, ckpt: checkpoint.Checkpointer, init) -> Any | None:
    """The train state to continue from when the newest checkpoint is a learner-only export, else None.

    A full 24k-env checkpoint holds the env states (64 MiB for MT10 on the arm), more than a device call can carry
    between machines; ``checkpoint.export_learner`` keeps the learner (1.2 MB). Continuing from it restores
    parameters, optimiser, normalisers, learning rate and the iteration, and starts the envs from fresh episodes
    (the trainer key folded with the iteration): the same learner, not the same run bit for bit (``docs/runs.md``).
    """
    step = checkpoint.latest_step(rc.directory)
    if step is None or checkpoint.state_keys(rc.directory, step) != {"learner"}:
        return None
    if rc.algo not in config.ON_POLICY or rc.num_seeds > 1:
        raise ValueError(f"{rc.directory} holds a learner-only checkpoint (step {step}); continuing from one needs an "
                         f"on-policy algo ({', '.join(config.ON_POLICY)}) and num_seeds=1, got algo={rc.algo}, "
                         f"num_seeds={rc.num_seeds}")
    fresh = jax.jit(init)()
    restored, _, _ = ckpt.restore({"learner": fresh.learner}, step)
    print(f"warning: {rc.directory} step {step} is a learner-only checkpoint: the learner continues, the envs start "
          f"fresh episodes (not bit-identical to an uninterrupted run)", file=sys.stderr, flush=True)
    return fresh.replace(learner=restored["learner"], key=jax.random.fold_in(fresh.key, step),
                         iteration=jnp.asarray(step, jnp.int32))


def apply_resume_changes(state: Any, changes: dict) -> Any:
    """Writes a changed ``ppo.lr`` into the restored learner state, so that what ``config.json`` says is what runs."""
    if "ppo.lr" not in changes:
        return state
    old, new = changes["ppo.lr"]
    print(f"resume: ppo.lr {old} -> {new} from here on", file=sys.stderr, flush=True)
    # full_like: a seed-stacked state (num_seeds > 1) carries one rate per seed
    return state.replace(learner=state.learner.replace(lr=jnp.full_like(state.learner.lr, new)))


def commit_run(rc: config.RunConfig, ckpt: checkpoint.Checkpointer, step: int) -> None:
    """The run's first writes, once everything was checked: damaged checkpoints newer than ``step`` are moved to
    ``damaged_checkpoints/``, ``metrics.jsonl`` is cut back to ``step`` and ``config.json`` is (re)written."""
    moved = rundir.quarantine_steps(rc.directory, step)
    if moved:
        ckpt.reload()
        print(f"resume: moved damaged checkpoint step(s) {moved} to {rc.directory}/damaged_checkpoints",
              file=sys.stderr, flush=True)
    for d in run_loop.log_dirs(rc):  # the run directory, or each seed's of a num_seeds > 1 run
        dropped = rundir.truncate_metrics(d, step)
        if dropped:
            print(f"resume: dropped {dropped} {d}/metrics.jsonl row(s) logged after iteration {step}",
                  file=sys.stderr, flush=True)
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


def init_params_from(rc: config.RunConfig, state: Any) -> Any:
    """A fresh on-policy train state whose network parameters are those of ``rc.init_params_from``'s newest
    readable checkpoint (MTBench's two-stage protocol); everything else stays as initialised.

    Raises:
      ValueError: the parameter trees differ in structure or shape (one line naming the first difference).
      FileNotFoundError / checkpoint.CheckpointError: no (readable) checkpoint there.
    """
    step, raw, _, _ = checkpoint.read_raw(rc.init_params_from)
    target = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), state.learner.params)
    try:
        params = _fill(target, raw["learner"]["params"])
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise ValueError(f"config.init_params_from={rc.init_params_from!r}: its parameters do not fit this run's "
                         f"networks ({type(e).__name__}: {e})") from None
    print(f"network parameters from {rc.init_params_from} (checkpoint {step})", flush=True)
    return state.replace(learner=state.learner.replace(params=params))


def _fill(target: Any, raw: Any) -> Any:
    """``target`` (a pytree of ``ShapeDtypeStruct``s) with its leaves read from ``raw``, the nested dicts / lists
    ``checkpoint.read_raw`` returns (fields by name, sequence items by index)."""
    def leaf(path, spec):
        node = raw
        for k in path:
            key = getattr(k, "name", getattr(k, "key", getattr(k, "idx", None)))
            node = node[key] if isinstance(node, dict) and key in node else (
                node[str(key)] if isinstance(node, dict) else node[int(key)])
        arr = np.asarray(node)
        if arr.shape != tuple(spec.shape):
            raise ValueError(f"{jax.tree_util.keystr(path)} has shape {arr.shape}, expected {tuple(spec.shape)}")
        return jnp.asarray(arr, spec.dtype)

    return jax.tree_util.tree_map_with_path(leaf, target)


def restore_policy(run_dir: str, envs_per_task: int, step: int | None = None, seed_index: int = 0,
                   env_overrides: dict | None = None, env_name: str | None = None):
    """A run's checkpointed policy, ready to act: ``(RunConfig, env, learner, learner state)``.

    The config is the checkpoint's own; the env is the run's, rebuilt with ``envs_per_task`` envs for every task
    the checkpoint was trained on. A damaged newest checkpoint is skipped with a warning line. For MT-PPO/MT-GRPO
    the learner state has no optimiser state (``learner_from_raw``); for MT-PQN, MT-SAC and FastTD3 it is the whole
    learner state of the checkpoint.

    A ``num_seeds > 1`` run's checkpoint holds every seed: ``seed_index`` picks one (seed ``seed + seed_index``).
    ``env_overrides``: env kwargs replacing the run's (``build_env``), e.g. another ``physics_impl``; ``env_name``:
    another registry name with the run's tasks (e.g. ``parkour_hard`` for a ``parkour_hard_cl`` run).

    Raises:
      ValueError: ``envs_per_task`` < 1, or ``seed_index`` outside the run's seeds. FileNotFoundError /
        checkpoint.CheckpointError: no (readable) checkpoint.
    """
    if envs_per_task < 1:
        raise ValueError(f"episodes per task must be >= 1, got {envs_per_task}")
    _, raw, cfg, _ = checkpoint.read_raw(run_dir, step)
    rc = typed(cfg)
    if not 0 <= seed_index < rc.num_seeds:
        raise ValueError(f"seed_index={seed_index}: the run has {rc.num_seeds} seed(s) (valid: 0..{rc.num_seeds - 1})")
    if rc.num_seeds > 1:
        raw = jax.tree.map(lambda x: np.asarray(x)[seed_index], raw)
    stats = raw["learner"].get("obs_stats")
    if stats:  # per-task normaliser rows
        num_tasks = int(np.shape(stats["count"])[0])
    else:  # MT-PQN: no normaliser; the task ids of the checkpointed envs
        num_tasks = int(np.max(raw["env_state"]["task_id"])) + 1
    env = build_env(rc, num_envs=envs_per_task * num_tasks, env_overrides=env_overrides, env_name=env_name)
    if env.task_set.envs_per_task != (envs_per_task,) * env.num_tasks:
        raise ValueError(f"could not give every task {envs_per_task} envs: {env.task_set.envs_per_task}")
    if rc.algo in config.OFF_POLICY:
        learner = build_off_policy_learner(rc, env)
    else:
        init_fn, apply_fn = build_networks(rc, env)
        learner = on_policy.make_learner(rc.algo, rc.learner_config, init_fn, apply_fn, env.task_set, env.obs_size,
                                         env.action_size)
    if rc.algo in _LR_ON_RESUME:
        return rc, env, learner, learner_from_raw(raw)
    return rc, env, learner, _fill(jax.eval_shape(learner.init, jax.random.key(0)), raw["learner"])
