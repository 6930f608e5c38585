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

``--mt50`` records the 40 MT50 tasks outside MT10 the same way into ``trajectories_mt50.npz`` (same keys), from
``MT50(seed=0)`` variations ``0..episodes-1`` (default 10 episodes x 500 steps, every 5th state), of which the
fixture keeps the first ``--keep`` (default 5; 1.4 MB): the task joint is ``probes.JOINTS_MT50``'s (Meta-World's
joint, named or as its body's joint; 0 for tasks about a free object). It also writes the real env's success over
all the episodes per task (any-step, last-step, steps with success on, first success step) with the versions as
JSON (``--json``, default ``benchmarks/results/metaworld_mt50_real_scripted.json``). About 5 minutes.

``--policy-actions`` records instead the reference of ``tests/test_metaworld_policies_mt50.py`` (our JAX port of the
scripted policies, ``envs_bridge/metaworld/policies_mt50.py``) into ``policy_actions_mt50.npz``: for each task of
``--tasks`` (default all 50 MT50 tasks), ``MT50(seed=0)`` variations ``0..1``, one episode driven by
the clean scripted policy and one by the policy plus Gaussian noise (``--noise`` on xyz, clipped to [-1, 1]) so
that the observations also cover off-path states. Per step it stores the observation *rounded to float32* and
Meta-World's scripted action computed from that rounded observation (so a float32 port sees exactly the input
the reference saw; the env itself is driven by the action of the unrounded observation, plus the noise).
Keys ``<task>/obs`` [2, S, 39] and ``<task>/action`` [2, S, 4] float32 (every ``--every``-th step); for the few
tasks whose episodes never reach some waypoint, ``<task>/probe_obs`` [P, 39] and ``<task>/probe_action`` [P, 4]:
Meta-World's action on recorded observations with the hand or an object placed by hand (``PROBES``).

Usage (repository root)::

    python scripts/record_metaworld_trajectories.py                 # 20 episodes x 500 steps per task
    python scripts/record_metaworld_trajectories.py --policy-actions    # 2 episodes x 200 steps per task
    python scripts/record_metaworld_trajectories.py --mt50              # 10 (5 kept) x 500 steps, 40 tasks
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
from record_metaworld_traces import _JOINTS, _MT50, MT10, load_probes_module, run_inner

_JOINTS_MT50 = load_probes_module().JOINTS_MT50


def _joint_reader(env, task: str):
    """``env -> float``: the task joint's value (MT10: ``probes.JOINTS``; MT50: ``probes.JOINTS_MT50``), else 0."""
    if task in _JOINTS:
        name = _JOINTS[task]
        return lambda: float(env.data.joint(name).qpos[0])
    if task in _JOINTS_MT50:
        kind, name = _JOINTS_MT50[task]
        jid = env.model.joint(name).id if kind == "joint" else int(env.model.body(name).jntadr[0])
        assert jid >= 0 and env.model.jnt_type[jid] in (2, 3), (task, kind, name)  # a slide or hinge
        adr = int(env.model.jnt_qposadr[jid])
        return lambda: float(env.data.qpos[adr])
    return lambda: 0.0


def _episode(env, policy, task: str, steps: int, every: int) -> dict[str, np.ndarray]:
    obs, _ = env.reset()
    joint = _joint_reader(env, task)
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
            q.append(joint())
    return {"rand_vec": np.asarray(env._last_rand_vec, np.float64), "action": np.stack(act),
            "success": np.asarray(succ, np.uint8), "tcp": np.stack(tcp), "mocap": np.stack(mocap),
            "obj": np.stack(obj), "joint_q": np.asarray(q)}


def _inner(args) -> None:
    import importlib.metadata as md

    import metaworld
    from metaworld.policies import ENV_POLICY_MAP

    bench, tasks = (metaworld.MT50(seed=0), _MT50.NEW_TASKS) if args.mt50 else (metaworld.MT10(seed=0), MT10)
    out: dict[str, np.ndarray] = {}
    summary: dict[str, dict] = {}
    for task in tasks:
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
            val = np.stack([e[k] for e in eps[: args.keep]])
            out[f"{task}/{k}"] = val.astype(np.float32) if val.dtype == np.float64 else val
        s = np.stack([e["success"] for e in eps]).astype(bool)
        first = [int(np.argmax(r)) + 1 if r.any() else None for r in s]  # steps until the first success
        summary[task] = {"any_step": float(s.any(1).mean()), "last_step": float(s[:, -1].mean()),
                         "success_steps": float(s.sum(1).mean()), "first_success_step": first,
                         "success_steps_per_episode": s.sum(1).tolist()}
        print(f"{task:26s} any-step {s.any(1).mean():.2f} last-step {s[:, -1].mean():.2f} "
              f"success steps {s.sum(1).mean():5.1f} first {first} ({time.time() - t0:.0f}s)", flush=True)
        env.close()
    versions = " ".join(f"{p}=={md.version(p)}" for p in ("metaworld", "mujoco", "numpy"))
    out["versions"] = np.array(versions)
    out["every"] = np.array(args.every)
    np.savez_compressed(args.out, **out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1024:.0f} KiB)")
    if args.json:
        bench_name = "MT50(seed=0)" if args.mt50 else "MT10(seed=0)"
        doc = {"what": f"Meta-World's own scripted policies in the real env, {bench_name} variations "
                       f"0..{args.episodes - 1}, {args.steps} steps (scripts/record_metaworld_trajectories.py); "
                       f"the fixture {os.path.basename(args.out)} holds the first {args.keep}",
               "versions": versions, "episodes": args.episodes, "steps": args.steps, "tasks": summary}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"wrote {args.json}")


def _policy_episode(env, policy, steps: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Observations (float32) and Meta-World's scripted actions for them along one (noisy if noise > 0) episode."""
    obs, _ = env.reset()
    rows_obs, rows_act = [], []
    for _ in range(steps):
        obs32 = obs.astype(np.float32)
        rows_obs.append(obs32)
        # copies: some policies (door-open, door-close) add offsets to the observation in place
        rows_act.append(np.asarray(policy.get_action(obs32.astype(np.float64)), np.float32))
        a = np.asarray(policy.get_action(obs.copy()), np.float32)
        if noise > 0:
            a[:3] += rng.normal(0.0, noise, 3).astype(np.float32)
        obs, *_ = env.step(np.clip(a, -1.0, 1.0).astype(np.float32))
    return np.stack(rows_obs), np.stack(rows_act)


# Hand-placed observations for the cascade branches that the recorded episodes never reach: each probe edits a
# recorded observation in order, setting ``hand`` (obs[0:3]), ``obj`` (obs[4:7]) or ``obj2`` (obs[11:14]) to the
# current object point plus an offset (door-close: hand behind the door, low and high; door-lock: hand at the lock;
# stick-push: thermos at the stick; plate-slide-back: plate further back, hand on it; soccer: hand at each push point).
PROBES = {
    "door-close": ((("hand", (0.15, 0.12, 0.1)),), (("hand", (0.15, 0.12, 0.5)),)),
    "door-lock": ((("hand", (-0.02, -0.02, 0.0)),),),
    "stick-push": ((("obj2", (0.015, 0.0, 0.0)),),),
    "plate-slide-back": ((("obj", (0.0, 0.1, 0.0)), ("hand", (0.0, -0.065, 0.025))),),
    "soccer": tuple((("hand", d),) for d in ((-0.03, 0.0, 0.0), (0.03, 0.0, 0.0), (0.0, -0.03, 0.0))),
}
_FIELDS = {"hand": slice(0, 3), "obj": slice(4, 7), "obj2": slice(11, 14)}


def _probe_obs(task: str, bases: np.ndarray) -> np.ndarray:
    """``PROBES[task]`` applied to each of ``bases`` [B, 39] (float32): [B * len(PROBES[task]), 39]."""
    rows = []
    for base in bases:
        for probe in PROBES[task]:
            o = base.copy()
            for field, offset in probe:
                o[_FIELDS[field]] = o[4:7] + np.asarray(offset, np.float32)
            rows.append(o)
    return np.stack(rows)


def _inner_policy_actions(args) -> None:
    import importlib.metadata as md

    import metaworld
    from metaworld.policies import ENV_POLICY_MAP

    bench = metaworld.MT50(seed=0)
    out: dict[str, np.ndarray] = {}
    for task in args.tasks:
        name = f"{task}-v3"
        variations = [t for t in bench.train_tasks if t.env_name == name]
        env = bench.train_classes[name]()
        policy = ENV_POLICY_MAP[name]()
        rng = np.random.default_rng(_MT50.MT50_TASKS.index(task))
        eps = []
        for v, noise in enumerate((0.0, args.noise)):
            env.set_task(variations[v])
            eps.append(_policy_episode(env, policy, args.steps, noise, rng))
        out[f"{task}/obs"] = np.stack([e[0][:: args.every] for e in eps])
        out[f"{task}/action"] = np.stack([e[1][:: args.every] for e in eps])
        if task in PROBES:  # on every 50th observation of the noisy episode
            probe = _probe_obs(task, out[f"{task}/obs"][1, ::50])
            out[f"{task}/probe_obs"] = probe
            out[f"{task}/probe_action"] = np.stack([policy.get_action(o.astype(np.float64)) for o in probe]).astype(np.float32)
        env.close()
        print(f"{task:26s} distinct actions {len(np.unique(out[f'{task}/action'].reshape(-1, 4), axis=0))}",
              flush=True)
    out["versions"] = np.array(" ".join(f"{p}=={md.version(p)}" for p in ("metaworld", "mujoco", "numpy")))
    out["noise"] = np.array(args.noise)
    np.savez_compressed(args.out, **out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1024:.0f} KiB)")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--venv", default="/tmp/mw_oracle_venv", help="virtual environment for metaworld 3.1.1")
    p.add_argument("--out", default=os.path.join("tests", "fixtures", "metaworld", "trajectories.npz"))
    p.add_argument("--episodes", type=int, default=None,
                   help="episodes per task (variations 0..N-1; default 20, --mt50 10)")
    p.add_argument("--keep", type=int, default=None,
                   help="episodes stored in the fixture (the first N; default all, --mt50 5)")
    p.add_argument("--mt50", action="store_true", help="the 40 MT50 tasks outside MT10 (see the docstring)")
    p.add_argument("--json", default=None, help="per-task success table (default with --mt50: "
                   "benchmarks/results/metaworld_mt50_real_scripted.json)")
    p.add_argument("--steps", type=int, default=None, help="steps per episode (default 500; --policy-actions 200)")
    p.add_argument("--every", type=int, default=None, help="keep every k-th step (default 5; --policy-actions 1)")
    p.add_argument("--policy-actions", action="store_true",
                   help="record observations and scripted actions for the policy tests (see the docstring)")
    p.add_argument("--tasks", nargs="+", default=list(_MT50.MT50_TASKS), help="MT50 tasks (--policy-actions)")
    p.add_argument("--noise", type=float, default=0.5, help="action noise of the second episode (--policy-actions)")
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.policy_actions and args.mt50:
        p.error("--mt50 and --policy-actions are separate recordings")
    if args.policy_actions and args.out == p.get_default("out"):
        args.out = os.path.join("tests", "fixtures", "metaworld", "policy_actions_mt50.npz")
    if args.mt50 and args.out == p.get_default("out"):
        args.out = os.path.join("tests", "fixtures", "metaworld", "trajectories_mt50.npz")
    if args.mt50 and args.json is None:
        args.json = os.path.join("benchmarks", "results", "metaworld_mt50_real_scripted.json")
    args.episodes = args.episodes or (10 if args.mt50 else 20)
    args.keep = min(args.keep or (5 if args.mt50 else args.episodes), args.episodes)
    args.steps = args.steps or (200 if args.policy_actions else 500)
    args.every = args.every or (1 if args.policy_actions else 5)
    if args.inner:
        (_inner_policy_actions if args.policy_actions else _inner)(args)
        return
    argv = ["--out", os.path.abspath(args.out), "--episodes", str(args.episodes), "--keep", str(args.keep),
            "--steps", str(args.steps), "--every", str(args.every)]
    if args.policy_actions:
        argv += ["--policy-actions", "--noise", str(args.noise), "--tasks", *args.tasks]
    if args.mt50:
        argv += ["--mt50"]
    if args.json:
        argv += ["--json", os.path.abspath(args.json)]
    run_inner(__file__, argv, args.venv)


if __name__ == "__main__":
    main()
