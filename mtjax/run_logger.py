"""Host-side run logging: JSONL, TensorBoard event files, a terminal progress line and a per-task success plot.

Only the host touches files; the jitted loop returns stacked per-iteration metrics that are written here. A resumed
run appends to ``metrics.jsonl`` (cut back to the restored iteration beforehand, ``run_dir.truncate_metrics``) and
starts a new TensorBoard events file whose first event is a ``SessionLog.START`` at the first step it will log
again (``purge_step``): TensorBoard then hides the older files' events from that step on, so each iteration shows
once (``docs/runs.md``). Its ``wall_s`` continues from the last kept row: the run's time summed over its processes.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import sys
import time
from typing import Any

import numpy as np

from mtjax import metrics as mt_metrics

__all__ = ["RunLogger", "device_peak_bytes", "plot_task_success", "read_jsonl"]


class RunLogger:
    """Writes one record per training iteration.

    Attributes:
      run_dir: the run directory (created). task_names: for per-task metric names.
      total_iterations: for the progress line. env_steps_per_iteration: ``num_envs * horizon``.
      start_iteration: iterations already done (a resumed run); TensorBoard purges events after it.
    """

    def __init__(self, run_dir: str, task_names: tuple[str, ...], total_iterations: int,
                 env_steps_per_iteration: int, tensorboard: bool = True, progress: bool = True,
                 start_iteration: int = 0):
        os.makedirs(run_dir, exist_ok=True)
        self.run_dir = run_dir
        self.task_names = tuple(task_names)
        self.total_iterations = int(total_iterations)
        self.env_steps_per_iteration = int(env_steps_per_iteration)
        self._jsonl = open(os.path.join(run_dir, "metrics.jsonl"), "a")  # noqa: SIM115 (open for the logger's lifetime; closed in close())
        self._tb = None
        if tensorboard:
            from tensorboardX import SummaryWriter

            # x axis = env steps; on resume, events at steps > start (written by a killed process) are purged.
            purge = start_iteration * self.env_steps_per_iteration + 1 if start_iteration > 0 else None
            self._tb = SummaryWriter(run_dir, purge_step=purge)
        self._progress = progress
        # wall_s is the run's own time, summed over its processes: a resumed run continues from the wall_s of the
        # last row it kept (the time between processes is not counted; each process's compile is)
        self._t0 = time.time() - (_last_wall_s(run_dir) if start_iteration > 0 else 0.0)

    def log_chunk(self, first_iteration: int, stacked: dict[str, Any], seconds: float) -> dict[str, float]:
        """Logs ``n`` iterations' stacked metrics (leading axis ``n``); returns the last record."""
        stacked = {k: np.asarray(v) for k, v in stacked.items()}
        n = len(next(iter(stacked.values())))
        sps = n * self.env_steps_per_iteration / max(seconds, 1e-9)
        peak = device_peak_bytes()
        rec: dict[str, float] = {}
        for i in range(n):
            it = first_iteration + i + 1
            rec = mt_metrics.flatten_metrics({k: v[i] for k, v in stacked.items()}, self.task_names)
            rec.update(iteration=it, env_steps=it * self.env_steps_per_iteration, env_steps_per_s=sps,
                       wall_s=time.time() - self._t0)
            if peak is not None:
                rec["device_peak_bytes"] = float(peak)
            self._jsonl.write(json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                          for k, v in rec.items()}) + "\n")
            if self._tb is not None:
                for k, v in rec.items():
                    if k != "iteration" and isinstance(v, float) and math.isfinite(v):
                        self._tb.add_scalar(k, v, rec["env_steps"])
        self._jsonl.flush()
        if self._tb is not None:
            self._tb.flush()
        if self._progress:
            self._print(rec)
        return rec

    def _print(self, rec: dict[str, float]) -> None:
        it, tot = int(rec["iteration"]), self.total_iterations
        width = 24
        filled = int(width * it / max(tot, 1))
        bar = "#" * filled + "." * (width - filled)
        succ, ret = rec.get("success", float("nan")), rec.get("return", float("nan"))
        succ = f"{succ:.3f}" if math.isfinite(succ) else "- (no episode finished yet)"
        ret = f"{ret:.3g}" if math.isfinite(ret) else "-"
        msg = (f"\r[{bar}] {it}/{tot} steps {rec['env_steps']:.3g} | success {succ}"
               f" | return {ret} | {rec['env_steps_per_s']:.3g} steps/s"
               f" | {rec['wall_s']:.0f}s")
        sys.stdout.write(msg + ("\n" if it >= tot else ""))
        sys.stdout.flush()

    def close(self) -> None:
        self._jsonl.close()
        if self._tb is not None:
            self._tb.close()


def _last_wall_s(run_dir: str) -> float:
    """``wall_s`` of the last row of ``run_dir/metrics.jsonl`` (0 if there is none or it has no ``wall_s``)."""
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        return 0.0
    with open(path) as f:
        lines = [ln for ln in f if ln.strip()]
    for ln in reversed(lines):
        try:
            w = json.loads(ln).get("wall_s")
        except json.JSONDecodeError:  # a torn last line (a killed process)
            continue
        return float(w) if isinstance(w, (int, float)) and math.isfinite(w) else 0.0
    return 0.0


def device_peak_bytes() -> int | None:
    """The first device's ``peak_bytes_in_use`` so far (monotone over the process; GPU runs), or None where the
    backend does not report it (CPU). The run records' ``device_peak_bytes`` and every benchmark's peak memory."""
    import jax

    try:
        return (jax.devices()[0].memory_stats() or {}).get("peak_bytes_in_use")
    except Exception:  # noqa: BLE001 - CPU backends may not implement it
        return None


def read_jsonl(path: str) -> list[dict]:
    """Reads a ``metrics.jsonl`` file (gzipped when its name ends in ``.gz``, as the kept GPU runs are)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def plot_task_success(run_dir: str, task_names: tuple[str, ...], out: str | None = None) -> str:
    """Saves a per-task success-vs-env-steps PNG (plus the mean) from the run's JSONL; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    x = np.array([r["env_steps"] for r in recs], np.float64)
    fig, ax = plt.subplots(figsize=(8, 5))
    for name in task_names:
        y = np.array([np.nan if r.get(f"task/{name}/success") is None else r[f"task/{name}/success"]
                      for r in recs], np.float64)
        ok = np.isfinite(y)
        ax.plot(x[ok], y[ok], lw=1, marker=".", ms=4, label=name)  # markers: a single point stays visible
    y = np.array([np.nan if r.get("success") is None else r["success"] for r in recs], np.float64)
    ok = np.isfinite(y)
    ax.plot(x[ok], y[ok], "k", lw=2.5, marker="o", ms=4, label="mean")
    ax.set(xlabel="env steps", ylabel="success rate", ylim=(-0.02, 1.02), title=os.path.basename(run_dir))
    ax.legend(fontsize=7, ncol=2)
    out = out or os.path.join(run_dir, "task_success.png")
    fig.savefig(out, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return out
