"""Record the real Sawyer arm's free motion in Meta-World, for the tests of our arm model (``sawyer.py``).

Runs Meta-World 3.1.1 in the venv that ``record_metaworld_traces.py`` builds and writes
``tests/fixtures/metaworld/arm.npz``: for ``--episodes`` seeded variations of reach (``MT10(seed=0)``), the state
Meta-World's reset leaves (arm joints and fingers: ``qpos``/``qvel`` [E, 9], the mocap target [E, 3], the TCP
[E, 3]), ``--steps`` actions of Meta-World's scripted reach policy [E, S, 4] and the TCP after every step
[E, S, 3]. Reach has no contacts, so these isolate the arm: its inertia, damping, weld and reach.

``tests/test_metaworld_arm.py`` starts our arm (C MuJoCo) from the recorded state, replays the actions and
compares TCPs; it also checks our reset settle (``scenes.settled_arm``) against the recorded reset.

Usage (repository root)::

    python scripts/record_metaworld_arm.py              # 3 episodes x 150 steps
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
from record_metaworld_traces import run_inner


def _inner(args) -> None:
    import importlib.metadata as md

    import metaworld
    from metaworld.policies import ENV_POLICY_MAP

    bench = metaworld.MT10(seed=0)
    name = "reach-v3"
    variations = [t for t in bench.train_tasks if t.env_name == name]
    out: dict[str, list] = {k: [] for k in ("qpos", "qvel", "mocap", "tcp0", "action", "tcp")}
    for v in range(args.episodes):
        env = bench.train_classes[name]()
        env.set_task(variations[v])
        obs, _ = env.reset()
        out["qpos"].append(env.data.qpos[:9].copy())
        out["qvel"].append(env.data.qvel[:9].copy())
        out["mocap"].append(env.data.mocap_pos[0].copy())
        out["tcp0"].append(np.asarray(env.tcp_center).copy())
        policy = ENV_POLICY_MAP[name]()
        acts, tcp = [], []
        for _ in range(args.steps):
            a = np.asarray(policy.get_action(obs), np.float32)
            obs, *_ = env.step(a)
            acts.append(a)
            tcp.append(np.asarray(env.tcp_center).copy())
        out["action"].append(np.stack(acts))
        out["tcp"].append(np.stack(tcp))
        env.close()
    arrays = {k: np.stack(v) for k, v in out.items()}
    arrays = {k: (v.astype(np.float32) if k in ("action", "tcp") else v) for k, v in arrays.items()}
    arrays["mocap_low"], arrays["mocap_high"] = np.asarray(env.mocap_low), np.asarray(env.mocap_high)
    arrays["versions"] = np.array(" ".join(f"{p}=={md.version(p)}" for p in ("metaworld", "mujoco", "numpy")))
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1024:.0f} KiB)")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--venv", default="/tmp/mw_oracle_venv", help="virtual environment for metaworld 3.1.1")
    p.add_argument("--out", default=os.path.join("tests", "fixtures", "metaworld", "arm.npz"))
    p.add_argument("--episodes", type=int, default=3)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        _inner(args)
        return
    run_inner(__file__, ["--out", os.path.abspath(args.out), "--episodes", str(args.episodes), "--steps",
                         str(args.steps)], args.venv)


if __name__ == "__main__":
    main()
