"""Summarises several seeds of one setting the way MTBench reports them: mean over seeds, 95 % bootstrap CI, IQM.

MTBench's metric (Joshi et al., 2025, arXiv 2507.23172): per iteration, the mean over tasks of the fraction of
episodes finished in that iteration whose success flag was ever on (``success`` in ``metrics.jsonl``; ``null`` in
iterations where no episode finished, which are skipped). Its ``scripts/CI/plot_bootstrapped_stats.py``
interpolates every run's success curve at a target frame (by default the smallest of the runs' last logged
frames), takes the mean over seeds as the point estimate and a 95 % percentile bootstrap over seeds with 2,000
resamples as the interval (``mtjax.metrics.bootstrap_ci``, resampling seed 0). We report that
(``success_at_target_frame``) and, per seed, the final success = the mean of its last ``--last`` non-null
``success`` values (per task: of ``task/<name>/success``), with the same bootstrap over seeds, the IQM over
seeds x tasks of the final per-task success (Agarwal et al., 2021, arXiv 2108.13264), the per-task table, the
first step and minute at which each run's success reached ``--target``, and curves against env steps and against
wall-clock minutes (mean over seeds with the bootstrap band at every grid point).

Runs may stop at different lengths: curves use the common range only (``common_env_steps``,
``common_wall_min``), and each run's last logged step and minute are reported beside it. A run is a
``metrics.jsonl`` (or ``.jsonl.gz``) file or a run directory holding one; ``wall_s`` is optional (without it
there is no wall-clock curve).

Usage::

    python -m experiments.summarize_seeds --runs=runs/mt10_ppo-s43,runs/mt10_ppo-s44/metrics.jsonl.gz \\
        --out=benchmarks/results/mt10_ppo_seeds.json --png=benchmarks/results/mt10_ppo_seeds.png
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
from absl import app, flags

from mtjax import metrics, run_logger

FLAGS = flags.FLAGS

BOOT_REPS = 2000  # MTBench's plot_bootstrapped_stats.py
METRICS_FILES = ("metrics.jsonl", "metrics.jsonl.gz")


def read_run(path: str) -> list[dict]:
    """The records of a ``metrics.jsonl`` file (gzipped if its name ends in ``.gz``) or of a run directory."""
    if os.path.isdir(path):
        found = [os.path.join(path, f) for f in METRICS_FILES if os.path.exists(os.path.join(path, f))]
        if not found:
            raise ValueError(f"run directory {path} holds none of {', '.join(METRICS_FILES)}")
        path = found[0]
    return run_logger.read_jsonl(path)


def _num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _last_mean(values: list, k: int) -> float | None:
    vals = [v for v in values if _num(v)][-k:]
    return float(np.mean(vals)) if vals else None


def run_summary(recs: list[dict], last: int = 5) -> dict:
    """One seed: its success curve (iterations with a value), final success and per-task table, extent."""
    if not recs:
        raise ValueError("a run has no records")
    tasks = sorted({k.split("/")[1] for r in recs for k in r if k.startswith("task/") and k.endswith("/success")})
    has_wall = all(_num(r.get("wall_s")) for r in recs)
    curve = [{"env_steps": r["env_steps"], "wall_min": r["wall_s"] / 60.0 if has_wall else None,
              "success": r["success"]} for r in recs if _num(r.get("success"))]
    if not curve:
        raise ValueError("every run needs at least one iteration with a success value")
    return {
        "iterations": recs[-1].get("iteration", len(recs)),
        "last_env_steps": recs[-1]["env_steps"],
        "last_wall_min": recs[-1]["wall_s"] / 60.0 if has_wall else None,
        "final_success": _last_mean([r.get("success") for r in recs], last),
        "final_task_success": {t: _last_mean([r.get(f"task/{t}/success") for r in recs], last) for t in tasks},
        "curve": curve,
    }


def _crossing(curve: list[dict], level: float) -> dict | None:
    for p in curve:
        if p["success"] >= level:
            return {"env_steps": p["env_steps"], "wall_min": p["wall_min"]}
    return None


def _interp(curve: list[dict], key: str, x: np.ndarray) -> np.ndarray:
    return np.interp(x, [p[key] for p in curve], [p["success"] for p in curve])


def _band(per: list[dict], key: str, grid: int) -> dict:
    """Mean over seeds and the bootstrap band on a grid over the range every seed's curve covers."""
    start = max(s["curve"][0][key] for s in per)
    end = min(s["curve"][-1][key] for s in per)
    xs = np.linspace(start, end, grid)
    ys = np.stack([_interp(s["curve"], key, xs) for s in per])  # [seeds, grid]
    band = [metrics.bootstrap_ci(ys[:, i], reps=BOOT_REPS) for i in range(grid)]
    return {key: xs.tolist(), "mean": ys.mean(0).tolist(), "ci95_low": [b[0] for b in band],
            "ci95_high": [b[1] for b in band]}


def _stats(x: np.ndarray) -> dict:
    return {"per_seed": x.tolist(), "mean": float(x.mean()), "ci95": list(metrics.bootstrap_ci(x, reps=BOOT_REPS))}


def summarize_seeds(runs: list[list[dict]], last: int = 5, target: float = 0.88, grid: int = 100,
                    finals_only: list[dict] = ()) -> dict:
    """Mean over seeds with a bootstrap CI, IQM over seeds x tasks, per-seed tables and mean curves.

    Args:
      runs: one list of ``metrics.jsonl`` records per seed.
      last: final success of a run = mean of its last ``last`` non-null values (the mean and each task).
      target: success level whose first crossing is reported per run.
      grid: points of the common env-step (and wall-clock) grid of the mean curves.
      finals_only: extra seeds known only by their final table, ``{"per_task": {task: success}, "env_steps": n}``
        (e.g. a run whose metrics file was lost): they enter the final-success statistics, not the curves or
        the interpolated estimate; their final success is the mean over tasks.

    Raises:
      ValueError: fewer than 2 seeds or none with a curve, a run without any success value, task sets that
        differ between runs.
    """
    if len(runs) + len(finals_only) < 2 or not runs:
        raise ValueError(f"summarize_seeds needs at least 2 runs, one with a curve; got {len(runs)} curves and "
                         f"{len(finals_only)} final tables")
    per = [run_summary(r, last) for r in runs]
    tasks = sorted(per[0]["final_task_success"])
    for i, s in enumerate(per):
        if sorted(s["final_task_success"]) != tasks:
            raise ValueError(f"run {i} has tasks {sorted(s['final_task_success'])}, run 0 has {tasks}")
    for f in finals_only:
        if sorted(f["per_task"]) != tasks:
            raise ValueError(f"a final table has tasks {sorted(f['per_task'])}, the curves have {tasks}")
    frame = min(s["curve"][-1]["env_steps"] for s in per)
    at_frame = np.array([_interp(s["curve"], "env_steps", np.array([frame]))[0] for s in per])
    task_finals = np.array([[np.nan if s["final_task_success"][t] is None else s["final_task_success"][t]
                             for t in tasks] for s in per]
                           + [[f["per_task"][t] for t in tasks] for f in finals_only], np.float64)
    finals = np.array([s["final_success"] for s in per] + [float(np.mean(list(f["per_task"].values())))
                                                           for f in finals_only])
    steps = _band(per, "env_steps", grid)
    wall = _band(per, "wall_min", grid) if all(s["last_wall_min"] is not None for s in per) else None
    return {
        "num_seeds": len(finals),
        "num_seeds_with_curves": len(per),
        "bootstrap": f"percentile, {BOOT_REPS} resamples of the seeds, 95 %, numpy default_rng(0)",
        "target_frame": int(frame),
        "common_env_steps": [steps["env_steps"][0], steps["env_steps"][-1]],
        "common_wall_min": None if wall is None else [wall["wall_min"][0], wall["wall_min"][-1]],
        "success_at_target_frame": _stats(at_frame),
        "final_success": {**_stats(finals), "iqm_seeds_x_tasks": metrics.iqm(task_finals[np.isfinite(task_finals)]),
                          "last_logged": last},
        "final_task_success": {t: {"per_seed": [None if np.isnan(v) else float(v) for v in task_finals[:, i]],
                                   "mean": float(np.nanmean(task_finals[:, i]))
                                   if np.isfinite(task_finals[:, i]).any() else None}
                               for i, t in enumerate(tasks)},
        "final_only_runs": [{"env_steps": f["env_steps"]} for f in finals_only],
        "runs": [{"last_env_steps": s["last_env_steps"], "last_wall_min": s["last_wall_min"],
                  "iterations": s["iterations"], "final_success": s["final_success"],
                  f"first_success_ge_{target}": _crossing(s["curve"], target)} for s in per],
        "mean_curve_env_steps": steps,
        "mean_curve_wall_min": wall,
        "per_seed_curves": [s["curve"] for s in per],
    }


def plot(summary: dict, path: str, labels: list[str] | None = None) -> None:
    """Mean success with its bootstrap band and every seed, against env steps and against wall-clock minutes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    n = summary["num_seeds_with_curves"]
    for ax, key, curve in ((axes[0], "env_steps", summary["mean_curve_env_steps"]),
                           (axes[1], "wall_min", summary["mean_curve_wall_min"])):
        if curve is None:
            ax.text(0.5, 0.5, "no wall-clock time in the metrics", ha="center", transform=ax.transAxes)
            continue
        ax.fill_between(curve[key], curve["ci95_low"], curve["ci95_high"], alpha=0.25, label="95 % bootstrap CI")
        ax.plot(curve[key], curve["mean"], "k", lw=2, label=f"mean of {n} seeds")
        for i, c in enumerate(summary["per_seed_curves"]):
            label = labels[i] if labels and i < len(labels) else f"seed run {i}"
            ax.plot([p[key] for p in c], [p["success"] for p in c], lw=0.8, alpha=0.6, label=label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_xlabel("env steps")
    axes[1].set_xlabel("wall-clock minutes (compile included)")
    axes[0].set_ylabel("success (MTBench metric)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _json_safe(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


def _label(path: str) -> str:
    path = path.rstrip("/")
    name = os.path.basename(path)
    return os.path.basename(os.path.dirname(path)) if name in METRICS_FILES else name.split(".")[0]


def _define_flags() -> None:
    """Flags are defined only when run as a script, so other tools can import this module."""
    flags.DEFINE_list("runs", None, "run directories or metrics.jsonl(.gz) files, one per seed", required=True)
    flags.DEFINE_list("finals", [], "JSON files of seeds known only by their final table (keys per_task, env_steps)")
    flags.DEFINE_string("out", None, "summary JSON to write", required=True)
    flags.DEFINE_string("png", None, "curve PNG to write (optional)")
    flags.DEFINE_integer("last", 5, "a run's final success = mean of its last N non-null logged values")
    flags.DEFINE_float("target", 0.88, "success level whose first crossing (env steps, minutes) is reported")
    flags.DEFINE_integer("grid", 100, "points of the common env-step / wall-clock grid of the mean curves")
    flags.DEFINE_string("note", "", "free text stored in the JSON (device, env version, command, ...)")


def main(argv) -> None:
    del argv
    finals = []
    for p in FLAGS.finals:
        with open(p) as f:
            finals.append(json.load(f))
    s = summarize_seeds([read_run(p) for p in FLAGS.runs], FLAGS.last, FLAGS.target, FLAGS.grid, finals)
    s["inputs"] = list(FLAGS.runs) + list(FLAGS.finals)
    s["note"] = FLAGS.note
    with open(FLAGS.out, "w") as f:
        json.dump(_json_safe(s), f, indent=1)
    if FLAGS.png:
        plot(s, FLAGS.png, [_label(p) for p in FLAGS.runs])
    f, a = s["final_success"], s["success_at_target_frame"]
    print(f"{s['num_seeds']} seeds; common env steps {s['common_env_steps'][0]:.4g}-{s['common_env_steps'][1]:.4g}; "
          f"last steps " + ", ".join(f"{r['last_env_steps']:.4g}" for r in s["runs"]))
    print(f"success at env step {s['target_frame']:.4g} (MTBench): {a['mean']:.3f} "
          f"(95 % CI {a['ci95'][0]:.3f}-{a['ci95'][1]:.3f})")
    print(f"final success (last {FLAGS.last}): {f['mean']:.3f} (95 % CI {f['ci95'][0]:.3f}-{f['ci95'][1]:.3f}), "
          f"IQM seeds x tasks {f['iqm_seeds_x_tasks']:.3f}")
    for t, v in s["final_task_success"].items():
        print(f"  {t:26s} " + " ".join("  -  " if x is None else f"{x:.3f}" for x in v["per_seed"]))


if __name__ == "__main__":
    _define_flags()
    app.run(main)
