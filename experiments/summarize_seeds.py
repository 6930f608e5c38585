"""Summarises several seeds of one setting the way MTBench reports them: mean over seeds, 95 % bootstrap CI, IQM.

MTBench's metric (Joshi et al., 2025, arXiv 2507.23172): per iteration, the mean over tasks of the fraction of
episodes finished in that iteration whose success flag was ever on (iterations with no finished episode have no
value and are skipped). Its ``plot_bootstrapped_stats.py`` interpolates every run's success curve at a target
frame (by default the smallest of the runs' last logged frames), takes the mean over seeds as the point estimate
and a 95 % percentile bootstrap over seeds with 2,000 resamples as the interval. We do the same, and add the IQM
(Agarwal et al., 2021) over seeds x tasks of each run's final per-task success (mean of its last ``--last``
logged values), per-seed tables, the first step and minute at which each run's success reached ``--target``, and
curves against env steps and wall-clock minutes (mean over seeds with the bootstrap band).

Runs may stop at different lengths: the curves and the interpolated estimate use the common range only; each run's
last step is reported beside it.

Usage::

    python -m experiments.summarize_seeds \\
        --metrics=runs/mt10_ppo-s43/metrics.jsonl,runs/mt10_ppo-s44/metrics.jsonl.gz \\
        --out=benchmarks/results/mt10_ppo_seeds.json --png=benchmarks/results/mt10_ppo_seeds.png
"""

from __future__ import annotations

import json
import os

import numpy as np
from absl import app, flags

from experiments import summarize_run
from mtjax import metrics

FLAGS = flags.FLAGS

BOOT_REPS = 2000  # MTBench's plot_bootstrapped_stats.py


def _crossing(curve: list[dict], level: float) -> dict | None:
    for p in curve:
        if p["success"] >= level:
            return {"env_steps": p["env_steps"], "wall_min": p["wall_min"]}
    return None


def _interp(curve: list[dict], key: str, x: np.ndarray) -> np.ndarray:
    return np.interp(x, [p[key] for p in curve], [p["success"] for p in curve])


def summarize_seeds(runs: list[list[dict]], last: int = 5, target: float = 0.88, grid: int = 100,
                    finals_only: list[dict] = ()) -> dict:
    """Mean over seeds with a bootstrap CI, IQM over seeds x tasks, per-seed tables and mean curves.

    Args:
      runs: one list of metrics records per seed (``metrics.jsonl`` rows).
      last: final success of a run = mean of its last ``last`` logged values (per task and mean).
      target: success level whose first crossing is reported per run.
      grid: number of points of the common env-step grid of the mean curve.
      finals_only: extra seeds known only by their final table, ``{"per_task": {task: success}, "env_steps": n}``
        (e.g. a run whose metrics file was lost): they enter the final-success statistics, not the curves.
    """
    if len(runs) + len(finals_only) < 2 or not runs:
        raise ValueError(f"summarize_seeds needs at least 2 runs, one with a curve; got {len(runs)} curves and "
                         f"{len(finals_only)} final tables")
    per = [summarize_run.summarize(r, last) for r in runs]
    if any(not s["success_curve"] for s in per):
        raise ValueError("every run needs at least one iteration with a success value")
    tasks = sorted(per[0]["final_task_success"])
    for f in finals_only:
        if sorted(f["per_task"]) != tasks:
            raise ValueError(f"a final table has tasks {sorted(f['per_task'])}, the curves have {tasks}")
    frame = min(s["success_curve"][-1]["env_steps"] for s in per)
    at_frame = np.array([_interp(s["success_curve"], "env_steps", np.array([frame]))[0] for s in per])
    finals = np.array([[s["final_task_success"][t] for t in tasks] for s in per]
                      + [[f["per_task"][t] for t in tasks] for f in finals_only], np.float64)
    final_means = finals.mean(axis=1)
    start = max(s["success_curve"][0]["env_steps"] for s in per)
    xs = np.linspace(start, frame, grid)
    ys = np.stack([_interp(s["success_curve"], "env_steps", xs) for s in per])
    band = [metrics.bootstrap_ci(ys[:, i], reps=BOOT_REPS) for i in range(grid)]
    wall_end = min(s["success_curve"][-1]["wall_min"] for s in per)
    wall_start = max(s["success_curve"][0]["wall_min"] for s in per)
    ws = np.linspace(wall_start, wall_end, grid)
    yw = np.stack([_interp(s["success_curve"], "wall_min", ws) for s in per])
    return {
        "num_seeds": len(runs) + len(finals_only),
        "target_frame": int(frame),
        "num_seeds_with_curves": len(per),
        "final_only_runs": [{"env_steps": f["env_steps"]} for f in finals_only],
        "success_at_target_frame": {"per_seed": at_frame.tolist(), "mean": float(at_frame.mean()),
                                    "ci95": metrics.bootstrap_ci(at_frame, reps=BOOT_REPS)},
        "final_success": {"per_seed": final_means.tolist(), "mean": float(final_means.mean()),
                          "ci95": metrics.bootstrap_ci(final_means, reps=BOOT_REPS),
                          "iqm_seeds_x_tasks": metrics.iqm(finals), "last_logged": last},
        "final_task_success": {t: {"per_seed": finals[:, i].tolist(), "mean": float(finals[:, i].mean())}
                               for i, t in enumerate(tasks)},
        "runs": [{"env_steps": s["env_steps"], "wall_min": s["wall_s"] / 60.0, "iterations": s["iterations_run"],
                  "train_env_steps_per_s_median": s["train_env_steps_per_s_median"],
                  f"first_success_ge_{target}": _crossing(s["success_curve"], target)} for s in per],
        "mean_curve_env_steps": {"env_steps": xs.tolist(), "mean": ys.mean(0).tolist(),
                                 "ci95_low": [b[0] for b in band], "ci95_high": [b[1] for b in band]},
        "mean_curve_wall_min": {"wall_min": ws.tolist(), "mean": yw.mean(0).tolist()},
        "per_seed_curves": [s["success_curve"] for s in per],
    }


def plot(summary: dict, path: str) -> None:
    """Mean success with its bootstrap band against env steps, and every seed against wall-clock minutes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    c = summary["mean_curve_env_steps"]
    n = summary["num_seeds_with_curves"]
    axes[0].fill_between(c["env_steps"], c["ci95_low"], c["ci95_high"], alpha=0.25, label="95 % bootstrap CI")
    axes[0].plot(c["env_steps"], c["mean"], "k", lw=2, label=f"mean of {n} runs with curves")
    names = [os.path.basename(p).split(".")[0] for p in summary.get("inputs", [])]
    for i, curve in enumerate(summary["per_seed_curves"]):
        label = names[i] if i < len(names) else f"run {i}"
        axes[0].plot([p["env_steps"] for p in curve], [p["success"] for p in curve], lw=0.8, alpha=0.6,
                     label=label)
        axes[1].plot([p["wall_min"] for p in curve], [p["success"] for p in curve], lw=1, marker=".", ms=2,
                     label=label)
    axes[0].set_xlabel("env steps")
    axes[1].set_xlabel("wall-clock minutes (compile included)")
    axes[0].set_ylabel("success (MTBench metric)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _define_flags() -> None:
    """Flags are defined only when run as a script, so other tools can import this module."""
    flags.DEFINE_list("metrics", None, "metrics.jsonl files (plain or .gz), one per seed", required=True)
    flags.DEFINE_list("finals", [], "JSON files of seeds known only by their final table (keys per_task, env_steps)")
    flags.DEFINE_string("out", None, "summary JSON to write", required=True)
    flags.DEFINE_string("png", None, "curve PNG to write (optional)")
    flags.DEFINE_integer("last", 5, "a run's final success = mean of its last N logged values")
    flags.DEFINE_float("target", 0.88, "success level whose first crossing (env steps, minutes) is reported")
    flags.DEFINE_integer("grid", 100, "points of the common env-step grid of the mean curve")
    flags.DEFINE_string("note", "", "free text stored in the JSON (device, env version, command, ...)")


def main(argv) -> None:
    del argv
    finals = []
    for p in FLAGS.finals:
        with open(p) as f:
            finals.append(json.load(f))
    s = summarize_seeds([summarize_run.read_metrics(p) for p in FLAGS.metrics], FLAGS.last, FLAGS.target, FLAGS.grid, finals)
    s["inputs"] = list(FLAGS.metrics) + list(FLAGS.finals)
    s["note"] = FLAGS.note
    with open(FLAGS.out, "w") as f:
        json.dump(s, f, indent=1)
    if FLAGS.png:
        plot(s, FLAGS.png)
    f = s["final_success"]
    print(f"{s['num_seeds']} runs; final success mean {f['mean']:.3f} (95 % CI {f['ci95'][0]:.3f}-{f['ci95'][1]:.3f}), "
          f"IQM {f['iqm_seeds_x_tasks']:.3f}; at the common frame {s['target_frame']:.3g}: "
          f"{s['success_at_target_frame']['mean']:.3f}")
    for t, v in s["final_task_success"].items():
        print(f"  {t:22s} " + " ".join(f"{x:.2f}" for x in v["per_seed"]))


if __name__ == "__main__":
    _define_flags()
    app.run(main)
