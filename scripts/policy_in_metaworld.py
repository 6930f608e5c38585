"""Run a policy trained on our MJX scenes in the real Meta-World, and in ours from the same initial states.

A policy is the sharpest probe of a simulator: it exploits whatever the scene lets it. If the trained MT10
policy succeeds in the real Meta-World 3.1.1 as often as in our MJX scenes, the scenes are faithful where the
policy goes; where the rates differ, our physics differs on the learned path (and the per-step traces say where).

The real env runs in the Meta-World venv (``scripts/record_metaworld_traces.py`` builds it) as a child process
that serves ``reset``/``step`` requests over stdin/stdout; this process holds the policy (any architecture a run
config describes, jitted) and our env. For every task, ``--episodes`` episodes (Meta-World's seeded variations
``0..episodes-1`` of ``MT10(seed=0)``), deterministic mean actions, 150 steps, MTBench's any-step success.

``--replay`` separates physics from policy: our env's closed-loop action sequences are replayed open loop in the real
env from the same initial states. Where the policy fails in the real env but its replayed actions succeed, the two
physics agree along that path and the policy reacts differently to small state differences (closed-loop drift).
``--reverse`` is the same check the other way round: the real env's closed-loop actions replayed open loop in ours
(MJX, the run's env). Where ours then does what the real env did (same episodes succeed, the hand within a few mm),
our physics follows the real one along the path the policy takes there.

Usage (repository root, our venv)::

    python scripts/policy_in_metaworld.py --run_dir=runs/mt10_ppo-s42 --episodes=10 \\
        --out=benchmarks/results/policy_transfer.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
from record_metaworld_traces import _JOINTS, _default_python, _ensure_venv, child_env

STEPS = 150


def _serve() -> None:
    """Child process (Meta-World venv): one JSON request per stdin line, one JSON reply per stdout line."""
    import metaworld

    bench = metaworld.MT10(seed=0)
    out = sys.stdout
    sys.stdout = sys.stderr  # keep library prints off the reply channel
    envs: list = []
    task = ""
    for line in sys.stdin:
        req = json.loads(line)
        if req["cmd"] == "reset":
            task = req["task"]
            name = f"{task}-v3"
            variations = [t for t in bench.train_tasks if t.env_name == name]
            for e in envs:
                e.close()
            envs = []
            obs, rvs = [], []
            for v in range(req["episodes"]):
                e = bench.train_classes[name]()
                e.set_task(variations[v % len(variations)])
                o, _ = e.reset()
                envs.append(e)
                obs.append(o.tolist())
                rvs.append(np.asarray(e._last_rand_vec).tolist())
            reply = {"obs": obs, "rand_vecs": rvs}
        elif req["cmd"] == "step":
            obs, succ, q = [], [], []
            for e, a in zip(envs, req["actions"]):
                o, _r, _term, _trunc, info = e.step(np.asarray(a, np.float32))
                obs.append(o.tolist())
                succ.append(float(info["success"]))
                q.append(float(e.data.joint(_JOINTS[task]).qpos[0]) if task in _JOINTS else 0.0)
            reply = {"obs": obs, "success": succ, "q": q}
        else:
            reply = {"error": f"unknown cmd {req['cmd']!r}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def _policy(run_dir: str):
    """``(act(obs [E, 39 + T], task_index) -> actions [E, 4], task names)`` of a run's latest checkpoint."""
    import jax
    import jax.numpy as jnp

    from experiments import common

    c, env, learner, ls = common.restore_policy(run_dir, envs_per_task=1)
    policy = common.deterministic_policy(c, learner, ls)
    act = jax.jit(lambda obs, tid: jnp.clip(policy(obs, tid), -1.0, 1.0))
    return act, tuple(env.task_set.task_names), c


def _ours(c, task_names, act, rand_vecs: dict[str, np.ndarray], actions: dict | None = None
          ) -> dict[str, dict[str, np.ndarray]]:
    """The same episodes in our MJX scenes (all tasks in one jitted rollout); with ``actions`` ({task: [E, STEPS,
    4]}), those actions open loop instead of the policy."""
    import jax
    import jax.numpy as jnp

    from envs_bridge.metaworld.env import MetaWorldEnv
    from mtjax import envs

    e = len(next(iter(rand_vecs.values())))
    kw = {k: v for k, v in dict(c.env.kwargs).items() if k != "random_init_step"}  # c: the run's RunConfig
    env = MetaWorldEnv(envs.TaskSet(tuple(task_names), (e,) * len(task_names)), **{**kw, "episode_length": STEPS + 10})

    given = None if actions is None else np.concatenate([actions[t] for t in task_names], 0).transpose(1, 0, 2)

    def run(key, given):
        st = env.reset_from(key, tuple(jnp.asarray(rand_vecs[t], jnp.float32) for t in task_names))

        def body(st, a_given):
            a = act(st.obs, st.task_id) if a_given is None else a_given
            st = env.step(st, a)
            ins = env.inspect(st)
            # the hand body, as the real env's obs[0:3] (``inspect``'s "tcp" is the fingertip midpoint, 4.5 cm lower)
            return st, (st.info["success"], ins["joint_q"], ins["hand"], ins["obj_pos"], a)

        _, out = jax.lax.scan(body, st, given, length=STEPS)
        return out

    succ, q, hand, obj, a = map(np.asarray, jax.jit(run)(jax.random.key(0), given))
    res = {}
    for i, t in enumerate(task_names):
        s = slice(i * e, (i + 1) * e)
        res[t] = {"success": succ[:, s].T, "q": q[:, s].T, "hand": hand[:, s].transpose(1, 0, 2),
                  "obj": obj[:, s].transpose(1, 0, 2), "action": a[:, s].transpose(1, 0, 2)}
    return res


def _real(vpy: str, task_names, act, episodes: int, actions: dict | None = None) -> tuple[dict, dict]:
    """The policy closed loop in the real env; with ``actions`` ({task: [E, STEPS, 4]}), those actions open loop."""
    child = subprocess.Popen([vpy, os.path.abspath(__file__), "--serve"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=child_env())

    def call(req):
        child.stdin.write(json.dumps(req) + "\n")
        child.stdin.flush()
        reply = json.loads(child.stdout.readline())
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    n_tasks = len(task_names)
    res, rvs = {}, {}
    try:
        for i, t in enumerate(task_names):
            r = call({"cmd": "reset", "task": t, "episodes": episodes})
            rvs[t] = np.asarray(r["rand_vecs"])
            one_hot = np.tile(np.eye(n_tasks)[i], (episodes, 1))
            obs = np.asarray(r["obs"])
            succ, q, hand, obj, acts = [], [], [], [], []
            for k in range(STEPS):
                a = actions[t][:, k] if actions is not None else np.asarray(
                    act(np.concatenate([obs, one_hot], 1).astype(np.float32), np.full(episodes, i, np.int32)))
                r = call({"cmd": "step", "actions": a.tolist()})
                obs = np.asarray(r["obs"])
                acts.append(np.asarray(a, np.float32))
                succ.append(r["success"])
                q.append(r["q"])
                hand.append(obs[:, 0:3])
                obj.append(obs[:, 4:7])
            res[t] = {"success": np.asarray(succ).T, "q": np.asarray(q).T, "hand": np.stack(hand, 1),
                      "obj": np.stack(obj, 1), "action": np.stack(acts, 1), "rand_vec": rvs[t]}
            how = "our actions open loop" if actions is not None else "any-step success"
            print(f"  real {t:22s} {how} {res[t]['success'].max(1).mean():.2f}", flush=True)
    finally:
        child.stdin.close()
        child.wait(timeout=60)
    return res, rvs


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run_dir", help="run directory (or a learner-only export) of a Meta-World MT10 run")
    p.add_argument("--episodes", type=int, default=10, help="episodes per task (seeded variations 0..N-1)")
    p.add_argument("--venv", default="/tmp/mw_oracle_venv", help="virtual environment for metaworld 3.1.1")
    p.add_argument("--out", default=None, help="JSON with the per-task table")
    p.add_argument("--traces", default=None,
                   help="optional .npz with per-step success, joint, hand, object, action (real, ours and, with --replay, "
                        "replay) and the real env's task variations (real/<task>/rand_vec)")
    p.add_argument("--replay", action="store_true",
                   help="also replay our env's closed-loop actions open loop in the real env (physics vs policy)")
    p.add_argument("--reverse", action="store_true",
                   help="also replay the real env's closed-loop actions open loop in ours (physics vs policy, the other way)")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve:
        _serve()
        return
    if not args.run_dir:
        p.error("--run_dir is required")
    vpy = _ensure_venv(args.venv, _default_python())
    act, task_names, c = _policy(args.run_dir)
    print(f"real Meta-World 3.1.1, {args.episodes} episodes per task ...", flush=True)
    real, rvs = _real(vpy, task_names, act, args.episodes)
    print("ours (MJX), same initial states ...", flush=True)
    ours = _ours(c, task_names, act, rvs)
    replay = None
    if args.replay:
        print("real Meta-World, our actions replayed open loop ...", flush=True)
        replay, rvs2 = _real(vpy, task_names, act, args.episodes, {t: ours[t]["action"] for t in task_names})
        bad = [t for t in task_names if not np.array_equal(rvs2[t], rvs[t])]
        if bad:
            raise RuntimeError(f"the replay started from other initial states than the closed loop: {bad}")
    reverse = None
    if args.reverse:
        print("ours (MJX), the real env's actions replayed open loop ...", flush=True)
        reverse = _ours(c, task_names, act, rvs, {t: real[t]["action"] for t in task_names})
    table = {}
    print(f"{'task':22s} {'success real':>12s} {'ours':>6s} {'final |dq| real':>16s} {'ours':>7s}"
          + (f" {'real, replayed':>14s}" if replay else "")
          + (f" {'ours replaying real':>19s} {'hand err, mm':>12s}" if reverse else ""))
    for t in task_names:
        row = {"success_real": float(real[t]["success"].max(1).mean()),
               "success_ours": float(ours[t]["success"].max(1).mean()),
               "final_dq_real": float(np.abs(real[t]["q"][:, -1] - real[t]["q"][:, 0]).mean()),
               "final_dq_ours": float(np.abs(ours[t]["q"][:, -1] - ours[t]["q"][:, 0]).mean())}
        if replay is not None:
            row["success_real_replaying_ours"] = float(replay[t]["success"].max(1).mean())
        if reverse is not None:
            err = np.linalg.norm(reverse[t]["hand"] - real[t]["hand"], axis=-1)
            row["success_ours_replaying_real"] = float(reverse[t]["success"].max(1).mean())
            row["same_episodes_ours_replaying_real"] = float(
                np.mean(reverse[t]["success"].max(1) == real[t]["success"].max(1)))
            row["hand_err_ours_replaying_real_mm"] = {"median": float(np.median(err) * 1e3), "max": float(err.max() * 1e3)}
        table[t] = row
        print(f"{t:22s} {row['success_real']:12.2f} {row['success_ours']:6.2f} {row['final_dq_real']:16.3f} "
              f"{row['final_dq_ours']:7.3f}" + (f" {row['success_real_replaying_ours']:14.2f}" if replay else "")
              + (f" {row['success_ours_replaying_real']:19.2f} {row['hand_err_ours_replaying_real_mm']['median']:5.1f}/"
                 f"{row['hand_err_ours_replaying_real_mm']['max']:5.1f}" if reverse else ""))
    mean_r = np.mean([r["success_real"] for r in table.values()])
    mean_o = np.mean([r["success_ours"] for r in table.values()])
    print(f"{'mean':22s} {mean_r:12.2f} {mean_o:6.2f}")
    if args.out:
        notes = []
        if replay is not None:
            notes.append("success_real_replaying_ours: our closed-loop actions replayed open loop in the real env")
        if reverse is not None:
            notes.append("*_ours_replaying_real: the real env's closed-loop actions replayed open loop in ours (hand "
                         "error: median / max over episodes and steps)")
        with open(args.out, "w") as f:
            json.dump({"run_dir": os.path.abspath(args.run_dir), "episodes": args.episodes, "steps": STEPS,
                       "mean_success_real": float(mean_r), "mean_success_ours": float(mean_o), "tasks": table,
                       "note": "; ".join(notes)},
                      f, indent=1)
    if args.traces:
        sides = (("real", real), ("ours", ours)) + ((("replay", replay),) if replay is not None else ()) + (
            (("reverse", reverse),) if reverse is not None else ())
        np.savez_compressed(args.traces, **{f"{side}/{t}/{k}": v for side, d in sides
                                             for t, r in d.items() for k, v in r.items()})


if __name__ == "__main__":
    main()
