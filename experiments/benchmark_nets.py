"""Benchmark the multi-task architectures (issue 4): forward + backward time and memory per full PPO batch.

  python -m experiments.benchmark_nets            # GPU: MT10 and MT50 sizes, 24,576 envs x 32 steps
  python -m experiments.benchmark_nets --quick    # CPU: MT10 sizes, 1,024 samples, seconds per network

For every network (actor and critic sized by ``mtjax.nets.preset`` for the suite; PaCo as MTBench's shared
actor-critic) the batch of ``envs x horizon`` samples (786,432 by default) is processed in ``--chunk``-sample
pieces (MTBench's 32,768 minibatch) by a ``lax.scan`` that sums the gradients of a PPO-shaped loss over the
actor mean, log-std and value; the reported time is for the whole batch (median of ``--repeats`` after one
warm-up, ``block_until_ready``). Also: forward-only time for the batch (rollout cost), compile seconds, parameter
counts (actor incl. log-std, critic), XLA's memory estimate of the step (temp + arguments + outputs from
``compiled.memory_analysis()``), and the device's cumulative ``peak_bytes_in_use`` after that network ran
(monotone over the process; use ``--nets`` for a clean per-network peak). Ratios to the plain MLP are included.
JSON goes to ``--out``.
"""

from __future__ import annotations

import json
import os
import time

import jax
import jax.numpy as jnp
from absl import app, flags

from experiments import bench_common
from mtjax import nets
from mtjax.nets import presets

_OUT = flags.DEFINE_string("out", "benchmarks/results/nets.json", "JSON output path.")
_QUICK = flags.DEFINE_bool("quick", False, "Tiny CPU batch (1,024 samples), MT10 sizes only.")
_REPEATS = flags.DEFINE_integer("repeats", None, "Timed repeats after warm-up (default 10; quick 3).")
_ENVS = flags.DEFINE_integer("envs", None, "Environments (default 24576; quick 256).")
_HORIZON = flags.DEFINE_integer("horizon", None, "Steps per env (default 32; quick 4).")
_CHUNK = flags.DEFINE_integer("chunk", None, "Samples per scanned chunk (default 32768; quick 512).")
_SUITES = flags.DEFINE_list("suites", None, "Suites (default mt10,mt50; quick mt10).")
_NETS = flags.DEFINE_list("nets", None, "Networks (default: mlp first, then every preset network).")
_CRITIC_HIDDEN = flags.DEFINE_integer("critic_hidden_dim", 256, "SimbaV2/BRO critic width (scaling study).")

DEFAULT_NETS = ["mlp", "multihead", "moore", "moore_mh", "paco", "care", "care_mh", "softmod", "simba", "bro"]


def _build(net: str, suite: str, chd: int):
    d, t, a = presets.SUITE_DIMS[suite]
    critic = "shared" if net == "paco" else net
    init_fn, apply_fn = nets.make_actor_critic(
        actor_net=net,
        critic_net=critic,
        action_size=a,
        num_tasks=t,
        actor_kwargs=presets.preset(net, suite, "actor", critic_hidden_dim=chd),
        critic_kwargs={}
        if critic == "shared"
        else presets.preset(net, suite, "critic", critic_hidden_dim=chd),
    )
    return init_fn, apply_fn, d, t, a


def _data(d: int, t: int, a: int, n_chunks: int, chunk: int):
    """Task-major samples ``[n_chunks, chunk, ...]``: obs ``d`` + one-hot ``t``, actions, advantages, returns."""
    k = jax.random.split(jax.random.key(0), 4)
    tid = (jnp.arange(n_chunks * chunk) * t // (n_chunks * chunk)).astype(jnp.int32)
    x = jnp.concatenate([jax.random.normal(k[0], (n_chunks * chunk, d)), jax.nn.one_hot(tid, t)], axis=-1)
    shape = (n_chunks, chunk)
    return {
        "x": x.reshape(shape + (d + t,)),
        "tid": tid.reshape(shape),
        "action": jax.random.normal(k[1], shape + (a,)),
        "adv": jax.random.normal(k[2], shape),
        "ret": jax.random.normal(k[3], shape),
    }


def _programs(apply_fn):
    def loss(params, mb):
        mu, log_std, v = apply_fn(params, mb["x"], mb["tid"])
        logp = -0.5 * jnp.sum(((mb["action"] - mu) / jnp.exp(log_std)) ** 2 + 2 * log_std, axis=-1)
        return -jnp.mean(logp * mb["adv"]) + 2.0 * jnp.mean((v - mb["ret"]) ** 2)

    def fwd_bwd(params, data):
        def body(g, mb):
            return jax.tree.map(jnp.add, g, jax.grad(loss)(params, mb)), None

        return jax.lax.scan(body, jax.tree.map(jnp.zeros_like, params), data)[0]

    def fwd(params, data):
        def body(s, mb):
            mu, _, v = apply_fn(params, mb["x"], mb["tid"])
            return s + jnp.sum(mu) + jnp.sum(v), None

        return jax.lax.scan(body, jnp.zeros(()), data)[0]

    return jax.jit(fwd_bwd), jax.jit(fwd)


def _count(tree) -> int:
    return int(sum(x.size for x in jax.tree.leaves(tree)))


def _bench(net, suite, envs, horizon, chunk, repeats, chd) -> dict:
    init_fn, apply_fn, d, t, a = _build(net, suite, chd)
    n = envs * horizon
    chunk = min(chunk, n)
    n_chunks = -(-n // chunk)
    data = _data(d, t, a, n_chunks, chunk)
    params = jax.jit(init_fn)(jax.random.key(1), data["x"][0, :2], data["tid"][0, :2])
    p = params["params"]
    fwd_bwd, fwd = _programs(apply_fn)
    t0 = time.perf_counter()
    compiled = fwd_bwd.lower(params, data).compile()
    compile_s = time.perf_counter() - t0
    mem = compiled.memory_analysis()
    est = (
        None
        if mem is None
        else int(mem.temp_size_in_bytes + mem.argument_size_in_bytes + mem.output_size_in_bytes)
    )
    jax.block_until_ready(compiled(params, data))  # warm-up
    fb = bench_common.median_time(compiled, params, data, repeats=repeats)
    cf = fwd.lower(params, data).compile()
    jax.block_until_ready(cf(params, data))
    fw = bench_common.median_time(cf, params, data, repeats=repeats)
    return {
        "net": net,
        "suite": suite,
        "num_tasks": t,
        "obs": d + t,
        "samples": n_chunks * chunk,
        "chunk": chunk,
        "actor_params": _count(p["actor"]) + _count(p["log_std"]),
        "critic_params": _count(p["critic"]),
        "shared_trunk": net == "paco",
        "fwd_bwd_s": fb,
        "fwd_s": fw,
        "compile_s": compile_s,
        "xla_step_bytes": est,
        "peak_bytes_in_use": bench_common.peak_bytes(),
    }


def main(argv):
    del argv
    quick = _QUICK.value
    envs = _ENVS.value or (256 if quick else 24576)
    horizon = _HORIZON.value or (4 if quick else 32)
    chunk = _CHUNK.value or (512 if quick else 32768)
    repeats = _REPEATS.value or (3 if quick else 10)
    suites = _SUITES.value or (["mt10"] if quick else ["mt10", "mt50"])
    names = _NETS.value or DEFAULT_NETS
    rows = []
    for suite in suites:
        base = None
        for net in names:
            r = _bench(net, suite, envs, horizon, chunk, repeats, _CRITIC_HIDDEN.value)
            if net == "mlp":
                base = r
            if base is not None:
                r["fwd_bwd_vs_mlp"] = r["fwd_bwd_s"] / base["fwd_bwd_s"]
                if r["xla_step_bytes"] and base["xla_step_bytes"]:
                    r["xla_bytes_vs_mlp"] = r["xla_step_bytes"] / base["xla_step_bytes"]
            rows.append(r)
            mb = (r["xla_step_bytes"] or 0) / 2**20
            print(
                f"{suite:5s} {net:10s} actor {r['actor_params']:>10,d} critic {r['critic_params']:>10,d} "
                f"fwd+bwd {r['fwd_bwd_s'] * 1e3:9.1f} ms ({r.get('fwd_bwd_vs_mlp', float('nan')):5.2f}x mlp) "
                f"fwd {r['fwd_s'] * 1e3:8.1f} ms  compile {r['compile_s']:5.1f} s  xla {mb:8.1f} MiB",
                flush=True,
            )
    out = {
        "benchmark": "nets",
        "what": "forward+backward of actor+critic over envs x horizon samples, chunked",
        "envs": envs,
        "horizon": horizon,
        "chunk": chunk,
        "repeats": repeats,
        "quick": quick,
        "critic_hidden_dim": _CRITIC_HIDDEN.value,
        **bench_common.device_info(),
        "rows": rows,
    }
    os.makedirs(os.path.dirname(_OUT.value) or ".", exist_ok=True)
    with open(_OUT.value, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {_OUT.value}")


if __name__ == "__main__":
    app.run(main)
