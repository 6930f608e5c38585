"""Train MT-PPO from a config file: ``python -m experiments.train --config=experiments/configs/mt10_ppo.py:smoke``.

Overrides are dotted flags on the locked config (``--config.seed=3 --config.ppo.lr=3e-4 --config.mtrl=famo``);
``--resume`` continues the run in ``config.run_dir`` from its latest checkpoint. Writes ``config.json``,
``metrics.jsonl``, TensorBoard events, orbax checkpoints and ``task_success.png`` into the run directory.
"""

from __future__ import annotations

import json
import os
import time

import jax
import numpy as np
from absl import app, flags
from ml_collections import config_flags

from experiments import common
from mtjax import checkpoint, run_logger
from mtjax.algos import on_policy

_CONFIG = config_flags.DEFINE_config_file("config", None, "Run config file (path[:variant]).", lock_config=True)
_RESUME = flags.DEFINE_bool("resume", False, "Continue from the latest checkpoint in the run directory.")


class NonFiniteError(RuntimeError):
    """Raised when a loss, gradient, observation or reward became NaN/Inf."""


def run(c, resume: bool = False) -> dict:
    """Runs (or resumes) one training run; returns the last logged record. Usable from Python too."""
    if c["env_backend"] == "isaacgym":
        from envs_bridge.isaacgym import host_loop  # imported lazily: needs torch and isaacgym

        return host_loop.run(c, resume=resume)
    if c["env_backend"] != "jax":
        raise ValueError(f"unknown env_backend {c['env_backend']!r}; valid: jax, isaacgym")
    common.enable_compile_cache()
    run_dir = common.run_dir_of(c)
    os.makedirs(run_dir, exist_ok=True)
    cfg_json = common.jsonable(c)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump(cfg_json, f, indent=1)
    pcfg = common.ppo_config(c)
    env = common.build_env(c)
    init_fn, apply_fn = common.build_networks(c, env)
    total = int(c["total_iterations"])
    trainer = on_policy.make_train(pcfg, env, init_fn, apply_fn, total_iterations=total)
    key = jax.random.key(int(c["seed"]))
    ckpt = checkpoint.Checkpointer(run_dir)
    if resume and ckpt.latest_step() is not None:
        state, _, _ = ckpt.restore(jax.eval_shape(trainer.init, key))
        print(f"resumed {run_dir} at iteration {int(state.iteration)}", flush=True)
    else:
        if resume:
            print(f"--resume: no checkpoint in {run_dir}; starting fresh", flush=True)
        state = jax.jit(trainer.init)(key)
    chunk = jax.jit(trainer.train_chunk, static_argnums=1, donate_argnums=0)
    steps_per_it = env.task_set.num_envs * pcfg.horizon
    logger = run_logger.RunLogger(run_dir, env.task_set.task_names, total, steps_per_it,
                                  tensorboard=c["tensorboard"], progress=c["progress"])
    every = max(1, int(c["iters_per_call"]))
    ckpt_every = int(c["checkpoint_every"])
    it = int(state.iteration)
    rec: dict = {}
    try:
        while it < total:
            n = min(every, total - it)
            t0 = time.time()
            state, m = chunk(state, n)
            jax.block_until_ready(state)
            dt = time.time() - t0
            bad = np.asarray(m["nonfinite"])
            if bad.any():
                first = it + int(np.argmax(bad)) + 1
                last = ckpt.latest_step()
                raise NonFiniteError(
                    f"non-finite loss/gradient/observation at iteration {first} "
                    f"(loss/total={np.asarray(m['loss/total'])[np.argmax(bad)]}, "
                    f"grad_norm={np.asarray(m['grad_norm'])[np.argmax(bad)]}); run stopped. Last good checkpoint: "
                    f"{'none' if last is None else f'iteration {last}'} in {ckpt.directory}")
            rec = logger.log_chunk(it, m, dt)
            it += n
            if it % ckpt_every < n or it >= total:
                ckpt.save(it, state, cfg_json, {k: v for k, v in rec.items() if np.isfinite(v)})
    finally:
        logger.close()
        ckpt.close()
    if c["plot"]:
        run_logger.plot_task_success(run_dir, env.task_set.task_names)
    return rec


def main(argv):
    del argv
    common.quiet_logs()
    run(_CONFIG.value, resume=_RESUME.value)


if __name__ == "__main__":
    flags.mark_flag_as_required("config")
    app.run(main)
