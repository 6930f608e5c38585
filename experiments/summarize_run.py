"""Summarises a training run's ``metrics.jsonl``: success curve vs env steps and wall-clock minutes, per-task table.

MTBench's metric (Joshi et al., 2025, arXiv 2507.23172): per iteration, the mean over tasks of the fraction of
episodes finished in that iteration whose success flag was ever on. Iterations in which no episode finished have
no value (``null``) and are skipped. The final per-task success is the mean of the last ``--last`` iterations that
have a value for that task. For Go1 parkour MTBench's "success" is the goal progress (goals reached / 8; our
``success`` is all eight reached): ``--metric=progress`` summarises the ``progress`` columns under the same names.
``--block=N`` stores the curve as means of N consecutive iterations (parkour logs 21 noisy per-terrain columns).

Usage::

    python -m experiments.summarize_run --metrics=runs/mt10_ppo-s42/metrics.jsonl \\
        --out=benchmarks/results/mt10_ppo_run.json --png=benchmarks/results/mt10_ppo_run.png --note="..."
"""

from __future__ import annotations

import json
import math
import os

from absl import app, flags

from experiments import summarize_seeds
from mtjax import provenance, run_logger

FLAGS = flags.FLAGS


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


METRICS = ("success", "progress")


def with_metric(recs: list[dict], metric: str) -> list[dict]:
    """The records with ``metric``'s columns (``<metric>``, ``task/<t>/<metric>``) under the success names."""
    if metric not in METRICS:
        raise ValueError(f"metric {metric!r}: valid are {', '.join(METRICS)}")
    if metric == "success":
        return recs
    if not any(metric in r for r in recs):
        raise ValueError(f"no record has a {metric!r} column")
    out = []
    for r in recs:
        keep = {k: v for k, v in r.items() if k != "success" and not (k.startswith("task/") and k.endswith("/success"))}
        keep["success"] = r.get(metric)
        for k, v in r.items():
            if k.startswith("task/") and k.endswith(f"/{metric}"):
                keep[k[: -len(metric)] + "success"] = v
        out.append(keep)
    return out


def _block_mean(values: list) -> float | None:
    vals = [v for v in values if _finite(v)]
    return sum(vals) / len(vals) if vals else None


def summarize(recs: list[dict], last: int = 5, block: int = 1) -> dict:
    """Curve points (iterations with a success value), per-task curves, and the final success.

    The final numbers are ``summarize_seeds.run_summary``'s (one definition for both tools): the final success is
    the mean of the last ``last`` per-iteration ``success`` values (MTBench's curve, whose points are already means
    over tasks), each task's final success the mean of its last ``last`` values. ``block`` > 1 stores each curve
    point as the mean of ``block`` consecutive iterations' values (at the block's last iteration; final numbers
    unchanged).
    """
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    base = summarize_seeds.run_summary(recs, last)
    tasks = sorted(base["final_task_success"])
    curve = []
    for i in range(0, len(recs), block):
        part = recs[i:i + block]
        mean = _block_mean([r.get("success") for r in part])
        if mean is None:
            continue
        r = part[-1]
        curve.append({"iteration": r["iteration"], "env_steps": r["env_steps"], "wall_min": r["wall_s"] / 60.0,
                      "success": mean,
                      "task_success": {t: _block_mean([q.get(f"task/{t}/success") for q in part]) for t in tasks}})
    sps = [r["env_steps_per_s"] for r in recs if _finite(r.get("env_steps_per_s"))]
    return {
        "iterations_run": recs[-1]["iteration"],
        "env_steps": recs[-1]["env_steps"],
        "wall_s": recs[-1]["wall_s"],
        "train_env_steps_per_s_median": sorted(sps)[len(sps) // 2] if sps else None,
        "final_task_success": base["final_task_success"],
        "final_success": base["final_success"],
        "final_window_iterations": last,
        "curve_block_iterations": block,
        "success_curve": curve,
    }


def plot(summary: dict, path: str) -> None:
    """Two panels: success vs env steps and vs wall-clock minutes, per task and the mean."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = summary["success_curve"]
    many = len(summary["final_task_success"]) > 10  # the default cycle repeats after 10 colours
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    for ax, key, label in ((axes[0], "env_steps", "env steps"), (axes[1], "wall_min", "wall-clock minutes")):
        x = [p[key] for p in curve]
        for i, t in enumerate(summary["final_task_success"]):
            pts = [(xi, p["task_success"][t]) for xi, p in zip(x, curve) if _finite(p["task_success"][t])]
            style = {"color": plt.get_cmap("tab20")(i % 20), "ls": "-" if i < 20 else ":"} if many else {}
            if pts:
                ax.plot(*zip(*pts), lw=1, marker=".", ms=3, label=t, **style)
        ax.plot(x, [p["success"] for p in curve], "k", lw=2.5, marker=".", label="mean")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(summary.get("metric_label", "success (MTBench metric)"))
    if many:
        axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        axes[1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def attach_provenance(summary: dict, metrics_path: str, provenance_path: str | None = None) -> dict:
    """Adds the run's ``provenance.json`` (``provenance_path``, else the one beside ``metrics_path`` if any) to
    ``summary``: ``provenance`` (its segments: devices, versions, env physics digest per process) and
    ``env_digests`` (the distinct env digests, one when the whole run stepped the same physics)."""
    path = provenance_path or os.path.join(os.path.dirname(os.path.abspath(metrics_path)), provenance.FILE)
    if not os.path.exists(path):
        if provenance_path:
            raise FileNotFoundError(f"no provenance file at {path}")
        return summary
    with open(path) as f:
        summary["provenance"] = json.load(f)
    summary["env_digests"] = sorted({(g.get("env") or {}).get("digest") for g in summary["provenance"]["segments"]}
                                    - {None})
    return summary


def _define_flags() -> None:
    """Flags are defined only when run as a script, so other tools can import this module."""
    flags.DEFINE_string("metrics", None, "path of metrics.jsonl", required=True)
    flags.DEFINE_string("out", None, "summary JSON to write", required=True)
    flags.DEFINE_string("png", None, "curve PNG to write (optional)")
    flags.DEFINE_integer("last", 5, "final success = mean of the last N iterations with a value")
    flags.DEFINE_enum("metric", "success", list(METRICS), "success (Meta-World) or progress (Go1 parkour: goals "
                      "reached / 8, MTBench's Go1 'success')")
    flags.DEFINE_integer("block", 1, "store the curve as means of N consecutive iterations")
    flags.DEFINE_string("note", "", "free text stored in the JSON (device, env version, ...)")
    flags.DEFINE_string("provenance", None, "the run's provenance.json (default: the one beside --metrics, if any); "
                        "its segments (devices, versions, env physics digest) go into the JSON")


def main(argv) -> None:
    del argv
    s = summarize(with_metric(run_logger.read_jsonl(FLAGS.metrics), FLAGS.metric), FLAGS.last, FLAGS.block)
    s["metric"] = FLAGS.metric
    if FLAGS.metric == "progress":
        s["metric_label"] = "progress (goals reached / 8; MTBench's Go1 metric)"
    s["note"] = FLAGS.note
    attach_provenance(s, FLAGS.metrics, FLAGS.provenance)
    with open(FLAGS.out, "w") as f:
        json.dump(s, f, indent=1)
    if FLAGS.png:
        plot(s, FLAGS.png)
    print(f"{s['iterations_run']} iterations, {s['env_steps']:.3g} env steps, {s['wall_s'] / 60:.1f} min; "
          f"final success {s['final_success']}")
    for t, v in s["final_task_success"].items():
        print(f"  {t:22s} {v}")


if __name__ == "__main__":
    _define_flags()
    app.run(main)
