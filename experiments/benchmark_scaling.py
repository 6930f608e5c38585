"""Benchmark the MT-PPO iteration on 1..N devices of one host (``mtjax.sharding``): env steps/s and efficiency.

  python -m experiments.benchmark_scaling --out=benchmarks/results/scaling.json          # GPU: MT10, 24k and 49k envs
  XLA_FLAGS=--xla_force_host_platform_device_count=2 python -m experiments.benchmark_scaling --quick   # CPU check

For each env count and device count: the whole training iteration (rollout + 5 PPO epochs + metrics) of MTBench's
MT10 settings (``mt10_ppo.py``: horizon 32, minibatch 32,768) on ``--env`` (``mt10`` = the MJX Meta-World), median
of repeated ``iters``-iteration calls after a warm-up, ``block_until_ready``. Scaling efficiency = steps/s on n
devices / (n x steps/s on one device).
"""

from __future__ import annotations

import json
import os
import time

import jax
from absl import app, flags

from envs_bridge import registry
from experiments import bench_common, common
from mtjax import nets, sharding
from mtjax.algos import on_policy, ppo

_OUT = flags.DEFINE_string("out", "benchmarks/results/scaling.json", "JSON output path.")
_ENV = flags.DEFINE_string("env", "mt10", "Environment (registry name).")
_ENVS = flags.DEFINE_list("num_envs", ["24576", "49152"], "Env counts.")
_DEVICES = flags.DEFINE_list("devices", [], "Device counts (default: 1 and all visible).")
_ITERS = flags.DEFINE_integer("iters", 4, "Iterations per timed call.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed repeats after warm-up.")
_QUICK = flags.DEFINE_bool("quick", False, "Toy env, 256 envs, tiny minibatch (CPU check).")


def timed(fn, *args, repeats: int) -> tuple[float, float]:
    """``(compile_plus_first_call_s, median_s)`` of ``fn(*args)`` with ``block_until_ready``."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0, bench_common.median_time(fn, *args, repeats=repeats)


def bench(env_name: str, num_envs: int, num_devices: int, minibatch: int, iters: int, repeats: int) -> dict:
    env = registry.make_env(env_name, num_envs)
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=env.action_size,
                                               num_tasks=env.num_tasks)
    tr = on_policy.make_train(ppo.PPOConfig(horizon=32, minibatch_size=minibatch), env, init_fn, apply_fn)
    state = sharding.shard_train_state(jax.jit(tr.init)(jax.random.key(0)), sharding.env_mesh(num_devices))
    chunk = jax.jit(tr.train_chunk, static_argnums=1)
    holder = {"s": state}

    def call(_):
        holder["s"], m = chunk(holder["s"], iters)
        return m

    first, med = timed(call, None, repeats=repeats)
    return {"env": env_name, "num_envs": num_envs, "devices": num_devices, "iterations_per_call": iters,
            "compile_s": round(first - med, 2), "iteration_s": med / iters,
            "env_steps_per_s": num_envs * 32 * iters / med}


def main(argv):
    del argv
    common.enable_compile_cache()
    env_name, counts, mb = (("toy", [256], 1024) if _QUICK.value
                            else (_ENV.value, [int(x) for x in _ENVS.value], 32768))
    devices = [int(x) for x in _DEVICES.value] or sorted({1, len(jax.devices())})
    rows = []
    for n_env in counts:
        base = None
        for n_dev in devices:
            r = bench(env_name, n_env, n_dev, mb, _ITERS.value, _REPEATS.value)
            base = r["env_steps_per_s"] if n_dev == 1 else base
            if base:
                r["scaling_efficiency"] = r["env_steps_per_s"] / (n_dev * base)
            rows.append(r)
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
    out = {**bench_common.device_info(), "visible_devices": len(jax.devices()), "results": rows,
           "peak_memory_bytes": bench_common.peak_bytes()}
    os.makedirs(os.path.dirname(os.path.abspath(_OUT.value)), exist_ok=True)
    with open(_OUT.value, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    app.run(main)
