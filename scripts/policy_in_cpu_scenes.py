"""Run a trained MT10 policy in our scenes on C MuJoCo (``CpuRollout``) with any physics option of the env.

A policy trained on one physics option (the floating hand) run closed loop on another (the arm at two
substeps, say) from the same initial states as ``scripts/policy_in_metaworld.py`` (MT10(seed=0) variations
``0..episodes-1``, deterministic mean actions, 150 steps, MTBench's any-step success): where the real Meta-World's
success (that script's JSON) is closer to one option's than to the other's, that option is the more faithful along
the paths the policy takes. C MuJoCo instead of MJX: no compile per option and task (``docs/testing.md`` says why).

Usage (repository root, our venv)::

    python scripts/policy_in_cpu_scenes.py --run_dir=/tmp/mt10_1b_learner --episodes=10 \\
        --env_kwargs='{"hand": "arm", "frame_skip": 2, "iterations": 6, "ls_iterations": 6}' --out=/tmp/arm.json
"""

from __future__ import annotations

import argparse
import json

import jax
import numpy as np

from envs_bridge.metaworld.cpu_sim import run_policy
from experiments import common

STEPS = 150


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run_dir", required=True, help="run directory (or learner-only export) of an MT10 run")
    p.add_argument("--episodes", type=int, default=10, help="MT10(seed=0) variations 0..N-1 per task")
    p.add_argument("--env_kwargs", default="{}", help="MetaWorldEnv options as JSON, e.g. '{\"hand\": \"arm\"}'")
    p.add_argument("--out", default=None, help="JSON with the per-task table")
    args = p.parse_args(argv)
    env_kwargs = json.loads(args.env_kwargs)
    c, env, learner, ls = common.restore_policy(args.run_dir, envs_per_task=1)
    act = jax.jit(common.deterministic_policy(c, learner, ls))
    names = list(env.task_set.task_names)
    table = {}
    for tid, task in enumerate(names):
        table[task] = run_policy(act, task, tid, len(names), args.episodes, STEPS, **env_kwargs)
        print(f"{task:22s} success {table[task]['success']:.2f}  final |dq| {table[task]['final_dq']:.3f}", flush=True)
    mean = float(np.mean([r["success"] for r in table.values()]))
    print(f"{'mean':22s} success {mean:.2f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"run_dir": args.run_dir, "env_kwargs": env_kwargs, "episodes": args.episodes, "steps": STEPS,
                       "mean_success": mean, "tasks": table}, f, indent=1)


if __name__ == "__main__":
    main()
