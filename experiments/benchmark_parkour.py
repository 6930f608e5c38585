"""Throughput of the Go1 parkour MJX env (``envs_bridge.parkour``, ``docs/parkour.md``) with random actions.

Times ``env.step`` (nearest-box broad phase, 4 PD substeps of MJX physics, goals, rewards, observation with the
analytic height scan, auto-reset with the curriculum) in a jitted ``lax.scan``, over a sweep of ``active_boxes``
(box contact slots) x solver ``iterations``, at MTBench's 4,096 envs over all 21 terrain types (spec 2.8b).
Each configuration is one compile; results are written after each, and the sweep stops early when the next
configuration would overrun ``--budget-s``. Usage:

    python experiments/benchmark_parkour.py                       # GPU: 4,096 envs, boxes 6,5,4 x iterations 4,2
    python experiments/benchmark_parkour.py --quick               # CPU smoke: 1 flat env, 1 box slot, 1 iteration
    python experiments/benchmark_parkour.py --physics-impl warp   # the same sweep on MuJoCo Warp (warp-lang)
Writes JSON to ``--out`` (default ``benchmarks/results/parkour_envs.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import jax
import mujoco

from envs_bridge import physics_impl as physics_impls
from envs_bridge.parkour import TASKS, make_parkour
from experiments import bench_common


def bench(num_envs: int, tasks, active_boxes: int, iterations: int, steps_per_call: int, repeats: int,
          mode: str = "hard_cl", physics_impl: str = "jax", warp_graph_mode: str = "default") -> dict:
    """One configuration: compile seconds, median seconds per call, env steps/s, peak device bytes."""
    env = make_parkour(mode, num_envs, tasks=tasks, active_boxes=active_boxes, iterations=iterations,
                       ls_iterations=iterations, physics_impl=physics_impl, warp_graph_mode=warp_graph_mode)
    state = jax.jit(env.reset)(jax.random.key(0))

    def run(state, key):
        def body(s, k):
            a = jax.random.normal(k, (num_envs, env.action_size))
            s = env.step(s, a)
            return s, s.info["progress"].mean()

        return jax.lax.scan(body, state, jax.random.split(key, steps_per_call))

    run_j = jax.jit(run, donate_argnums=0)
    t0 = time.perf_counter()
    state, _ = jax.block_until_ready(run_j(state, jax.random.key(1)))
    compile_s = time.perf_counter() - t0
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        state, prog = jax.block_until_ready(run_j(state, jax.random.key(2 + i)))
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return {"num_envs": num_envs, "active_boxes": active_boxes, "active_spheres": env.active_spheres,
            "iterations": iterations, "ls_iterations": iterations, "contact_slots": env.contact_slots,
            "steps_per_call": steps_per_call, "repeats": repeats, "compile_s": round(compile_s, 2),
            "median_call_s": med, "env_steps_per_s": num_envs * steps_per_call / med,
            "substeps_per_s": 4 * num_envs * steps_per_call / med, "peak_device_bytes": bench_common.peak_bytes(),
            "finite": bool(jax.numpy.isfinite(state.obs).all()), "mean_progress_last": float(prog[-1])}


def _warp_version() -> str:
    import warp

    return warp.__version__


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--envs", type=int, default=4096, help="MTBench's env count (spec 2.8b)")
    p.add_argument("--boxes", default="6,5,4", help="comma-separated active_boxes values")
    p.add_argument("--iterations", default="4,2", help="comma-separated solver (and line-search) iterations")
    p.add_argument("--steps-per-call", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--mode", default="hard_cl")
    p.add_argument("--budget-s", type=float, default=230.0, help="skip configurations that would overrun this")
    p.add_argument("--quick", action="store_true", help="CPU smoke: 1 flat env, 1 box, 1 iteration, 1 step")
    p.add_argument("--physics-impl", default="jax", choices=physics_impls.IMPLS,
                   help="physics_impl: MJX-JAX or MuJoCo Warp (envs_bridge/parkour/warp_physics.py)")
    p.add_argument("--warp-graph-mode", default="default", choices=physics_impls.GRAPH_MODES,
                   help="Warp's CUDA-graph capture (physics_impl='warp' only; default: MJX's choice)")
    p.add_argument("--out", default="benchmarks/results/parkour_envs.json")
    args = p.parse_args(argv)
    if args.quick:
        tasks, n, grid, spc, reps = ("flat",), 1, [(1, 1)], 1, 1
    else:
        tasks, n, spc, reps = TASKS, args.envs, args.steps_per_call, args.repeats
        grid = [(int(b), int(i)) for i in args.iterations.split(",") for b in args.boxes.split(",")]
    dev = jax.devices()[0]
    out = {"what": f"{len(tasks)}-task ParkourEnv.step ({args.mode}), N(0, 1) actions, 4 substeps of 5 ms per step",
           "device": dev.device_kind, "platform": dev.platform, "jax": jax.__version__, "mujoco": mujoco.__version__,
           "python": platform.python_version(), "tasks": list(tasks), "num_envs": n, "substeps": 4,
           "physics_impl": args.physics_impl, "warp_graph_mode": args.warp_graph_mode,
           "warp_lang": _warp_version() if args.physics_impl == "warp" else None,
           "results": [], "skipped": []}
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    start = time.perf_counter()
    for boxes, iters in grid:
        spent = time.perf_counter() - start
        last = out["results"][-1] if out["results"] else None
        need = last["compile_s"] + (reps + 1) * last["median_call_s"] if last else 0.0
        if not args.quick and spent + need > args.budget_s:
            out["skipped"].append({"active_boxes": boxes, "iterations": iters})
            continue
        r = bench(n, tasks, boxes, iters, spc, reps, args.mode, args.physics_impl, args.warp_graph_mode)
        out["results"].append(r)
        print(f"boxes {boxes} iterations {iters}: {r['env_steps_per_s']:12,.0f} env steps/s  compile "
              f"{r['compile_s']:.1f} s  peak mem {r['peak_device_bytes']}  contacts {r['contact_slots']}", flush=True)
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()
