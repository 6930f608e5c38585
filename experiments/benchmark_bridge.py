"""Per-step overhead of the IsaacGym bridge (torch <-> JAX) against a torch-only loop.

Modes, each a loop of ``policy -> simulator step`` over ``N`` envs (obs 49 floats, actions 4, MTBench MT10's
sizes; Joshi et al., 2025, arXiv 2507.23172):
  sim_only     the synthetic torch simulator step alone (no policy);
  torch_only   torch policy (tanh of 4 obs dims) + simulator: the baseline an IsaacGym user has today;
  bridge_raw   JAX policy (same maths, jitted) + simulator, crossing by DLPack: action out (zero-copy), obs,
               reward, reset packed by one torch.cat and imported (zero-copy of the fresh buffer);
  adapter      the full ``VecTaskAdapter.step`` (pack, import, jitted split + episode statistics) + JAX policy;
  adapter_packed  ``VecTaskAdapter.step_packed`` + JAX policy on the packed block: the host loop's per-step
               path before the bound one (episode statistics are computed once per iteration);
  adapter_bound   ``VecTaskAdapter.bind_packed()``: the host loop's default path. The simulator's buffers are
               packed in place into one persistent block JAX aliased once (no per-step import or allocation);
               one jitted call per step stores the block into a donated ``[H, N, O+5]`` rollout buffer and
               computes the action; on CUDA the host synchronises torch's stream after the pack (order "host");
  adapter_bound_import  the same with order "import" (the block is re-imported each step: the DLPack
               handshake orders JAX after torch without a host sync);
  ipc          the out-of-process bridge (``IPCVecEnv``: simulator in a second, JAX-free process on the same
               device, CUDA IPC buffers via torch's reductions, shared-memory handshake) + JAX policy;
  ipc_raw      the same with ``transport="raw"`` (ctypes CUDA driver IPC handles; GPU only).
Overhead = mode - torch_only, in microseconds per step (target: <= 50 us beyond the simulator step).
``components`` also times each piece alone (cat, imports with/without RULE 6, export, jit dispatches, the
in-place pack, the host sync, the bound path's store-and-act dispatch).
Diagnostics: ``torch_sync`` (torch-only with a host sync every step: a fully serialised step) and
``bridge_same_stream`` (bridge_raw with torch on JAX's external-ready stream, GPU only). Opt-in (``--modes``),
an experiment towards many steps per dispatch: ``scan_callback`` runs all ``steps`` steps as ONE jitted
``lax.scan`` whose body is the JAX policy and the torch simulator step inside a
``jax.experimental.buffer_callback`` (torch on JAX's stream ``ctx.stream``, packing into XLA's output buffer):
no per-step dispatch, import or export. Not used by the trainer: IsaacGym's PhysX would then be called from
XLA's thread with torch on a non-default stream, which nobody has checked against IsaacGym.

The simulator is a synthetic ``VecTask`` (in-place ``obs_buf``/``rew_buf`` writes, a new ``reset_buf`` each
step, ``extras`` with ``time_outs``/``task_indices``, ``success_buf``), so the numbers isolate the bridge.
Usage: ``python -m experiments.benchmark_bridge [--quick] [--sizes 4096,24576] [--out FILE]`` (GPU: set
``XLA_PYTHON_CLIENT_PREALLOCATE=false``; this script sets it if unset). JSON goes to ``--out``.
This module's top level imports neither JAX nor torch: the IPC server imports it for ``make``/``compose``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from types import SimpleNamespace

OBS, ACT, TASKS = 49, 4, 10


class SyntheticVecTask:
    """Minimal MTBench-shaped VecTask (torch): cheap maths, MTBench's buffer and extras conventions."""

    def __init__(self, num_envs, device, episode_length=150):
        import torch

        self.torch = torch
        self.num_envs, self.num_obs, self.num_actions, self.num_states = num_envs, OBS, ACT, 0
        self.device = self.rl_device = device
        self.max_episode_length = episode_length
        base_n, extra = divmod(num_envs, TASKS)
        counts = [base_n + (1 if k < extra else 0) for k in range(TASKS)]
        tid = torch.repeat_interleave(torch.arange(TASKS), torch.tensor(counts)).to(device)
        self.extras = {"task_indices": tid}
        self.obs_buf = torch.zeros((num_envs, OBS), device=device)
        self.obs_buf[:, OBS - TASKS:] = torch.nn.functional.one_hot(tid, TASKS).float()
        self.rew_buf = torch.zeros(num_envs, device=device)
        self.reset_buf = torch.zeros(num_envs, dtype=torch.bool, device=device)
        self.progress_buf = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.success_buf = torch.zeros(num_envs, dtype=torch.bool, device=device)
        self.obs_dict = {}

    def reset(self):
        self.obs_dict["obs"] = self.obs_buf.clamp(-5.0, 5.0)
        return self.obs_dict

    def step(self, actions):
        torch = self.torch
        a = torch.clamp(actions, -1.0, 1.0)
        self.progress_buf += 1
        self.progress_buf.masked_fill_(self.reset_buf, 0)  # lazy reset, like MTBench
        self.obs_buf[:, :ACT].mul_(0.99).add_(a, alpha=0.01)  # in place, like obs_buf/rew_buf
        torch.norm(self.obs_buf[:, :3], dim=-1, out=self.rew_buf)
        self.rew_buf.neg_()
        torch.lt(self.rew_buf, -0.5, out=self.success_buf)
        self.reset_buf = self.progress_buf >= self.max_episode_length - 1
        self.extras["time_outs"] = self.reset_buf
        self.obs_dict["obs"] = self.obs_buf.clamp(-5.0, 5.0)
        return self.obs_dict, self.rew_buf, self.reset_buf, self.extras


def make(seed=0, task="", num_envs=4096, sim_device="cpu", rl_device="cpu", cfg=None, **_):
    """``isaacgymenvs.make``-compatible factory of ``SyntheticVecTask`` (used by the IPC server)."""
    return SyntheticVecTask(int(num_envs), rl_device)


def compose(overrides):
    return SimpleNamespace(overrides=list(overrides))


# ------------------------------------------------------------------------------------------------ timing


def _sync(torch, device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def _time(step_fn, finish_fn, steps, repeats, warmup):
    for _ in range(warmup):
        step_fn()
    finish_fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step_fn()
        finish_fn()
        out.append((time.perf_counter() - t0) / steps * 1e6)
    return statistics.median(out), out


def bench_size(n, device, steps, repeats, warmup, modes):
    """Times every requested mode at ``n`` envs; a failing mode is recorded in ``errors`` and skipped."""
    import jax
    import jax.numpy as jnp
    import torch

    from envs_bridge import dlpack
    from envs_bridge.isaacgym.adapter import IsaacGymConfig, VecTaskAdapter
    from envs_bridge.isaacgym.ipc import IPCVecEnv

    res, errors = {}, {}
    policy = jax.jit(lambda obs: jnp.tanh(obs[:, :ACT]))
    t0 = time.perf_counter()
    policy(jnp.zeros((n, OBS))).block_until_ready()
    res["compile_s_policy"] = time.perf_counter() - t0
    sync = lambda: _sync(torch, device)

    def sim_only():
        env, act = SyntheticVecTask(n, device), torch.zeros((n, ACT), device=device)
        env.reset()
        return _time(lambda: env.step(act), sync, steps, repeats, warmup)

    def torch_only():
        env = SyntheticVecTask(n, device)
        st = {"obs": env.reset()["obs"]}

        def step():
            st["obs"] = env.step(torch.tanh(st["obs"][:, :ACT]))[0]["obs"]
        return _time(step, sync, steps, repeats, warmup)

    def torch_sync():  # diagnostic: the torch-only loop with a host sync every step (a fully serialised step)
        env = SyntheticVecTask(n, device)
        st = {"obs": env.reset()["obs"]}

        def step():
            st["obs"] = env.step(torch.tanh(st["obs"][:, :ACT]))[0]["obs"]
            sync()
        return _time(step, sync, steps, repeats, warmup)

    def bridge_same_stream():  # diagnostic: bridge_raw with torch running on JAX's external-ready stream
        ptr = jax.devices()[0].get_stream_for_external_ready_events()
        with torch.cuda.stream(torch.cuda.ExternalStream(ptr, device=device)):
            return bridge_raw()

    def bridge_raw():
        env = SyntheticVecTask(n, device)
        st = {"obs": dlpack.torch_to_jax(env.reset()["obs"])}

        def step():
            a = dlpack.jax_to_torch(policy(st["obs"]))
            od, rew, reset, _ = env.step(a)
            packed = torch.cat([od["obs"], rew.reshape(-1, 1), reset.reshape(-1, 1)], 1)  # fresh (RULE 2)
            st["held"] = a
            # zero-copy import of the fresh packed buffer; the policy reads its first ACT columns directly
            st["obs"] = dlpack.torch_to_jax(packed, copy=None)
        return _time(step, lambda: (st["obs"].block_until_ready(), sync()), steps, repeats, warmup)

    def adapter():
        ad = VecTaskAdapter(SyntheticVecTask(n, device), tuple(f"t{k}" for k in range(TASKS)))
        st = {"es": ad.reset(jax.random.key(0))}

        def step():
            st["es"] = ad.step(st["es"], policy(st["es"].obs))
        return _time(step, lambda: jax.block_until_ready(st["es"]), steps, repeats, warmup)

    def adapter_packed():  # the host loop's fast path: one jitted call per step, statistics per iteration
        ad = VecTaskAdapter(SyntheticVecTask(n, device), tuple(f"t{k}" for k in range(TASKS)))
        st = {"block": ad.step_packed(policy(ad.reset(jax.random.key(0)).obs))}

        def step():
            st["block"] = ad.step_packed(policy(st["block"]))  # the policy reads the first ACT columns
        return _time(step, lambda: jax.block_until_ready(st["block"]), steps, repeats, warmup)

    horizon = 32  # rollout slots of the bound modes' buffer (MTBench's MT10 PPO horizon)
    bound_step = jax.jit(lambda buf, t, blk: (jax.lax.dynamic_update_index_in_dim(buf, blk, t % horizon, 0),
                                              t + 1, jnp.tanh(blk[:, :ACT])), donate_argnums=0)

    def adapter_bound(order="auto"):  # the host loop's bound path: store + act in one call, no import
        ad = VecTaskAdapter(SyntheticVecTask(n, device), tuple(f"t{k}" for k in range(TASKS)))
        b = ad.bind_packed(order=order)
        if not b.aliased:
            print(f"N={n} adapter_bound: not aliased ({b.reason})", file=sys.stderr, flush=True)
        st = {"buf": jnp.zeros((horizon, n, OBS + 5)), "t": jnp.zeros((), jnp.int32),
              "a": policy(ad.reset(jax.random.key(0)).obs)}

        def step():
            st["buf"], st["t"], st["a"] = bound_step(st["buf"], st["t"], b.step(st["a"]))
        return _time(step, lambda: (jax.block_until_ready(st["a"]), sync()), steps, repeats, warmup)

    def scan_callback():  # opt-in experiment: the whole loop in one XLA program, the sim as a buffer_callback
        from jax.experimental import buffer_callback

        env = SyntheticVecTask(n, device)
        env.reset()

        def sim(ctx, out, action):
            ext = torch.cuda.ExternalStream(ctx.stream, device=device) if device != "cpu" else None
            with torch.cuda.stream(ext) if ext is not None else contextlib.nullcontext():
                od, rew, reset, _ = env.step(torch.from_dlpack(action))
                torch.cat([od["obs"], rew.reshape(-1, 1), reset.reshape(-1, 1)], 1, out=torch.from_dlpack(out))
        sim_cb = buffer_callback.buffer_callback(sim, jax.ShapeDtypeStruct((n, OBS + 2), jnp.float32),
                                                 has_side_effect=True)
        body = lambda blk, _: (sim_cb(jnp.tanh(blk[:, :ACT])), None)
        roll = jax.jit(lambda blk: jax.lax.scan(body, blk, None, length=steps)[0])
        blk = jnp.zeros((n, OBS + 2))
        roll(blk).block_until_ready()
        out = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            roll(blk).block_until_ready()
            sync()
            out.append((time.perf_counter() - t0) / steps * 1e6)
        return statistics.median(out), out

    def ipc(transport):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        cfg = IsaacGymConfig(suite="mt10", num_envs=n, sim_device=device, rl_device=device)
        with IPCVecEnv(cfg, make_module="experiments.benchmark_bridge", pythonpath=root, transport=transport,
                       spin_sleep=0.0 if device != "cpu" else 1e-4) as env:
            st = {"es": env.reset(jax.random.key(0))}

            def step():
                st["es"] = env.step(st["es"], policy(st["es"].obs))
            return _time(step, lambda: jax.block_until_ready(st["es"]), steps, repeats, warmup)

    def components():
        """Per-call cost of each bridge piece (host time incl. launch; synchronised at the end)."""
        env = SyntheticVecTask(n, device)
        od, rew, reset, _ = env.step(torch.zeros((n, ACT), device=device))
        obs = od["obs"]
        packed = torch.cat([obs, rew.reshape(-1, 1), reset.reshape(-1, 1)], 1)
        act = policy(dlpack.torch_to_jax(packed, copy=None))
        ad = VecTaskAdapter(SyntheticVecTask(n, device), tuple(f"t{k}" for k in range(TASKS)))
        es = ad.reset(jax.random.key(0))
        pj = dlpack.torch_to_jax(packed, copy=None)
        cols5 = [obs] + [c.reshape(-1, 1) for c in (rew, reset, reset, reset, rew)]  # the adapter's layout
        pj5 = dlpack.torch_to_jax(torch.cat(cols5, 1).float(), copy=None)
        b = ad.bind_packed()
        cols6 = ad._columns(obs, rew, reset, reset, reset, rew)
        buf, t0 = jnp.zeros((horizon, n, OBS + 5)), jnp.zeros((), jnp.int32)
        keep = {"buf": buf}

        def bound_dispatch():
            keep["buf"], _, a = bound_step(keep["buf"], t0, b.block)
            return a
        parts = {
            "torch_cat_pack": lambda: torch.cat([obs, rew.reshape(-1, 1), reset.reshape(-1, 1)], 1),
            "pack_in_place": lambda: b.pack(cols6),
            "pack_in_place_host_sync": lambda: (b.pack(cols6), sync()),
            "bound_store_act_dispatch": bound_dispatch,
            "torch_to_jax_alias": lambda: dlpack.torch_to_jax(packed, copy=None),
            "torch_to_jax_public_api": lambda: dlpack.torch_to_jax(packed, copy=None, fast=False),
            "torch_to_jax_copy": lambda: dlpack.torch_to_jax(packed),
            "jax_to_torch_alias": lambda: dlpack.jax_to_torch(act),
            "jit_policy_dispatch": lambda: policy(pj),
            "adapter_finish_dispatch": lambda: ad._finish(es.episode, pj5, es.task_id, es.key, False),
        }
        return {k: _time(f, lambda: (jax.block_until_ready((act, keep["buf"])), sync()), steps, repeats, warmup)
                for k, f in parts.items()}

    runners = {"sim_only": sim_only, "torch_only": torch_only, "bridge_raw": bridge_raw, "adapter": adapter,
               "adapter_packed": adapter_packed, "adapter_bound": adapter_bound,
               "adapter_bound_import": lambda: adapter_bound("import"), "torch_sync": torch_sync,
               "bridge_same_stream": bridge_same_stream, "scan_callback": scan_callback,
               "ipc": lambda: ipc("torch"), "ipc_raw": lambda: ipc("raw"), "components": components}
    for mode in modes:
        if mode not in runners:
            raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(runners)}")
        if mode in ("ipc_raw", "bridge_same_stream") and device == "cpu":
            continue  # CUDA only
        try:
            if mode == "components":
                res_components = runners[mode]()
                res["components_us"] = {k: v[0] for k, v in res_components.items()}
                continue
            res[mode] = runners[mode]()
        except Exception as e:  # noqa: BLE001 - keep the other modes' numbers
            errors[mode] = f"{type(e).__name__}: {e}"
            print(f"N={n} mode {mode} failed: {errors[mode]}", file=sys.stderr, flush=True)
    res["errors"] = errors
    return res


def main(argv=None):
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # before JAX is imported
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny CPU-friendly sizes")
    p.add_argument("--sizes", default="", help="comma-separated env counts (default 4096,24576)")
    p.add_argument("--modes", default="sim_only,torch_only,torch_sync,bridge_raw,bridge_same_stream,adapter,"
                   "adapter_packed,adapter_bound,adapter_bound_import,ipc,ipc_raw,components")
    p.add_argument("--steps", type=int, default=0)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", default="benchmarks/results/bridge.json")
    args = p.parse_args(argv)
    import jax
    import torch

    from envs_bridge import dlpack
    from mtjax import run_logger

    device = "cuda:0" if torch.cuda.is_available() else "cpu"
    sizes = [int(s) for s in args.sizes.split(",") if s] or ([256, 1024] if args.quick else [4096, 24576])
    steps = args.steps or (50 if args.quick else 500)
    modes = [m for m in args.modes.split(",") if m]
    results = {}
    for n in sizes:
        r = bench_size(n, device, steps, args.repeats, warmup=max(10, steps // 5), modes=modes)
        row = {"compile_s_policy": r.pop("compile_s_policy"), "errors": r.pop("errors"),
               "components_us_per_call": r.pop("components_us", None)}
        for mode, (med, allr) in r.items():
            row[f"{mode}_us_per_step"] = med
            row[f"{mode}_repeats_us"] = allr
        base = row.get("torch_only_us_per_step")
        for mode in r:
            if base is not None and mode not in ("sim_only", "torch_only", "components_us"):
                row[f"{mode}_overhead_us"] = row[f"{mode}_us_per_step"] - base
        results[str(n)] = row
        if row["components_us_per_call"]:
            print(f"N={n:>6} components (us/call): " + " ".join(
                f"{k}={v:.1f}" for k, v in row["components_us_per_call"].items()), flush=True)
        print(f"N={n:>6} " + " ".join(f"{m}={row[f'{m}_us_per_step']:.1f}us" for m in r) + " | overhead: " +
              " ".join(f"{m}={row[f'{m}_overhead_us']:+.1f}us" for m in r if f"{m}_overhead_us" in row),
              flush=True)
    dev = jax.devices()[0]
    out = {"what": "IsaacGym bridge per-step overhead vs torch-only loop (synthetic VecTask)",
           "obs_size": OBS, "action_size": ACT, "num_tasks": TASKS, "sizes": sizes, "steps_per_repeat": steps,
           "repeats": args.repeats, "modes": modes, "timing": "median over repeats of wall time / steps, "
           "synchronised (torch.cuda.synchronize / block_until_ready) at the end of each repeat",
           "target_overhead_us": 50.0, "device": dev.device_kind, "torch_device": device,
           "torch_cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
           "jax": jax.__version__, "torch": torch.__version__, "python": platform.python_version(),
           "dlpack_protocol": dlpack.protocol(),
           "XLA_PYTHON_CLIENT_PREALLOCATE": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"),
           "peak_device_bytes": run_logger.device_peak_bytes(), "results": results}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {args.out}", file=sys.stderr)
    return out


if __name__ == "__main__":
    main()
