"""Benchmark MT-PPO: the update alone (MTBench MT10 sizes) and whole iterations on the toy env.

  python -m experiments.benchmark_ppo --out=benchmarks/results/ppo.json        # GPU: 24,576 envs x 32
  python -m experiments.benchmark_ppo --quick                                  # CPU: tiny sizes

Update: 5 mini-epochs over a ``num_envs x 32`` batch (minibatch 32,768), MT10 (T = 10, obs 39 + 10, action 4),
actor and critic MLP [256, 128, 64] ELU; reported as batch samples/s (``num_envs * 32 / seconds``).
Iteration: rollout + update + metrics on the toy env at ``num_envs`` envs, as env steps/s.
Times are medians of repeats after a warm-up call, with ``block_until_ready``; compile time is separate.
"""

from __future__ import annotations

import json
import os
import time

import jax
import jax.numpy as jnp
from absl import app, flags

from envs_bridge import registry
from experiments import bench_common, common
from mtjax import envs, nets
from mtjax.algos import on_policy, ppo

_OUT = flags.DEFINE_string("out", "benchmarks/results/ppo.json", "JSON output path.")
_QUICK = flags.DEFINE_bool("quick", False, "Tiny CPU sizes.")
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed repeats after warm-up.")


def timed(fn, *args, repeats: int = 5) -> tuple[float, float]:
    """``(compile_plus_first_call_s, median_s)`` of ``fn(*args)`` with ``block_until_ready``."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    return first, bench_common.median_time(fn, *args, repeats=repeats)


def bench_update(num_envs: int, horizon: int, minibatch: int, repeats: int) -> dict:
    names = tuple(f"t{k}" for k in range(10))
    ts = envs.TaskSet.even(names, num_envs)
    obs_size, act = 39 + 10, 4
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=act, num_tasks=10)
    cfg = ppo.PPOConfig(horizon=horizon, minibatch_size=minibatch)
    learner = ppo.make_learner(cfg, init_fn, apply_fn, ts, obs_size, act)
    ls = learner.init(jax.random.key(0))
    k = jax.random.split(jax.random.key(1), 4)
    h, n = horizon, num_envs
    ro = ppo.Rollout(
        obs=jnp.concatenate([jax.random.normal(k[0], (h, n, 39)), jnp.broadcast_to(jnp.asarray(ts.one_hot()),
                                                                                     (h, n, 10))], -1),
        action=jax.random.normal(k[1], (h, n, act)), log_prob=jnp.full((h, n), -4.0),
        value=jax.random.normal(k[2], (h, n)), reward=jax.random.normal(k[3], (h, n)),
        done=jnp.zeros((h, n), bool).at[-1].set(True), truncated=jnp.zeros((h, n), bool).at[-1].set(True),
        task_id=jnp.asarray(ts.task_ids))
    upd = jax.jit(learner.update)
    first, med = timed(upd, ls, ro, jnp.zeros(n), jax.random.key(2), repeats=repeats)
    return {"what": "ppo_update", "num_envs": n, "horizon": h, "minibatch_size": minibatch, "epochs": cfg.epochs,
            "num_tasks": 10, "net": "mlp[256,128,64] actor + critic", "compile_s": round(first - med, 2),
            "update_s": med, "batch_samples_per_s": n * h / med,
            "sample_epochs_per_s": n * h * cfg.epochs / med}


def bench_iteration(num_envs: int, horizon: int, minibatch: int, iters: int, repeats: int) -> dict:
    env = registry.make_env("toy", num_envs, num_tasks=10)
    init_fn, apply_fn = nets.make_actor_critic(actor_net="mlp", critic_net="mlp", action_size=2, num_tasks=10)
    cfg = ppo.PPOConfig(horizon=horizon, minibatch_size=minibatch)
    tr = on_policy.make_train(cfg, env, init_fn, apply_fn)
    chunk = jax.jit(tr.train_chunk, static_argnums=1)
    s = jax.jit(tr.init)(jax.random.key(0))
    first, med = timed(lambda st: chunk(st, iters), s, repeats=repeats)
    return {"what": "toy_iteration", "num_envs": num_envs, "horizon": horizon, "iterations_per_call": iters,
            "compile_s": round(first - med, 2), "iteration_s": med / iters,
            "env_steps_per_s": num_envs * horizon * iters / med}


def main(argv):
    del argv
    common.enable_compile_cache()
    n, mb, it = (24576, 32768, 5) if not _QUICK.value else (256, 1024, 2)
    rows = [bench_update(n, 32, mb, _REPEATS.value), bench_iteration(n, 32, mb, it, _REPEATS.value)]
    out = {**bench_common.device_info(), "results": rows, "peak_memory_bytes": bench_common.peak_bytes()}
    for r in rows:
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(_OUT.value)), exist_ok=True)
    with open(_OUT.value, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    app.run(main)
