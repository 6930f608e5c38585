"""Record reward-following probes and random-action statistics of the articulated MT10 tasks in the real Meta-World.

Runs Meta-World 3.1.1 (Yu et al., 2019, arXiv 1910.10897) in the separate venv that
``scripts/record_metaworld_traces.py`` builds (metaworld pins ``mujoco==3.3.0``) and writes
``tests/fixtures/metaworld/probes.json``, which ``tests/test_metaworld_probes.py`` compares our MJX scenes with:

* **probes** (``envs_bridge/metaworld/probes.py``, loaded by path so both envs run the same code): for each task,
  ``--inits`` initial states (Meta-World's seeded variations ``0..inits-1`` of ``MT10(seed=0)``) x the six
  variants (TCP at the reach point, 2 or 4.5 cm below it; gripper open or closed), 150 steps each, and the same
  initial states x the three straight-line variants (``LINE_VARIANTS``, under ``line_probes``). Per episode:
  the variation's ``rand_vec``, any-step and last-step success, the task joint every 10 steps, and the contact
  pairs (``geom@body``; ``#id`` for unnamed geoms) with the step they first occurred.
* **door_hook**: door-open's hook-and-swing probe (``probes.door_hook_action``), ``--hook-inits`` initial states x
  the "above" and "direct" approaches: any-step and last-step success, the door angle every 10 steps.
* **random**: ``--random`` episodes of uniform random actions in ``[-1, 1]^4`` (variation ``i % 50``), 150
  steps: the largest ``|q - q0|`` of the task joint, and the share of episodes above ``MOVED_THRESHOLD``.

Usage (repository root)::

    python scripts/record_metaworld_probes.py                 # venv /tmp/mw_oracle_venv, 5 inits, 100 random
    python scripts/record_metaworld_probes.py --inits 5 --random 100 --out tests/fixtures/metaworld/probes.json
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
from record_metaworld_traces import load_probes_module, run_inner


def _geom_label(m, i: int) -> str:
    import mujoco

    name = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_GEOM, i) or f"#{i}"
    body = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, int(m.geom_bodyid[i])) or "world"
    return f"{name}@{body}"


def _episode(env, pr, task: str, act, contacts: dict | None = None) -> dict:
    """One ``PROBE_STEPS``-step episode from ``env.reset()`` with ``act(obs, t) -> action``: success, the task
    joint every 10 steps and, if ``contacts`` is given, the first step of every contact pair (``pair -> step``)."""
    joint = env.data.joint(pr.JOINTS[task])
    obs, _ = env.reset()
    q_trace, success, any_success = [float(joint.qpos[0])], 0.0, 0.0
    for t in range(pr.PROBE_STEPS):
        obs, _r, _term, _trunc, info = env.step(act(obs.astype(np.float64), t).astype(np.float32))
        success = float(info["success"])
        any_success = max(any_success, success)
        if contacts is not None:
            for c in env.data.contact[: env.data.ncon]:
                pair = " x ".join(sorted((_geom_label(env.model, c.geom1), _geom_label(env.model, c.geom2))))
                contacts.setdefault(pair, t)
        if (t + 1) % 10 == 0:
            q_trace.append(float(joint.qpos[0]))
    return {"rand_vec": np.asarray(env._last_rand_vec).tolist(), "any_success": any_success,
            "last_success": success, "q_every_10": q_trace}


def _probe_episode(env, pr, task: str, variant, contacts: dict | None = None, line: bool = False) -> dict:
    """A reward-following probe (``probes.probe_action``); merges its contact pairs into ``contacts``
    (``pair -> {"episodes", "first_step"}``) when given."""
    direction = np.asarray(pr.DIRECTIONS[task])
    dz, grip = variant
    state: dict = {}

    def act(obs, t):
        if t == 0:
            state["offset"], state["anchor"] = np.asarray(env.init_tcp, np.float64) - obs[0:3], np.zeros(3)
        if t == pr.APPROACH_STEPS:
            state["anchor"] = obs[4:7].copy()
        return pr.probe_action(np, obs, t, state["offset"], state["anchor"], np.float64(dz), np.float64(grip),
                               direction, line)

    seen: dict = {}
    ep = _episode(env, pr, task, act, seen if contacts is not None else None)
    for pair, t in seen.items():
        rec = contacts.setdefault(pair, {"episodes": 0, "first_step": t})
        rec["episodes"] += 1
        rec["first_step"] = min(rec["first_step"], t)
    return {"variant": [dz, grip], **ep}


def _door_hook_episode(env, pr, above: float) -> dict:
    hinge = np.asarray(env._last_rand_vec, np.float64) + np.asarray(pr.DOOR_HINGE_OFFSET)
    ep = _episode(env, pr, "door-open", lambda obs, t: pr.door_hook_action(np, obs, t, hinge, np.float64(above)))
    return {"above": above, **ep}


def _random_episode(env, pr, task: str, rng: np.random.Generator) -> dict:
    joint = env.data.joint(pr.JOINTS[task])
    env.reset()
    q0 = float(joint.qpos[0])
    max_dq, any_success = 0.0, 0.0
    for _ in range(pr.PROBE_STEPS):
        _obs, _r, _term, _trunc, info = env.step(rng.uniform(-1.0, 1.0, 4).astype(np.float32))
        max_dq = max(max_dq, abs(float(joint.qpos[0]) - q0))
        any_success = max(any_success, float(info["success"]))
    return {"max_dq": max_dq, "any_success": any_success}


def _inner(args) -> None:
    import importlib.metadata as md

    import metaworld

    pr = load_probes_module()
    bench = metaworld.MT10(seed=0)
    out = {"versions": {p: md.version(p) for p in ("metaworld", "mujoco", "gymnasium", "numpy")},
           "protocol": {"variants": [list(v) for v in pr.VARIANTS],
                        "line_variants": [list(v) for v in pr.LINE_VARIANTS], "steps": pr.PROBE_STEPS,
                        "approach_steps": pr.APPROACH_STEPS, "push_distance": pr.PUSH_DISTANCE, "gain": pr.GAIN,
                        "moved_threshold": pr.MOVED_THRESHOLD, "inits": args.inits, "random": args.random,
                        "hook_inits": args.hook_inits},
           "tasks": {}}
    for task in pr.TASKS:
        name = f"{task}-v3"
        variations = [t for t in bench.train_tasks if t.env_name == name]
        env = bench.train_classes[name]()
        t0 = time.time()
        contacts: dict = {}
        probes = []
        for v in range(args.inits):
            env.set_task(variations[v])
            for variant in pr.VARIANTS:
                ep = _probe_episode(env, pr, task, variant, contacts)
                ep["variation"] = v
                probes.append(ep)
        line_probes = []
        for v in range(args.inits):
            env.set_task(variations[v])
            for variant in pr.LINE_VARIANTS:
                ep = _probe_episode(env, pr, task, variant, line=True)
                ep["variation"] = v
                line_probes.append(ep)
        rng = np.random.default_rng([7, pr.TASKS.index(task)])
        random_eps = []
        for i in range(args.random):
            env.set_task(variations[i % len(variations)])
            random_eps.append(_random_episode(env, pr, task, rng))
        if task == "door-open":
            out["door_hook"] = []
            for v in range(args.hook_inits):
                env.set_task(variations[v])
                for mode in pr.DOOR_HOOK_MODES:
                    ep = _door_hook_episode(env, pr, 1.0 if mode == "above" else 0.0)
                    out["door_hook"].append({"variation": v, "mode": mode, **ep})
        moved = float(np.mean([e["max_dq"] > pr.MOVED_THRESHOLD for e in random_eps]))
        out["tasks"][task] = {
            "probes": probes,
            "line_probes": line_probes,
            "contacts": dict(sorted(contacts.items(), key=lambda kv: kv[1]["first_step"])),
            "random": {"moved_share": moved, "max_dq": [e["max_dq"] for e in random_eps],
                       "any_success": float(np.mean([e["any_success"] for e in random_eps]))},
        }
        succ = np.mean([p["any_success"] for p in probes])
        lsucc = np.mean([p["any_success"] for p in line_probes])
        print(f"{task:22s} probe any-step success {succ:.2f} (line {lsucc:.2f})  random moved share {moved:.2f} "
              f"({time.time() - t0:.0f}s)", flush=True)
        env.close()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1024:.0f} KiB)")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--venv", default="/tmp/mw_oracle_venv", help="virtual environment for metaworld 3.1.1")
    p.add_argument("--out", default=os.path.join("tests", "fixtures", "metaworld", "probes.json"))
    p.add_argument("--inits", type=int, default=5, help="initial states (variations) per task")
    p.add_argument("--random", type=int, default=100, help="random-action episodes per task")
    p.add_argument("--hook-inits", type=int, default=10, help="initial states of the door hook probe")
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        _inner(args)
        return
    run_inner(__file__, ["--out", os.path.abspath(args.out), "--inits", str(args.inits), "--random", str(args.random),
                         "--hook-inits", str(args.hook_inits)], args.venv)


if __name__ == "__main__":
    main()
