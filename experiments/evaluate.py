"""Evaluate a trained policy deterministically (mean action; MT-SAC / FastTD3: ``tanh`` of the actor's mean, via
``learner.act(..., deterministic=True)``), N episodes per task, and print a per-task table.

Usage: python -m experiments.evaluate --run_dir=runs/mt10_ppo-s42 --episodes=10 [--step=N]
Also importable: ``evaluate(run_dir, episodes) -> {task: {"success": ..., "return": ...}}``.
"""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from experiments import common, stderr_filter
from mtjax import checkpoint

FLAGS = flags.FLAGS


def _define_flags() -> None:
    """Flags are defined only when run as a script, so other tools can import this module."""
    flags.DEFINE_string("run_dir", None, "Run directory written by experiments.train.", required=True)
    flags.DEFINE_integer("episodes", 10, "Episodes per task (one env per episode).", lower_bound=1)
    flags.DEFINE_integer("step", None, "Checkpoint step (default: the newest readable one).")
    flags.DEFINE_integer("seed", 0, "Evaluation seed.")
    flags.DEFINE_integer("seed_index", 0, "Which seed of a num_seeds > 1 run (0 = the config's seed).")
    flags.DEFINE_string("env_overrides", "{}", "JSON of env kwargs replacing the run's, e.g. "
                        '\'{"physics_impl": "jax"}\' (act in MJX-JAX on a CPU after MuJoCo Warp training).')
    flags.DEFINE_string("env_name", None, "Another registry env with the run's tasks (default: the run's), e.g. "
                        "parkour_hard to test a parkour_hard_cl policy on every level.")


def evaluate(run_dir: str, episodes: int = 10, step: int | None = None, seed: int = 0,
             max_steps: int | None = None, seed_index: int = 0,
             env_overrides: dict | None = None, env_name: str | None = None) -> dict[str, dict[str, float]]:
    """Runs ``episodes`` (>= 1) episodes per task with the deterministic policy; returns per-task means.

    Uses the newest readable checkpoint unless ``step`` is given (a damaged one is skipped with a warning line);
    ``seed_index`` picks one seed of a ``num_seeds > 1`` run; ``env_overrides`` replace env kwargs of the run's
    config and ``env_name`` its registry name. Every episode starts at step 0: a run trained with
    ``random_init_step`` (Go1 parkour's default) is evaluated without it, else its first episodes would be cut
    short. Each env's first finished episode counts (MTBench's test mode); envs where the goal-progress metric
    exists (Go1 parkour) also report ``progress``.
    """
    overrides = dict(env_overrides or {})
    rc, env, learner, ls = common.restore_policy(run_dir, episodes, step, seed_index, overrides, env_name)
    if getattr(env, "random_init_step", False) and "random_init_step" not in overrides:  # the env again, only
        env = common.build_env(rc, env.task_set.num_envs, {**overrides, "random_init_step": False}, env_name)
    policy = common.deterministic_policy(rc, learner, ls)
    horizon = int(max_steps or getattr(env, "episode_length", 500)) + 1

    def rollout(key):
        es = env.reset(key)

        n = env.task_set.num_envs
        has_progress = "episode_progress" in es.info

        def body(carry, _):
            es, got, succ, ret, prog = carry
            a = policy(es.obs, es.task_id)
            es = env.step(es, a)
            first = es.done & ~got
            succ = jnp.where(first, es.info["episode_success"], succ)
            ret = jnp.where(first, es.info["episode_return"], ret)
            if has_progress:
                prog = jnp.where(first, es.info["episode_progress"], prog)
            return (es, got | es.done, succ, ret, prog), None

        init = (es, jnp.zeros(n, bool), jnp.zeros(n, bool), jnp.zeros(n, jnp.float32), jnp.full(n, jnp.nan))
        (_, got, succ, ret, prog), _ = jax.lax.scan(body, init, None, length=horizon)
        return got, succ, ret, prog

    got, succ, ret, prog = map(np.asarray, jax.jit(rollout)(jax.random.key(seed)))
    tid = env.task_set.task_ids
    out = {}
    for k, name in enumerate(env.task_set.task_names):
        m = (tid == k) & got
        out[name] = {"success": float(succ[m].mean()) if m.any() else float("nan"),
                     "return": float(ret[m].mean()) if m.any() else float("nan"), "episodes": int(m.sum())}
        if not np.isnan(prog).all():
            out[name]["progress"] = float(prog[m].mean()) if m.any() else float("nan")
    return out


def format_table(res: dict[str, dict[str, float]]) -> str:
    prog = all("progress" in r for r in res.values())
    w = max([24] + [len(n) for n in res])
    lines = [f"{'task':<{w}} {'success':>8} {'return':>10} {'episodes':>8}" + (f" {'progress':>8}" if prog else "")]
    for name, r in res.items():
        lines.append(f"{name:<{w}} {r['success']:>8.3f} {r['return']:>10.2f} {r['episodes']:>8d}"
                     + (f" {r['progress']:>8.3f}" if prog else ""))
    mean = np.nanmean([r["success"] for r in res.values()])
    tail = f" {'':>10} {'':>8} {np.nanmean([r['progress'] for r in res.values()]):>8.3f}" if prog else ""
    lines.append(f"{'mean':<{w}} {mean:>8.3f}" + tail)
    return "\n".join(lines)


def main(argv):
    del argv
    common.quiet_logs()
    common.enable_compile_cache()
    try:
        overrides = json.loads(FLAGS.env_overrides)
        if not isinstance(overrides, dict):
            raise SystemExit(f"error: --env_overrides must be a JSON object, got {FLAGS.env_overrides!r}")
        res = evaluate(FLAGS.run_dir, FLAGS.episodes, FLAGS.step, FLAGS.seed, seed_index=FLAGS.seed_index,
                       env_overrides=overrides, env_name=FLAGS.env_name)
    except (FileNotFoundError, checkpoint.CheckpointError, ValueError) as e:
        raise SystemExit(f"error: {e}") from None
    print(format_table(res))
    print(json.dumps(res))


if __name__ == "__main__":
    stderr_filter.install()  # XLA's slow-compile alarm off the terminal (CLI only, not under pytest)
    _define_flags()
    app.run(main)
