"""Can a trained MT10 policy's door-open plateau be finished in our scene, and does the leaf stop matter there?

The 1 B MT-PPO policy of ``mt10_ppo_24k_1b_s42_h100`` pulls the door to about -1.15 rad with the hand pinned at
Meta-World's mocap bound y = 0.40, on the handle's -x side, and never reaches the success band (handle within 8 cm of
the goal in x: door angle in [-1.82, -1.38] rad). This script runs that policy in C MuJoCo (``CpuRollout``: our
door-open scene, the env's own reset/observation/reward code) on MT10(seed=0) door-open variations, four ways:

* ``policy``: the deterministic policy alone, 150 steps;
* ``go_around``: the policy for 100 steps, then a scripted continuation from wherever it left the hand: lift 8 cm,
  move to ``dx`` on the handle's +x side (y kept at the bound), descend, push -x (gripper closed), to step 250;

each with the scene as it is and with the leaf x side-wall contact (``door_panel`` x ``frame_side_n``) disabled
(pair margin -``shared_physics.PAD_MARGIN``). Prints and writes (``--out``) the door angle reached, MTBench's any-step success and Meta-World's
reward per step before and after the hand-over (is the plateau a local optimum of the reward?).

Usage (repository root, our venv)::

    python scripts/door_open_plateau.py --run_dir=/tmp/mt10_1b_learner --out=benchmarks/results/door_open_plateau.json
"""

from __future__ import annotations

import argparse
import json

import jax
import jax.numpy as jnp
import numpy as np

from envs_bridge.metaworld import shared_physics, tasks
from envs_bridge.metaworld.cpu_sim import CpuRollout
from experiments import common

TASK = "door-open"
HAND_Y_MIN = 0.40  # Meta-World's hand_low y for door-open (the mocap bound)


def _disable_leaf_stop(cpu: CpuRollout) -> None:
    for m in cpu.models:
        for i in range(m.npair):
            if {m.geom(m.pair_geom1[i]).name, m.geom(m.pair_geom2[i]).name} == {"door_panel", "frame_side_n"}:
                m.pair_margin[i] = -shared_physics.PAD_MARGIN  # never active, as shared_physics' padding pairs


def _go_around(o: np.ndarray, ph: int, dx: float, lift: np.ndarray) -> np.ndarray:
    """Scripted action ``ph`` steps after the hand-over: lift, over to the handle's +x side, down, push -x."""
    hand, h = o[:, 0:3], o[:, 4:7]
    y = np.maximum(h[:, 1], HAND_Y_MIN)
    if ph < 15:
        tgt = lift
    elif ph < 35:
        tgt = np.c_[h[:, 0] + dx, y, h[:, 2] + 0.08]
    elif ph < 50:
        tgt = np.c_[h[:, 0] + dx, y, h[:, 2]]
    else:
        tgt = np.c_[h[:, 0] - 0.2, y, h[:, 2]]
    return np.c_[np.clip(25.0 * (tgt - hand), -1.0, 1.0), np.ones(len(o))]


def rollout(act, rand_vecs: np.ndarray, leaf_stop: bool, dx: float | None, steps: int) -> dict:
    cpu = CpuRollout(TASK, len(rand_vecs))
    if not leaf_stop:
        _disable_leaf_stop(cpu)
    o = cpu.reset(rand_vecs)
    adr = cpu.models[0].joint("doorjoint").qposadr[0]
    qs, succ, rew, lift = [], [], [], None
    for t in range(steps):
        a = act(o)
        if dx is not None and t >= 100:
            if t == 100:
                lift = o[:, 0:3] + np.array([0.0, 0.0, 0.08])
            a = _go_around(o, t - 100, dx, lift)
        o, r, s, _info = cpu.step(a)
        qs.append([d.qpos[adr] for d in cpu.datas])
        succ.append(s)
        rew.append(r)
    qs, succ, rew = np.asarray(qs), np.asarray(succ), np.asarray(rew)
    return {"min_angle": qs.min(0).round(3).tolist(), "final_angle": qs[-1].round(3).tolist(),
            "any_step_success": float((succ.max(0) > 0).mean()), "last_step_success": float(succ[-1].mean()),
            # Meta-World's reward (unscaled, <= 10 per step), mean over episodes: steps 80-100 (the plateau),
            # the lowest 10-step mean after step 100, steps 100-150 and the whole episode
            "reward_80_100": float(rew[80:100].mean()),
            "reward_min_10step_after_100": float(np.convolve(rew[100:].mean(1), np.ones(10) / 10, "valid").min()),
            "reward_100_150": float(rew[100:150].mean()), "reward_total": float(rew.sum(0).mean())}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run_dir", required=True, help="run directory (or learner-only export) of an MT10 run")
    p.add_argument("--episodes", type=int, default=20, help="MT10(seed=0) door-open variations 0..N-1")
    p.add_argument("--out", default=None, help="JSON with the results")
    args = p.parse_args(argv)
    c, env, learner, ls = common.restore_policy(args.run_dir, envs_per_task=1)
    policy = jax.jit(common.deterministic_policy(c, learner, ls))
    names = list(env.task_set.task_names)
    tid, n = names.index(TASK), args.episodes
    one_hot = np.zeros((n, len(names)), np.float32)
    one_hot[:, tid] = 1.0

    def act(o):
        a = policy(jnp.asarray(np.concatenate([o, one_hot], -1)), jnp.full((n,), tid))
        return np.clip(np.asarray(a), -1.0, 1.0)

    rvs = tasks.load_rand_vecs(TASK)[:n]
    out = {"run_dir": args.run_dir, "episodes": n, "results": {}}
    for name, dx, steps in (("policy", None, 150), ("go_around_dx0.05", 0.05, 250), ("go_around_dx0.08", 0.08, 250)):
        for leaf_stop in (True, False):
            key = f"{name} leaf_stop={leaf_stop}"
            r = out["results"][key] = rollout(act, rvs, leaf_stop, dx, steps)
            print(f"{key:36s} min angle mean {np.mean(r['min_angle']):7.3f} (deepest {np.min(r['min_angle']):6.3f})  "
                  f"any-step {r['any_step_success']:.2f}  last-step {r['last_step_success']:.2f}  reward/step 80-100 "
                  f"{r['reward_80_100']:.2f}, lowest 10-step after 100 {r['reward_min_10step_after_100']:.2f}, "
                  f"100-150 {r['reward_100_150']:.2f}", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
