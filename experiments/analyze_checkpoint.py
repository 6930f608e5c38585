"""Inspect a run directory without building an environment: config, step, per-task metrics, parameter counts.

Usage: python -m experiments.analyze_checkpoint --run_dir=runs/mt10_ppo-s42
From a notebook: ``from experiments.analyze_checkpoint import analyze; info = analyze("runs/...")``.
"""

from __future__ import annotations

import json

import numpy as np
from absl import app, flags

from experiments import common, stderr_filter
from mtjax import checkpoint

FLAGS = flags.FLAGS


def _define_flags() -> None:
    """Flags are defined only when run as a script, so other tools can import this module."""
    flags.DEFINE_string("run_dir", None, "Run directory written by experiments.train.", required=True)
    flags.DEFINE_integer("step", None, "Checkpoint step (default: the newest readable one).")


def _count(tree) -> int:
    if isinstance(tree, dict):
        return sum(_count(v) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return sum(_count(v) for v in tree)
    return int(np.size(tree))


def _params(learner: dict) -> dict:
    """The networks' parameters: MT-PPO/GRPO's actor-critic ``params``, or MT-SAC/FastTD3's ``actor_params`` and
    ``critic_params`` (twin critics; the target copies are not counted) as ``{"actor", "critic"}``."""
    if "params" not in learner:
        return {role: learner[f"{role}_params"].get("params", learner[f"{role}_params"]) for role in ("actor",
                                                                                                       "critic")}
    return learner["params"]["params"] if "params" in learner["params"] else learner["params"]


def analyze(run_dir: str, step: int | None = None) -> dict:
    """Returns ``{"config", "step", "iteration", "metrics", "task_metrics", "param_counts", "params",
    "obs_stats", "value_stats"}`` of a checkpoint (arrays as NumPy; default: the newest readable one;
    ``value_stats`` is None for MT-SAC, FastTD3 and MT-PQN, ``obs_stats`` for MT-PQN: no such normaliser)."""
    step, state, config, metrics = checkpoint.read_raw(run_dir, step)
    learner = state["learner"]
    params = _params(learner)
    counts = {k: _count(v) for k, v in params.items()}
    counts["total"] = _count(params)
    task_metrics: dict[str, dict[str, float]] = {}
    for k, v in metrics.items():
        if k.startswith("task/"):
            _, task, name = k.split("/", 2)
            task_metrics.setdefault(task, {})[name] = v
    return {"config": config, "step": step,
            "iteration": int(np.asarray(state["iteration"])), "metrics": metrics, "task_metrics": task_metrics,
            "param_counts": counts, "params": params, "obs_stats": learner.get("obs_stats"),
            "value_stats": learner.get("value_stats")}


def format_report(info: dict) -> str:
    c = info["config"]
    lines = [f"run: {c.get('name')} seed {c.get('seed')}  env {c['env']['name']} x {c['env']['num_envs']}",
             f"checkpoint step {info['step']} (iteration {info['iteration']})",
             "parameters: " + ", ".join(f"{k} {v:,}" for k, v in info["param_counts"].items())]
    m = info["metrics"]
    lines.append(f"mean success {m.get('success', float('nan')):.3f}  return {m.get('return', float('nan')):.3g}")
    lines.append(f"{'task':<24} {'success':>8} {'return':>10} {'length':>8}")
    for task, tm in info["task_metrics"].items():
        lines.append(f"{task:<24} {tm.get('success', float('nan')):>8.3f} {tm.get('return', float('nan')):>10.3g}"
                     f" {tm.get('length', float('nan')):>8.1f}")
    return "\n".join(lines)


def main(argv):
    del argv
    common.quiet_logs()
    try:
        info = analyze(FLAGS.run_dir, FLAGS.step)
    except (FileNotFoundError, checkpoint.CheckpointError) as e:
        raise SystemExit(f"error: {e}") from None
    print(format_report(info))
    print(json.dumps({"config": info["config"]}, indent=1))


if __name__ == "__main__":
    stderr_filter.install()  # XLA's slow-compile alarm off the terminal (CLI only, not under pytest)
    _define_flags()
    app.run(main)
