"""Record Meta-World's scripted-policy trajectories for the trajectory-parity tests of our MJX scenes.

Runs Meta-World 3.1.1 (Yu et al., 2019, arXiv 1910.10897) in the venv that ``record_metaworld_traces.py`` builds
and writes ``tests/fixtures/metaworld/trajectories.npz``: for every MT10 task, ``--episodes`` episodes from the
seeded variations ``0..episodes-1`` of ``MT10(seed=0)`` (so ``reset_from`` can start ours from the same state),
each ``--steps`` steps of Meta-World's own scripted policy (``metaworld.policies``). Keys ``<task>/<field>``:

* ``rand_vec`` [E, D]: the variation's task vector (``env._last_rand_vec``).
* ``action`` [E, S, 4] float32: every action sent (for open-loop replay).
* ``success`` [E, S] uint8: Meta-World's success flag after every step.
* ``tcp``, ``mocap``, ``obj`` [E, S / k, 3] and ``joint_q`` [E, S / k]: fingertip centre, the hand's mocap
  target, the observation's object point (``obs[4:7]``) and the task joint (0 where none), after steps
  ``k, 2k, ...`` (``--every k``, default 5).

``envs_bridge/metaworld/trajectory_parity.py`` replays the actions open loop and runs our scripted policies
closed loop from the same states, and compares.

Usage (repository root)::

    python scripts/record_metaworld_trajectories.py                 # 20 episodes x 500 steps per task
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
from record_metaworld_traces import _JOINTS, MT10, run_inner


def _episode(env, policy, task: str, steps: int, every: int) -> dict[str, np.ndarray]:
    obs, _ = env.reset()
    act, succ, tcp, mocap, obj, q = [], [], [], [], [], []
    for t in range(steps):
        a = np.asarray(policy.get_action(obs.copy()), np.float32)
        obs, _r, _term, _trunc, info = env.step(a)
        act.append(a)
        succ.append(bool(info["success"]))
        if (t + 1) % every == 0:
            tcp.append(np.asarray(env.tcp_center).copy())
            mocap.append(env.data.mocap_pos[0].copy())
            obj.append(obs[4:7].copy())
            q.append(float(env.data.joint(_JOINTS[task]).qpos[0]) if task in _JOINTS else 0.0)
    return {"rand_vec": np.asarray(env._last_rand_vec, np.float64), "action": np.stack(act),
            "success": np.asarray(succ, np.uint8), "tcp": np.stack(tcp), "mocap": np.stack(mocap),
            "obj": np.stack(obj), "joint_q": np.asarray(q)}


def _inner(args) -> None:
    import importlib.metadata as md

    import metaworld
    from metaworld.policies import ENV_POLICY_MAP

    bench = metaworld.MT10(seed=0)
    out: dict[str, np.ndarray] = {}
    for task in MT10:
        name = f"{task}-v3"
        variations = [t for t in bench.train_tasks if t.env_name == name]
        env = bench.train_classes[name]()
        policy = ENV_POLICY_MAP[name]()
        t0 = time.time()
        eps = []
        for v in range(args.episodes):
            env.set_task(variations[v % len(variations)])
            eps.append(_episode(env, policy, task, args.steps, args.every))
        for k in eps[0]:
            val = np.stack([e[k] for e in eps])
            out[f"{task}/{k}"] = val.astype(np.float32) if val.dtype == np.float64 else val
        s = out[f"{task}/success"]
        print(f"{task:22s} any-step {s.max(1).mean():.2f} last-step {s[:, -1].mean():.2f} "
              f"success steps {s.sum(1).mean():5.1f} ({time.time() - t0:.0f}s)", flush=True)
        env.close()
    out["versions"] = np.array(" ".join(f"{p}=={md.version(p)}" for p in ("metaworld", "mujoco", "numpy")))
    out["every"] = np.array(args.every)
    np.savez_compressed(args.out, **out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1024:.0f} KiB)")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--venv", default="/tmp/mw_oracle_venv", help="virtual environment for metaworld 3.1.1")
    p.add_argument("--out", default=os.path.join("tests", "fixtures", "metaworld", "trajectories.npz"))
    p.add_argument("--episodes", type=int, default=20, help="episodes per task (variations 0..N-1)")
    p.add_argument("--steps", type=int, default=500, help="steps per episode (Meta-World's limit)")
    p.add_argument("--every", type=int, default=5, help="keep the states of every k-th step")
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        _inner(args)
        return
    run_inner(__file__, ["--out", os.path.abspath(args.out), "--episodes", str(args.episodes), "--steps",
                         str(args.steps), "--every", str(args.every)], args.venv)


if __name__ == "__main__":
    main()
