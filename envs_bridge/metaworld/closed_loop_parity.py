"""Closed-loop parity over Meta-World's 50 seeded variations per task: our env under Meta-World's scripted policy,
one 500-step episode on each variation, against the real env's figures for the same variations.

``trajectory_parity`` compares closed-loop success on the fixture's episodes (MT50: 5 per task), where one episode
is 20 points of a share: a task whose episodes either hold success or lose it (box-close, peg-unplug-side) passes
or misses on the draw. Here every task runs the 50 variations the real figures were recorded on (``MT10(seed=0)``
for the ten MT10 tasks, ``MT50(seed=0)`` for the other forty: ``tasks.RAND_VECS_PATH`` / ``RAND_VECS_MT50_PATH``),
physics by C MuJoCo with the env's own reset, observation and reward code (``cpu_sim.CpuRollout``), ~35 s per task
on one CPU core.

``REAL`` holds, per task, Meta-World 3.1.1's own numbers under its scripted policy (recorded with the real env;
``../shared/reference/metaworld_tasks.md`` sections 4.3, seed 0, and 4.4): the share of episodes with success at
any step, the mean first success step (1-based, over the successful episodes) and the share with success at step
500. Targets, as the issue's closed-loop ones: any-step and final-step shares each within 10 points of the real
env; the mean first success step within 50 steps (10 % of the episode) is reported beside them.

Usage: python -m envs_bridge.metaworld.closed_loop_parity --hand arm --frame-skip 4 --iterations 4 --workers 2 \
    --json benchmarks/results/metaworld_closed_loop_50var_arm_fs4_cpu.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time

import numpy as np

__all__ = ["REAL", "compare", "run_task", "summarise"]

# {task: (any-step success share, mean first success step, final-step success share)}, 50 variations x 500 steps.
REAL: dict[str, tuple[float, float, float]] = {
    "reach": (1.00, 48.0, 1.00), "push": (1.00, 61.8, 0.48), "pick-place": (1.00, 52.8, 1.00),
    "door-open": (0.92, 84.6, 0.00), "drawer-open": (1.00, 88.7, 1.00), "drawer-close": (1.00, 78.3, 1.00),
    "button-press-topdown": (1.00, 65.8, 1.00), "peg-insert-side": (0.88, 110.7, 0.44),
    "window-open": (1.00, 86.6, 1.00), "window-close": (1.00, 80.5, 1.00),
    "assembly": (1.00, 89.5, 1.00), "basketball": (1.00, 94.0, 0.94), "bin-picking": (1.00, 123.9, 1.00),
    "box-close": (0.86, 108.9, 0.50), "button-press-topdown-wall": (1.00, 56.5, 1.00),
    "button-press": (1.00, 59.6, 1.00), "button-press-wall": (0.94, 65.0, 0.94), "coffee-button": (1.00, 34.8, 0.00),
    "coffee-pull": (1.00, 79.8, 1.00), "coffee-push": (1.00, 55.2, 0.54), "dial-turn": (1.00, 73.8, 1.00),
    "disassemble": (0.94, 127.6, 0.94), "door-close": (1.00, 67.4, 1.00), "door-lock": (1.00, 83.1, 1.00),
    "door-unlock": (1.00, 44.8, 0.84), "hand-insert": (1.00, 60.5, 0.86), "faucet-open": (1.00, 58.6, 0.68),
    "faucet-close": (1.00, 64.6, 0.68), "hammer": (1.00, 66.9, 1.00), "handle-press-side": (1.00, 39.3, 0.00),
    "handle-press": (1.00, 32.7, 0.00), "handle-pull-side": (1.00, 78.6, 0.12), "handle-pull": (1.00, 108.1, 1.00),
    "lever-pull": (1.00, 79.7, 0.00), "pick-place-wall": (1.00, 85.2, 0.96), "pick-out-of-hole": (1.00, 116.1, 0.42),
    "plate-slide": (1.00, 50.8, 0.96), "plate-slide-side": (1.00, 48.1, 0.00),
    "plate-slide-back": (1.00, 61.2, 0.00), "plate-slide-back-side": (1.00, 45.6, 0.00),
    "peg-unplug-side": (0.98, 116.6, 0.00), "soccer": (0.78, 74.1, 0.78), "stick-push": (1.00, 73.7, 0.00),
    "stick-pull": (0.96, 120.7, 0.24), "push-wall": (1.00, 79.0, 0.08), "push-back": (0.98, 160.4, 0.08),
    "reach-wall": (1.00, 47.5, 1.00), "shelf-place": (0.96, 97.1, 0.38), "sweep-into": (0.88, 52.9, 0.40),
    "sweep": (1.00, 86.6, 1.00),
}
SHARE_TOL = 0.10  # any-step and final-step shares: within 10 points of the real env
FIRST_TOL = 50.0  # mean first success step: within 10 % of the 500-step episode


def summarise(success: np.ndarray) -> tuple[float, float, float]:
    """``(any, mean first step, final)`` of a ``[episodes, steps]`` success array, as ``REAL`` counts them (first
    step 1-based, over the episodes that succeed; NaN where none does)."""
    s = np.asarray(success, bool)
    hit = s.any(1)
    first = np.argmax(s, 1)[hit] + 1
    return float(hit.mean()), float(first.mean()) if hit.any() else float("nan"), float(s[:, -1].mean())


def compare(ours: tuple[float, float, float], real: tuple[float, float, float]) -> dict:
    """The three figures side by side and which targets hold (``ok_closed``: both shares within ``SHARE_TOL``)."""
    ok_any = abs(ours[0] - real[0]) <= SHARE_TOL + 1e-9
    ok_final = abs(ours[2] - real[2]) <= SHARE_TOL + 1e-9
    ok_first = bool(np.isfinite(ours[1]) and abs(ours[1] - real[1]) <= FIRST_TOL)
    return {"any": ours[0], "any_real": real[0], "first": ours[1], "first_real": real[1], "final": ours[2],
            "final_real": real[2], "ok_any": ok_any, "ok_final": ok_final, "ok_first": ok_first,
            "ok_closed": ok_any and ok_final}


def run_task(task: str, episodes: int = 50, steps: int = 500, **env_kwargs) -> np.ndarray:
    """``[episodes, steps]`` success flags of our scripted policy on the task's first ``episodes`` variations."""
    import jax

    from envs_bridge.metaworld import policies_mt50, tasks
    from envs_bridge.metaworld.cpu_sim import CpuRollout

    path = tasks.RAND_VECS_PATH if task in tasks.TASKS else tasks.RAND_VECS_MT50_PATH
    rand_vecs = tasks.load_rand_vecs(task, path)[:episodes]
    cpu = CpuRollout(task, len(rand_vecs), **env_kwargs)
    policy = jax.jit(jax.vmap(policies_mt50.POLICIES_MT50[task]))
    obs, flags = cpu.reset(rand_vecs), []
    for _ in range(steps):
        obs, _reward, success, _info = cpu.step(np.asarray(policy(obs)).astype(np.float32))
        flags.append(np.asarray(success))
    return np.stack(flags, 1)


def _one(args: tuple) -> tuple[str, dict, float]:
    task, episodes, steps, env_kwargs = args
    t0 = time.perf_counter()
    row = compare(summarise(run_task(task, episodes, steps, **env_kwargs)), REAL[task])
    return task, row, time.perf_counter() - t0


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", nargs="+", default=None, help="default: all fifty")
    p.add_argument("--hand", default="arm", help="floating or arm (scenes.HANDS)")
    p.add_argument("--frame-skip", type=int, default=4)
    p.add_argument("--iterations", type=int, default=4, help="Newton (and line-search) iterations")
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--workers", type=int, default=1, help="processes (one task each at a time)")
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    names = a.tasks or list(REAL)
    unknown = sorted(set(names) - set(REAL))
    if unknown:
        raise SystemExit(f"unknown tasks {unknown}; valid: {sorted(REAL)}")
    kw = {"hand": a.hand, "frame_skip": a.frame_skip, "iterations": a.iterations, "ls_iterations": a.iterations}
    jobs = [(t, a.episodes, a.steps, kw) for t in names]
    rows, t0 = {}, time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(a.workers) as pool:
        for task, row, sec in pool.imap_unordered(_one, jobs):
            rows[task] = row
            print(f"{task:26s} any {row['any']:.2f} ({row['any_real']:.2f})  first {row['first']:6.1f} "
                  f"({row['first_real']:6.1f})  final {row['final']:.2f} ({row['final_real']:.2f})  "
                  f"{'ok' if row['ok_closed'] else 'MISS'}  {sec:.0f} s", flush=True)
    rows = {t: rows[t] for t in names}
    n_ok = sum(r["ok_closed"] for r in rows.values())
    print(f"closed loop (any and final within {SHARE_TOL:.2f}): {n_ok} of {len(rows)}; "
          f"first step within {FIRST_TOL:.0f}: {sum(r['ok_first'] for r in rows.values())}; "
          f"{time.perf_counter() - t0:.0f} s")
    if a.json:
        import mujoco

        with open(a.json, "w") as f:
            json.dump({"what": "closed-loop parity over 50 variations (envs_bridge/metaworld/closed_loop_parity.py)",
                       "physics": {**kw, "backend": "C MuJoCo (cpu_sim.CpuRollout)"}, "episodes": a.episodes,
                       "steps": a.steps, "mujoco": mujoco.__version__, "ok_closed": n_ok, "tasks": rows},
                      f, indent=1)


if __name__ == "__main__":
    main()
