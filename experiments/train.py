"""Train MT-PPO, MT-GRPO, MT-PQN, MT-SAC or FastTD3 (the config's ``algo``: "ppo", "grpo", "pqn", "sac",
"fasttd3") from a config file: ``python -m experiments.train --config=experiments/configs/mt10_ppo.py:smoke``.

Overrides are dotted flags (``--config.seed=3 --config.ppo.lr=3e-4 --config.mtrl=cagrad
--config.mtrl_kwargs.c=0.5 '--config.net.actor_kwargs.hidden=(64,64)'``); the config is parsed once into
``mtjax.config.RunConfig``, which rejects unknown keys and bad values in one line naming the valid ones (the flag
itself accepts new keys so that the method's and networks' option dicts can be filled from the command line).
``--resume`` continues the run in the run directory from its newest readable checkpoint; ``--overwrite`` deletes
a previous run there. Writes ``config.json``, ``metrics.jsonl``, TensorBoard events, orbax checkpoints,
``task_success.png`` and ``provenance.json`` (versions, devices, git commit and the env's physics fingerprint per
process that ran the run: ``mtjax.provenance``) into the run directory (``docs/runs.md``). ``--config.num_seeds=S`` trains seeds ``seed ..
seed + S - 1`` as one XLA program, each logging into ``<run_dir>/seed_<seed>/`` (``mtjax.multi_seed``).
"""

from __future__ import annotations

import functools
import sys

import jax
from absl import app, flags
from ml_collections import config_flags

from experiments import common, isaacgym_run, stderr_filter
from mtjax import checkpoint, multi_seed, provenance, run_loop, sharding
from mtjax import run_dir as rundir

_CONFIG = config_flags.DEFINE_config_file("config", None, "Run config file (path[:variant]).", lock_config=False,
                                          accept_new_attributes=True)
_RESUME = flags.DEFINE_bool("resume", False, "Continue from the newest readable checkpoint in the run directory.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Delete a previous run in the run directory and start over.")


NonFiniteError = run_loop.NonFiniteError  # re-exported: the error a diverged run stops with


def run(c, resume: bool = False, overwrite: bool = False) -> dict:
    """Runs (or resumes) one training run; returns the last logged record. Usable from Python too.

    The config is validated and the run directory checked (and locked) before anything is built or written.
    """
    rc = common.typed(c)
    if rc.env_backend == "isaacgym":
        return isaacgym_run.run(rc, resume=resume, overwrite=overwrite)
    common.enable_compile_cache()
    with rundir.run_lock(rc.directory):
        changes = common.open_run(rc, resume, overwrite)
        env = common.build_env(rc)
        trainer = common.build_trainer(rc, env)  # on- or off-policy: the same Trainer contract
        if rc.num_seeds > 1:  # seeds seed .. seed + S - 1 as one program (mtjax.multi_seed)
            init = multi_seed.vmap_init(trainer.init, rc.seed, rc.num_seeds)
            train_chunk = multi_seed.vmap_chunk(trainer.train_chunk)
        else:
            init = functools.partial(trainer.init, jax.random.key(rc.seed))
            train_chunk = trainer.train_chunk
        ckpt = checkpoint.Checkpointer(rc.directory)
        if changes is None:
            state = jax.jit(init)()
            if rc.init_params_from:  # MTBench's two-stage protocol: start from another run's network
                state = common.init_params_from(rc, state)
        else:
            state = common.resume_learner_only(rc, ckpt, init)  # a learner export carried between machines
            if state is None:
                state, _, _ = ckpt.restore(jax.eval_shape(init))
            done = run_loop.iteration_of(state)
            if done >= rc.total_iterations:
                return common.finished(rc, ckpt, done)
            state = common.apply_resume_changes(state, changes)
            print(f"resumed {rc.directory} at iteration {done}", flush=True)
        common.commit_run(rc, ckpt, run_loop.iteration_of(state))
        seg, env_changed = provenance.record(rc.directory, env, run_loop.iteration_of(state))
        if seg["env"]:
            print(f"env physics fingerprint {seg['env']['digest']} ({rc.directory}/provenance.json)", flush=True)
        if env_changed:
            print(f"warning: {env_changed}", file=sys.stderr, flush=True)
        mesh = sharding.env_mesh(rc.num_devices if rc.num_seeds == 1 else 1)
        if mesh.devices.size > 1:  # same program; the env axis is split over the devices (mtjax.sharding)
            state = sharding.shard_train_state(state, mesh)
            print(f"envs split over {mesh.devices.size} devices", flush=True)
        chunk = jax.jit(train_chunk, static_argnums=1, donate_argnums=0)
        return run_loop.run_logged(chunk, state, rc=rc, task_names=env.task_set.task_names,
                                   env_steps_per_iteration=common.env_steps_per_iteration(rc, env), ckpt=ckpt)


def main(argv):
    del argv
    common.quiet_logs()
    try:
        run(_CONFIG.value, resume=_RESUME.value, overwrite=_OVERWRITE.value)
    except (rundir.RunDirError, checkpoint.CheckpointError, run_loop.NonFiniteError, FileNotFoundError,
            ValueError) as e:
        raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
    stderr_filter.install()  # XLA's slow-compile alarm off the terminal (CLI only, not under pytest)
    flags.mark_flag_as_required("config")
    app.run(main)
