"""Train MT-PPO from a config file: ``python -m experiments.train --config=experiments/configs/mt10_ppo.py:smoke``.

Overrides are dotted flags on the locked config (``--config.seed=3 --config.ppo.lr=3e-4 --config.mtrl=famo``);
``--resume`` continues the run in ``config.run_dir`` from its latest checkpoint. Writes ``config.json``,
``metrics.jsonl``, TensorBoard events, orbax checkpoints and ``task_success.png`` into the run directory.
"""

from __future__ import annotations


import jax
from absl import app, flags
from ml_collections import config_flags

from experiments import common, isaacgym_run
from mtjax import checkpoint, run_loop
from mtjax.algos import on_policy

_CONFIG = config_flags.DEFINE_config_file("config", None, "Run config file (path[:variant]).", lock_config=True)
_RESUME = flags.DEFINE_bool("resume", False, "Continue from the latest checkpoint in the run directory.")


NonFiniteError = run_loop.NonFiniteError  # re-exported: the error a NaN/Inf stops a run with


def run(c, resume: bool = False) -> dict:
    """Runs (or resumes) one training run; returns the last logged record. Usable from Python too."""
    if c["env_backend"] == "isaacgym":
        return isaacgym_run.run(c, resume=resume)
    if c["env_backend"] != "jax":
        raise ValueError(f"unknown env_backend {c['env_backend']!r}; valid: jax, isaacgym")
    common.enable_compile_cache()
    run_dir, cfg_json = common.prepare_run_dir(c)
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
    return run_loop.run_logged(chunk, state, c=c, run_dir=run_dir, task_names=env.task_set.task_names,
                               env_steps_per_iteration=env.task_set.num_envs * pcfg.horizon, ckpt=ckpt,
                               config=cfg_json)


def main(argv):
    del argv
    common.quiet_logs()
    run(_CONFIG.value, resume=_RESUME.value)


if __name__ == "__main__":
    flags.mark_flag_as_required("config")
    app.run(main)
