"""Runs a policy trained on our MT10 scenes in the real Meta-World (Farama ``metaworld`` 3.1.1, C MuJoCo 3.3.0).

The parity tests compare our scenes with Meta-World along scripted and probe trajectories; this asks the question a
trained policy asks: does what it learned here do the same there? A task that a policy solves here and fails there
(or the reverse) points at a departure of ours; a task it fails in both, the same way, is the benchmark's own
difficulty. Per task, ``--episodes`` variations of ``MT10(seed)`` run ``--steps`` steps with the deterministic
policy (``common.deterministic_policy``: the Gaussian mean for MT-PPO), our observation layout (Meta-World's 39
floats, then the task one-hot) and actions clipped to [-1, 1] as in training.

The Meta-World side runs in its own venv (``scripts/metaworld_policy_driver.py``; built on first use by
``scripts/record_metaworld_traces.py``'s helper, PyPI needed) and exchanges observations and actions with this
process over pipes, one JSON line per step of a task's episodes.

Usage::

    python -m experiments.eval_in_metaworld --run_dir=runs/mt10_ppo-s42 --episodes=10 \\
        --out=benchmarks/results/mt10_real_metaworld_s42.json

``--pin_reach_puck`` gives reach the observation our static puck gives (z 0.02, identity quaternion) instead of the
real free puck's settled pose: a diagnostic for a policy that never saw that puck move (``docs/deviations.md``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from experiments import common, stderr_filter

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DRIVER = os.path.join(_ROOT, "scripts", "metaworld_policy_driver.py")
# The reach puck as our scene holds it (a mocap body on the table): z and quaternion slots of obs and its previous frame.
_REACH_PUCK = {6: 0.02, 7: 0.0, 8: 0.0, 9: 0.0, 10: 1.0}


def pin_reach_puck(obs: np.ndarray) -> np.ndarray:
    """``obs`` [E, 39] with reach's puck slots (current and previous frame) set to our static puck's values."""
    obs = np.array(obs, np.float32)
    for i, v in _REACH_PUCK.items():
        obs[:, i] = obs[:, i + 18] = v
    return obs


def actions_for(policy: Callable, names: tuple[str, ...], task: str, obs: np.ndarray,
                pin: bool = False) -> np.ndarray:
    """Actions ``[E, 4]`` in [-1, 1] for Meta-World observations ``obs`` ``[E, 39]`` of ``task``.

    ``policy(obs [E, 39 + K], task_id [E]) -> [E, 4]`` sees our env's layout: the 39 floats, then the one-hot of the
    task among the run's ``names``.

    Raises:
      ValueError: ``task`` is not one of the run's tasks, or ``obs`` is not ``[E, 39]``.
    """
    if task not in names:
        raise ValueError(f"task {task!r} is not one of the run's tasks {names}")
    obs = np.asarray(obs, np.float32)
    if obs.ndim != 2 or obs.shape[1] != 39:
        raise ValueError(f"Meta-World observations must be [episodes, 39], got {obs.shape}")
    if pin and task == "reach":
        obs = pin_reach_puck(obs)
    tid = names.index(task)
    one_hot = np.zeros((obs.shape[0], len(names)), np.float32)
    one_hot[:, tid] = 1.0
    a = policy(jnp.asarray(np.concatenate([obs, one_hot], 1)), jnp.full((obs.shape[0],), tid, jnp.int32))
    return np.clip(np.asarray(a, np.float64), -1.0, 1.0)


def serve(proc: subprocess.Popen, policy: Callable, names: tuple[str, ...], pin: bool = False) -> dict:
    """Answers the driver's observation lines until it sends its result; returns that result."""
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the Meta-World driver ended without a result (exit code {proc.wait()})")
        msg = json.loads(line)
        if "result" in msg:
            return msg["result"]
        proc.stdin.write(json.dumps(actions_for(policy, names, msg["task"], msg["obs"], pin).tolist()) + "\n")
        proc.stdin.flush()


def evaluate(run_dir: str, episodes: int = 10, steps: int = 150, seed: int = 0, venv: str = "/tmp/mw_oracle_venv",
             tasks: tuple[str, ...] | None = None, pin: bool = False, python: str | None = None) -> dict:
    """Per-task success of the run's deterministic policy in the real Meta-World (see the module docstring).

    ``python``: the interpreter of the driver (default: the Meta-World venv's, created if missing).
    """
    c, env, learner, ls = common.restore_policy(run_dir, 1)
    names = tuple(env.task_set.task_names)
    tasks = tuple(tasks or names)
    bad = [t for t in tasks if t not in names]
    if bad:
        raise ValueError(f"tasks {bad} are not the run's; valid: {names}")
    policy = jax.jit(common.deterministic_policy(c, learner, ls))
    if python is None:
        sys.path.insert(0, os.path.join(_ROOT, "scripts"))
        from record_metaworld_traces import _default_python, _ensure_venv, child_env
        python, env_vars = _ensure_venv(venv, _default_python()), child_env()
    else:
        env_vars = None
    cmd = [python, DRIVER, "--tasks", *tasks, "--episodes", str(episodes), "--steps", str(steps), "--seed", str(seed)]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env_vars) as proc:
        result = serve(proc, policy, names, pin)
    return {"run_dir": os.path.abspath(run_dir), "algo": c.algo, "seed": c.seed, "episodes": episodes,
            "steps": steps, "benchmark": f"metaworld.MT10(seed={seed}), first {episodes} variations of each task",
            "policy": "deterministic", "pin_reach_puck": pin, "tasks": result,
            "mean_any_success": float(np.mean([result[t]["any_success"] for t in tasks]))}


def _define_flags() -> None:
    flags.DEFINE_string("run_dir", None, "Run directory (or learner export) of an MT10 run.", required=True)
    flags.DEFINE_integer("episodes", 10, "Variations per task (MT10(seed)'s, in order).")
    flags.DEFINE_integer("steps", 150, "Steps per episode (MTBench's episode length).")
    flags.DEFINE_integer("seed", 0, "MT10(seed): which variations.")
    flags.DEFINE_list("tasks", [], "Tasks to run (default: all of the run's).")
    flags.DEFINE_bool("pin_reach_puck", False, "Give reach our static puck's observation (diagnostic).")
    flags.DEFINE_string("venv", "/tmp/mw_oracle_venv", "Virtual environment with metaworld 3.1.1 (created if missing).")
    flags.DEFINE_string("out", None, "Optional JSON with the per-task and per-episode results.")


def main(argv):
    del argv
    f = flags.FLAGS
    common.quiet_logs()
    t0 = time.time()
    res = evaluate(f.run_dir, f.episodes, f.steps, f.seed, f.venv, tuple(f.tasks) or None, f.pin_reach_puck)
    print(f"{'task':<22} {'any':>5} {'last':>5} {'first':>6} {'return':>7}")
    for t, r in res["tasks"].items():
        first = "-" if r["first_success_step"] is None else f"{r['first_success_step']:.0f}"
        print(f"{t:<22} {r['any_success']:>5.2f} {r['last_success']:>5.2f} {first:>6} {r['return']:>7.0f}")
    print(f"mean any-step success {res['mean_any_success']:.3f} ({time.time() - t0:.0f} s)")
    if f.out:
        with open(f.out, "w") as fh:
            json.dump(res, fh, indent=1)
        print(f"wrote {f.out}")


if __name__ == "__main__":
    stderr_filter.install()
    _define_flags()
    app.run(main)
