"""Benchmark the multi-task gradient transforms inside one MT-PPO critic update (issue 3).

  python -m experiments.benchmark_transforms                       # GPU: T = 10 and 50, 32,768-sample minibatch
  python -m experiments.benchmark_transforms --quick               # CPU: tiny sizes, seconds
  python -m experiments.benchmark_transforms --solver_unroll=1     # the inner solvers' unroll factor

One step = MTBench's critic (MLP [256, 128, 64] ELU on obs 39 + T, linear value head) on a task-major minibatch
``[T, B/T, 39 + T]`` (B = 32,768, MTBench's MT10/MT50 PCGrad minibatch): per-task clipped value losses,
``jax.vmap(jax.value_and_grad(...))`` per-task gradients, ``make_mtrl(method, "critic")`` aggregation,
``clip_by_global_norm(1)``, Adam and the parameter update -- jitted once with donated state. Reported per
(method, T): median wall time after warm-up (``block_until_ready``), its ratio to ``mean`` (target <= 1.3 at
T = 50), the aggregation alone on precomputed gradients, compile seconds, and memory: XLA's static estimate
for the step (``compiled.memory_analysis()``: temp + arguments + outputs) and the device's cumulative
``peak_bytes_in_use`` after the method ran (monotone over the run; run a single method with ``--methods`` for
a clean process peak). JSON goes to ``--out``.
"""

from __future__ import annotations

import inspect
import json
import os
import time

import jax
import jax.numpy as jnp
import optax
from absl import app, flags

from experiments import bench_common
from mtjax import nets, transforms
from mtjax.nets import presets

_OUT = flags.DEFINE_string("out", "benchmarks/results/transforms.json", "JSON output path.")
_QUICK = flags.DEFINE_bool("quick", False, "Tiny CPU sizes.")
_REPEATS = flags.DEFINE_integer("repeats", 20, "Timed repeats after warm-up.")
_TASKS = flags.DEFINE_list("tasks", None, "Task counts (default 10,50; quick 4,10).")
_MINIBATCH = flags.DEFINE_integer("minibatch", None, "Samples per minibatch (default 32768; quick 512).")
_METHODS = flags.DEFINE_list("methods", None, "Methods (default: mean first, then every registered one).")
_KWARGS = flags.DEFINE_string("kwargs", "{}", 'JSON {method: {option: value}}, e.g. {"cagrad": {"num_iters": 50}}.')
_VARIANTS = flags.DEFINE_bool("variants", True, "Also time cheaper solver settings (see VARIANTS).")
_UNROLL = flags.DEFINE_integer("solver_unroll", None,
                               "solver_unroll of every method that takes one (default: each method's own).")

# Cheaper solver settings timed as extra rows (warm starts make few iterations enough in training; the
# pairwise projection avoids a sort and a cumsum per CAGrad iteration).
VARIANTS = (("cagrad", {"projection": "pairwise"}), ("cagrad", {"projection": "pairwise", "num_iters": 20}),
            ("upgrad", {"num_iters": 50}))


def _problem(t: int, minibatch: int):
    obs = 39 + t
    b = minibatch // t
    critic = nets.make_net("mlp", out_dim=1, num_tasks=t, **presets.preset("mlp", "mt10", "critic"))
    k = jax.random.split(jax.random.key(0), 4)
    x = jax.random.normal(k[0], (t, b, obs))
    x = x.at[..., 39:].set(jax.nn.one_hot(jnp.arange(t), t)[:, None, :])
    tid = jnp.broadcast_to(jnp.arange(t)[:, None], (t, b))
    params = {"params": {"critic": critic.init(k[1], x[0], tid[0])["params"]}}
    data = {"x": x, "tid": tid, "ret": jax.random.normal(k[2], (t, b)), "v_old": jax.random.normal(k[3], (t, b))}

    def task_loss(p, d):
        v = critic.apply({"params": p["params"]["critic"]}, d["x"], d["tid"])[:, 0]
        v_clip = d["v_old"] + jnp.clip(v - d["v_old"], -0.2, 0.2)
        return jnp.mean(jnp.maximum((v - d["ret"]) ** 2, (v_clip - d["ret"]) ** 2))

    return params, data, jax.vmap(jax.value_and_grad(task_loss), in_axes=(None, 0)), b


def bench(method: str, t: int, minibatch: int, repeats: int, kwargs: dict) -> dict:
    params, data, grad_fn, b = _problem(t, minibatch)
    agg = transforms.make_mtrl(method, "critic", num_tasks=t, **kwargs)
    tx = optax.chain(agg, optax.clip_by_global_norm(1.0), optax.adam(5e-4, eps=1e-8))

    def step(params, opt_state, key, data):
        losses, grads = grad_fn(params, data)
        upd, opt_state = tx.update(grads, opt_state, params, key=key, task_losses=losses,
                                   critic_task_losses=losses, actor_task_losses=losses)
        return optax.apply_updates(params, upd), opt_state

    opt_state = tx.init(params)
    key = jax.random.key(1)
    t0 = time.perf_counter()
    compiled = jax.jit(step, donate_argnums=(0, 1)).lower(params, opt_state, key, data).compile()
    compile_s = time.perf_counter() - t0
    mem = compiled.memory_analysis()
    static_bytes = None if mem is None else int(mem.temp_size_in_bytes + mem.argument_size_in_bytes
                                                + mem.output_size_in_bytes)

    state = {"p": params, "o": opt_state}

    def run():
        state["p"], state["o"] = compiled(state["p"], state["o"], key, data)
        return state["p"]

    for _ in range(3):  # warm-up
        jax.block_until_ready(run())
    step_s = bench_common.median_time(run, repeats=repeats)

    grads = jax.jit(grad_fn)(state["p"], data)[1]
    agg_fn = jax.jit(lambda g, s, p: agg.update(g, s, p, key=key, task_losses=jnp.ones(t),
                                                critic_task_losses=jnp.ones(t), actor_task_losses=jnp.ones(t)))
    agg_state = agg.init(state["p"])
    jax.block_until_ready(agg_fn(grads, agg_state, state["p"]))
    agg_s = bench_common.median_time(agg_fn, grads, agg_state, state["p"], repeats=repeats)
    n_params = sum(x.size for x in jax.tree.leaves(params))
    label = method + ("" if not kwargs else "{" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + "}")
    return {"method": label, "num_tasks": t, "minibatch": b * t, "per_task": b, "critic_params": int(n_params),
            "kwargs": kwargs, "compile_s": round(compile_s, 3), "step_ms": step_s * 1e3, "aggregate_ms": agg_s * 1e3,
            "static_bytes": static_bytes, "device_peak_bytes": bench_common.peak_bytes()}


def main(argv):
    del argv
    try:
        from experiments import common
        common.enable_compile_cache()
    except Exception:  # noqa: BLE001 - the cache is an optimisation only
        pass
    tasks = [int(x) for x in (_TASKS.value or (["4", "10"] if _QUICK.value else ["10", "50"]))]
    minibatch = _MINIBATCH.value or (512 if _QUICK.value else 32768)
    repeats = 3 if _QUICK.value and _REPEATS.value == 20 else _REPEATS.value
    methods = _METHODS.value or ["mean"] + [m for m in transforms.method_names() if m not in ("mean", "sum")]
    all_kwargs = json.loads(_KWARGS.value)
    if _UNROLL.value is not None:
        for m in methods:
            if "solver_unroll" in inspect.signature(transforms.registry.METHODS[m]).parameters:
                all_kwargs[m] = {"solver_unroll": _UNROLL.value, **all_kwargs.get(m, {})}
    rows = []
    for t in tasks:
        base_ms = None
        runs = [(m, all_kwargs.get(m, {})) for m in methods]
        if _VARIANTS.value and not _METHODS.value:
            runs += [(m, {**all_kwargs.get(m, {}), **kw}) for m, kw in VARIANTS]
        for m, kw in runs:
            r = bench(m, t, minibatch, repeats, kw)
            if m == "mean":
                base_ms = r["step_ms"]
            r["ratio_to_mean"] = None if base_ms is None else r["step_ms"] / base_ms
            r["meets_1_3x"] = None if base_ms is None else r["step_ms"] <= 1.3 * base_ms
            rows.append(r)
            print(f"T={t:3d} {r['method']:34s} step {r['step_ms']:9.3f} ms  x{(r['ratio_to_mean'] or 0):5.2f}  "
                  f"aggregate {r['aggregate_ms']:8.3f} ms  compile {r['compile_s']:6.2f} s  "
                  f"static {(r['static_bytes'] or 0) / 2**20:8.1f} MiB  peak {(r['device_peak_bytes'] or 0) / 2**20:8.1f} MiB",
                  flush=True)
    out = {**bench_common.device_info(optax=optax.__version__), "what": "one MT-PPO critic update per method (see module docstring)",
           "critic": "mlp[256,128,64] elu, obs 39+T", "repeats": repeats, "results": rows}
    os.makedirs(os.path.dirname(os.path.abspath(_OUT.value)), exist_ok=True)
    with open(_OUT.value, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {_OUT.value}")


if __name__ == "__main__":
    app.run(main)
