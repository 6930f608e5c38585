"""Throughput of the Meta-World MT10 / MT50 MJX environment (``envs_bridge.metaworld``) with random actions.

Measures what a training step needs from the env: physics substeps, observation, reward, success and auto-reset
(``env.step``), for each batch size; plus a profile that times the physics alone and the reset alone. Usage:

    python experiments/benchmark_envs.py                 # 24,576 and 4,096 envs (GPU)
    python experiments/benchmark_envs.py --quick         # CPU smoke size
    python experiments/benchmark_envs.py --suite mt50 --envs 24576 --out benchmarks/results/metaworld_mt50_envs.json
Writes JSON to ``--out`` (default ``benchmarks/results/metaworld_mt10_envs.json``).
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
import jax.numpy as jnp
import mujoco

from envs_bridge import physics_impl
from envs_bridge.metaworld import MT50_TASKS, TASKS, make_metaworld, mt50_physics_graphs, scenes
from experiments import bench_common


def _time(fn, args, repeats):
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    compile_s = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn(out, *args[1:]))
        times.append(time.perf_counter() - t0)
    return compile_s, statistics.median(times)


def _progress(msg: str) -> None:
    """A timestamped line, flushed: a run stopped by a time limit still shows how far each phase got."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def bench(num_envs: int, steps_per_call: int, repeats: int, frame_skip: int, profile: bool,
          task_names=TASKS, **env_kwargs) -> dict:
    t0 = time.perf_counter()
    env = make_metaworld(task_names, num_envs, frame_skip=frame_skip, random_init_step=True, **env_kwargs)
    _progress(f"{num_envs} envs: env built in {time.perf_counter() - t0:.1f} s; compiling reset ...")
    t0 = time.perf_counter()
    state = jax.block_until_ready(jax.jit(env.reset)(jax.random.key(0)))
    reset_s = time.perf_counter() - t0
    _progress(f"{num_envs} envs: reset compiled and run in {reset_s:.1f} s; compiling step ...")

    def run(state, key):
        def body(s, k):
            a = jax.random.uniform(k, (num_envs, 4), minval=-1.0, maxval=1.0)
            s = env.step(s, a)
            return s, s.info["success"].mean()

        return jax.lax.scan(body, state, jax.random.split(key, steps_per_call))

    run_j = jax.jit(run, donate_argnums=0)
    key = jax.random.key(1)
    compile_s, med = _time(lambda s, k: run_j(s, k)[0], (state, key), repeats)
    _progress(f"{num_envs} envs: step compiled and run once in {compile_s:.1f} s")
    res = {"num_envs": num_envs, "envs_per_task": list(env.task_set.envs_per_task),
           "steps_per_call": steps_per_call, "compile_s": round(compile_s, 2), "reset_compile_s": round(reset_s, 2),
           "median_call_s": med, "env_steps_per_s": num_envs * steps_per_call / med,
           "peak_device_bytes": bench_common.peak_bytes()}
    if profile:
        res["profile"] = _profile(env, num_envs, steps_per_call, repeats)
    return res


def _profile(env, num_envs, steps_per_call, repeats) -> dict:
    """Seconds per env step of the physics alone and of the (always computed) reset alone."""
    state = jax.jit(env.reset)(jax.random.key(0))

    def physics(sim, key):
        a = jax.random.uniform(key, (num_envs, 4), minval=-1.0, maxval=1.0)
        actions = [a[off:off + n] for off, n in zip(env.task_set.offsets, env.task_set.envs_per_task)]

        def body(sim, _):
            return tuple(b.replace(data=d) for b, d in zip(sim, env._physics(sim, actions))), None

        return jax.lax.scan(body, sim, None, length=steps_per_call)[0]

    def resets(key):
        def body(c, k):
            zeros = [jnp.zeros((n,), jnp.int32) for n in env.task_set.envs_per_task]
            keys = [jax.random.fold_in(k, i) for i in range(env.num_tasks)]
            outs = [b.prev.sum() for b in env._reset_blocks(keys, zeros, zeros)]
            return c + sum(outs), None

        return jax.lax.scan(body, 0.0, jax.random.split(key, steps_per_call))[0]

    pj = jax.jit(physics)
    _, t_phys = _time(lambda d, k: pj(d, k), (state.sim, jax.random.key(2)), repeats)
    rj = jax.jit(resets)
    rj(jax.random.key(3)).block_until_ready()
    ts = []
    for i in range(repeats):
        t0 = time.perf_counter()
        rj(jax.random.key(4 + i)).block_until_ready()
        ts.append(time.perf_counter() - t0)
    return {"physics_s_per_step": t_phys / steps_per_call,
            "reset_s_per_step": statistics.median(ts) / steps_per_call}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--envs", default="24576,4096", help="comma-separated batch sizes")
    p.add_argument("--steps-per-call", type=int, default=10)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--frame-skip", type=int, default=1)
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--hand", default="floating", help="hand model: floating or arm (scenes.HANDS)")
    p.add_argument("--iterations", type=int, default=4, help="Newton (and line-search) iterations")
    p.add_argument("--suite", default="mt10", choices=("mt10", "mt50"), help="the task list (default of --tasks)")
    p.add_argument("--tasks", default="", help="comma-separated tasks (default: every task of --suite)")
    p.add_argument("--physics-graphs", default="auto",
                   help="MetaWorldEnv's physics_graphs: an int, 'none' (one per task) or 'auto' (the registry's: "
                        "none for mt10 and on Warp, MT50_PHYSICS_GRAPHS for mt50 on MJX-JAX); on Warp an int "
                        "steps each group in one Warp call (1: the fewest groups, envs_bridge/metaworld/warp_groups.py)")
    p.add_argument("--level-barriers", default="auto", choices=("auto", "on", "off"),
                   help="MetaWorldEnv's level_barriers (auto: on for the arm only; envs_bridge/mjx_levels.py)")
    p.add_argument("--physics-impl", default="jax", choices=physics_impl.IMPLS,
                   help="MetaWorldEnv's physics_impl: MJX-JAX or MuJoCo Warp (envs_bridge/physics_impl.py)")
    p.add_argument("--warp-graph-mode", default="default", choices=physics_impl.GRAPH_MODES,
                   help="MetaWorldEnv's warp_graph_mode: MuJoCo Warp's CUDA-graph capture per call")
    p.add_argument("--quick", action="store_true", help="CPU smoke size: 20 envs, 2 steps per call, 2 repeats")
    p.add_argument("--out", default="benchmarks/results/metaworld_mt10_envs.json")
    args = p.parse_args(argv)
    names = tuple(args.tasks.split(",")) if args.tasks else (TASKS if args.suite == "mt10" else MT50_TASKS)
    sizes = [2 * len(names)] if args.quick else [int(x) for x in args.envs.split(",")]
    spc, reps = (2, 2) if args.quick else (args.steps_per_call, args.repeats)
    choice = args.physics_graphs.lower()
    if choice == "auto":
        graphs = None if args.suite == "mt10" else mt50_physics_graphs(args.physics_impl)
    else:
        graphs = None if choice == "none" else int(choice)
    kw = {"hand": args.hand, "iterations": args.iterations, "ls_iterations": args.iterations,
          "physics_graphs": graphs,
          "level_barriers": {"auto": None, "on": True, "off": False}[args.level_barriers],
          "physics_impl": args.physics_impl, "warp_graph_mode": args.warp_graph_mode}
    env0 = make_metaworld(names, len(names), frame_skip=args.frame_skip, **kw)
    out = {"what": f"{len(names)}-task MetaWorldEnv.step (physics, obs, reward, success, auto-reset), uniform random actions",
           "device": jax.devices()[0].device_kind, "platform": jax.devices()[0].platform,
           "jax": jax.__version__, "mujoco": mujoco.__version__, "python": platform.python_version(),
           "tasks": list(names), "frame_skip": args.frame_skip, **kw, "timestep": scenes.CONTROL_DT / args.frame_skip,
           "contact_slots": env0.contact_slots, "physics_graphs_built": env0.physics_graphs, "results": []}
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    for i, n in enumerate(sizes):
        r = bench(n, spc, reps, args.frame_skip, profile=(i == 0 and not args.no_profile), task_names=names, **kw)
        out["results"].append(r)
        print(f"{n:6d} envs: {r['env_steps_per_s']:12,.0f} env steps/s  compile {r['compile_s']:.1f} s  "
              f"peak mem {r['peak_device_bytes']}  {r.get('profile', '')}", flush=True)
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()
