"""Trace a trained Meta-World policy: per-step hand, TCP, object point, task joint, reward and action of each task.

Where ``experiments.evaluate`` gives one success number per task, this shows *what the policy does*: whether it
reaches the reward's reach point, whether the task joint moves, how far the hand lags its mocap target. Runs the
deterministic policy (mean action) from ``reset`` for ``--steps`` steps, ``--episodes`` envs per task.

Usage::

    python -m experiments.trace_policy --run_dir=runs/mt10_ppo-s42 --episodes=4 --steps=150 \\
        --out=/tmp/trace.npz

Prints, per task: success, final |joint change|, mean TCP-to-object-point distance over the last third of the
episode, mean hand-to-mocap lag, mean |action| per axis. The ``.npz`` holds the per-step arrays ``[steps, N, ...]``
(task-major envs) for plotting. A learner-only run directory (``mtjax.checkpoint.export_learner``) suffices.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from envs_bridge import physics_impl
from experiments import common, stderr_filter


def trace(run_dir: str, episodes: int = 4, steps: int = 150, seed: int = 0,
          physics_impl: str = "") -> tuple[dict, tuple[str, ...], np.ndarray]:
    """Returns ``(arrays [steps, N, ...], task names, task id per env)``; needs an env with ``inspect``.
    ``physics_impl``: act in another MJX implementation than the run's ("jax" or "warp"; "" keeps the run's)."""
    overrides = {"physics_impl": physics_impl} if physics_impl else None
    c, env, learner, ls = common.restore_policy(run_dir, episodes, env_overrides=overrides)
    policy = common.deterministic_policy(c, learner, ls)  # MT-PPO mean, MT-PQN greedy, SAC/TD3 tanh(mean)
    if not hasattr(env, "inspect"):
        raise ValueError(f"env {c.env.name!r} has no inspect(); trace_policy needs a Meta-World env")

    def run(key):
        es = env.reset(key)

        def body(es, _):
            a = jnp.clip(policy(es.obs, es.task_id), -1.0, 1.0)
            rec = dict(env.inspect(es), action=a)
            es = env.step(es, a)
            rec.update(reward=es.reward, success=es.info["success"], progress=es.info["progress"])
            return es, rec

        _, recs = jax.lax.scan(body, es, None, length=steps)
        return recs

    recs = jax.tree.map(np.asarray, jax.jit(run)(jax.random.key(seed)))
    return recs, tuple(env.task_set.task_names), np.asarray(env.task_set.task_ids)


def summary(recs: dict, names: tuple[str, ...], tid: np.ndarray) -> str:
    steps = recs["tcp"].shape[0]
    late = slice(2 * steps // 3, steps)
    lines = [f"{'task':<22} {'succ':>5} {'|dq|':>7} {'tcp-obj':>8} {'lag':>7}  mean |action| (x y z grip)"]
    for k, name in enumerate(names):
        m = tid == k
        succ = recs["success"][:, m].max(0).mean()
        dq = np.abs(recs["joint_q"][-1, m] - recs["joint_q"][0, m]).mean()
        dist = np.linalg.norm(recs["tcp"][late][:, m] - recs["obj_pos"][late][:, m], axis=-1).mean()
        lag = np.linalg.norm(recs["mocap"][late][:, m] - recs["hand"][late][:, m], axis=-1).mean()
        act = np.abs(recs["action"][:, m]).mean((0, 1))
        lines.append(f"{name:<22} {succ:>5.2f} {dq:>7.3f} {dist:>8.3f} {lag:>7.3f}  "
                     + " ".join(f"{x:.2f}" for x in act))
    return "\n".join(lines)


def _define_flags() -> None:
    """Flags are defined only when run as a script, so importing ``trace``/``summary`` adds none."""
    flags.DEFINE_string("run_dir", None, "Run directory written by experiments.train (or an export).", required=True)
    flags.DEFINE_integer("episodes", 4, "Envs per task.")
    flags.DEFINE_integer("steps", 150, "Steps to trace (one episode at the default episode length).")
    flags.DEFINE_integer("seed", 0, "Reset seed.")
    flags.DEFINE_string("out", None, "Optional .npz with the per-step arrays.")
    flags.DEFINE_enum("physics_impl", "", ["", *physics_impl.IMPLS],
                      "Meta-World physics implementation to act in ('' = the run's own; envs_bridge/physics_impl.py).")


def main(argv):
    del argv
    f = flags.FLAGS
    common.quiet_logs()
    common.enable_compile_cache()
    recs, names, tid = trace(f.run_dir, f.episodes, f.steps, f.seed, f.physics_impl)
    print(summary(recs, names, tid))
    if f.out:
        np.savez_compressed(f.out, task_id=tid, task_names=np.array(names), **recs)
        print(f"wrote {f.out}")


if __name__ == "__main__":
    stderr_filter.install()  # XLA's slow-compile alarm off the terminal (CLI only, not under pytest)
    _define_flags()
    app.run(main)
