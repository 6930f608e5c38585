"""How far Meta-World itself moves when only MuJoCo's version changes: the floor under our scenes' agreement.

Our references (fixtures, policy transfer) are Meta-World 3.1.1 on the MuJoCo it pins, 3.3.0; our scenes run on
MuJoCo 3.17 (pinned with mujoco-mjx). This replays recorded real closed-loop action paths (``--traces``: npz files
from ``scripts/policy_in_metaworld.py --traces``, ``real/<task>/{action,rand_vec,hand,success,q}``) twice:

* in Meta-World 3.1.1 **on our MuJoCo** (a second venv, ``--venv``, built here: metaworld installed without its
  ``mujoco==3.3.0`` pin). MuJoCo 3.17's weld carries 12 numbers where 3.3.0's carried 11, so Meta-World's
  ``reset_mocap_welds`` (which writes 11) is replaced by one that writes the same 11 and keeps the 12th as compiled;
  free motion agrees to ~0.1 mm (reach, push), so the weld is the same;
* in our arm scene (C MuJoCo, ``ARM_PHYSICS``, ``CpuRollout``).

For each, per task: episodes whose success (any step) equals the record's, hand error against the record (median and
max over episodes x steps) and the task joint's mean error. Writes a JSON (``--out``) and prints a table.

``--parity mt10|mt50`` asks the same of the scripted-policy parity targets (``trajectory_parity.TARGETS``): Meta-World
on our MuJoCo replays the parity fixture's recorded actions (open loop) and runs its own scripted policy on the same
variations (closed loop), and ``trajectory_parity.metrics`` scores it against the fixture exactly as it scores our
arm scenes (``--episodes`` x ``--steps``, default the CI tests' 5 x 200); the JSON lists, per task and target, whether
Meta-World itself meets it beside whether ours does.

``--closed-loop`` does it for the 50-variation closed loop (``closed_loop_parity``: Meta-World's scripted policy, one
500-step episode on each of the 50 variations, any-step and final-step shares within 10 points of ``REAL``): Meta-World
on our MuJoCo against ``REAL`` (Meta-World on 3.3.0), beside our arm scenes' figures from ``--ours-json`` (the
``closed_loop_parity --json`` output).

Usage (repository root)::

    python scripts/metaworld_version_floor.py --traces /tmp/tr_pc_final.npz,/tmp/tr_s43_final.npz \
        --out benchmarks/results/metaworld_version_floor_mt10.json
    python scripts/metaworld_version_floor.py --parity mt50 \
        --out benchmarks/results/metaworld_version_floor_parity_mt50.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
from record_metaworld_traces import child_env

TASKS = ("reach", "push", "pick-place", "door-open", "drawer-open", "drawer-close", "button-press-topdown",
         "peg-insert-side", "window-open", "window-close")
JOINTS = {"door-open": "doorjoint", "drawer-open": "goal_slidey", "drawer-close": "goal_slidey",
          "button-press-topdown": "btnbox_joint", "window-open": "window_slide", "window-close": "window_slide"}


def _inner(args) -> None:
    """In the second venv: replay every trace file's real actions in Meta-World; save hand / success / q."""
    import metaworld
    import mujoco

    _patch_welds()
    bench = metaworld.MT10(seed=0)
    out = {"mujoco": np.array(mujoco.__version__)}
    for k, path in enumerate(args.traces.split(",")):
        z = np.load(path)
        for task in TASKS:
            name = f"{task}-v3"
            variations = [t for t in bench.train_tasks if t.env_name == name]
            act = z[f"real/{task}/action"]
            e_n, t_n = act.shape[:2]
            hand, succ, q = np.zeros((e_n, t_n, 3)), np.zeros((e_n, t_n)), np.zeros((e_n, t_n))
            for v in range(e_n):
                env = bench.train_classes[name]()
                env.set_task(variations[v])
                env.reset()
                assert np.allclose(env._last_rand_vec, z[f"real/{task}/rand_vec"][v]), (task, v)
                for t in range(t_n):
                    o, _r, _te, _tr, info = env.step(act[v, t].astype(np.float32))
                    hand[v, t], succ[v, t] = o[:3], info["success"]
                    q[v, t] = env.data.joint(JOINTS[task]).qpos[0] if task in JOINTS else 0.0
                env.close()
            out.update({f"{k}/{task}/hand": hand, f"{k}/{task}/success": succ, f"{k}/{task}/q": q})
            print(f"  Meta-World on mujoco {mujoco.__version__}: {os.path.basename(path)} {task}", flush=True)
    np.savez(args.out, **out)


def _inner_parity(args) -> None:
    """In the second venv: the parity fixture's actions replayed (open) and Meta-World's scripted policy (closed)."""
    import metaworld
    import mujoco
    from metaworld.policies import ENV_POLICY_MAP
    from record_metaworld_trajectories import _episode

    _patch_welds()
    z = np.load(args.fixture)
    every = int(z["every"])
    tasks = list(dict.fromkeys(k.split("/")[0] for k in z.files if "/" in k))
    bench = metaworld.MT10(seed=0) if args.parity == "mt10" else metaworld.MT50(seed=0)
    out = {"mujoco": np.array(mujoco.__version__)}
    for task in tasks:
        name = f"{task}-v3"
        variations = [t for t in bench.train_tasks if t.env_name == name]
        env = bench.train_classes[name]()
        opened = {"tcp": [], "obj": [], "joint_q": [], "success": []}
        closed = {k: [] for k in opened}
        for v in range(args.episodes):
            for part, policy in (("open", _Replay(z[f"{task}/action"][v])), ("closed", ENV_POLICY_MAP[name]())):
                env.set_task(variations[v])
                ep = _episode(env, policy, task, args.steps, every)
                assert np.allclose(ep["rand_vec"], z[f"{task}/rand_vec"][v], atol=1e-6), (task, v)
                for k, val in (opened if part == "open" else closed).items():
                    val.append(ep[k])
        env.close()
        for part, d in (("open", opened), ("closed", closed)):
            for k, val in d.items():
                out[f"{task}/{part}/{k}"] = np.stack(val)
        print(f"  Meta-World on mujoco {mujoco.__version__}: {task}", flush=True)
    np.savez(args.out, **out)


class _Replay:
    """A Meta-World scripted policy's interface over recorded actions: ``record_metaworld_trajectories._episode``
    then replays them open loop, recording what it records for the closed loop."""

    def __init__(self, actions: np.ndarray):
        self._actions = iter(actions)

    def get_action(self, _obs) -> np.ndarray:
        return next(self._actions)


def _inner_closed_loop(args) -> None:
    """In the second venv: success flags of Meta-World's scripted policy on each task's 50 seeded variations."""
    import metaworld
    import mujoco
    from metaworld.policies import ENV_POLICY_MAP
    from record_metaworld_trajectories import _episode

    _patch_welds()
    benches = {"mt10": metaworld.MT10(seed=0), "mt50": metaworld.MT50(seed=0)}
    mt10 = set(benches["mt10"].train_classes)
    out = {"mujoco": np.array(mujoco.__version__)}
    for task in args.tasks.split(","):
        name = f"{task}-v3"
        bench = benches["mt10" if name in mt10 else "mt50"]
        variations = [t for t in bench.train_tasks if t.env_name == name]
        env, flags = bench.train_classes[name](), []
        for v in range(args.episodes):
            env.set_task(variations[v])
            flags.append(_episode(env, ENV_POLICY_MAP[name](), task, args.steps, args.steps)["success"].astype(bool))
        env.close()
        out[task] = np.asarray(flags)
        print(f"  Meta-World on mujoco {mujoco.__version__}: {task} closed loop", flush=True)
    np.savez(args.out, **out)


def _closed_loop(args, vpy: str) -> None:
    """The 50-variation closed loop: Meta-World on our MuJoCo and our arm scenes against ``REAL``."""
    import mujoco

    from envs_bridge.metaworld import closed_loop_parity as clp

    tasks = list(clp.REAL)
    with tempfile.TemporaryDirectory() as tmp:
        res = os.path.join(tmp, "mw.npz")
        subprocess.run([vpy, os.path.abspath(__file__), "--inner", "--closed-loop", "--tasks", ",".join(tasks),
                        "--episodes", "50", "--steps", "500", "--out", res], check=True, env=child_env())
        mw = dict(np.load(res))
    with open(args.ours_json) as f:
        ours = json.load(f)
    rows = {t: {"metaworld_on_our_mujoco": clp.compare(clp.summarise(mw[t]), clp.REAL[t]),
                "ours": ours["tasks"][t]} for t in tasks}
    print(f"{'task':26s} real (3.3.0) any / final | Meta-World on {mujoco.__version__} | ours; x = more than 0.10 off")
    for t, r in rows.items():
        a, b = r["metaworld_on_our_mujoco"], r["ours"]
        print(f"{t:26s} {a['any_real']:.2f} / {a['final_real']:.2f} | {a['any']:.2f} / {a['final']:.2f}"
              f" {'ok' if a['ok_closed'] else 'x '} | {b['any']:.2f} / {b['final']:.2f} {'ok' if b['ok_closed'] else 'x'}")
    n = {who: sum(r[who]["ok_closed"] for r in rows.values()) for who in ("metaworld_on_our_mujoco", "ours")}
    doc = {"what": "50-variation closed loop (closed_loop_parity.REAL, Meta-World 3.1.1 on mujoco 3.3.0): Meta-World "
                   "3.1.1 on our mujoco with its scripted policies, and our arm scenes (from ours_json)",
           "versions": {"mujoco_ours": mujoco.__version__, "mujoco_metaworld_replay": str(mw["mujoco"]),
                        "metaworld": "3.1.1"},
           "ours_json": os.path.relpath(args.ours_json), "ok_closed": n, "of": len(tasks),
           "missed_by_both": [t for t, r in rows.items() if not r["metaworld_on_our_mujoco"]["ok_closed"]
                              and not r["ours"]["ok_closed"]],
           "rows": rows}
    out = args.out or os.path.join("benchmarks", "results", "metaworld_version_floor_closed_loop_50var.json")
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"within 10 points on both shares: Meta-World on {mujoco.__version__} {n['metaworld_on_our_mujoco']}, "
          f"ours {n['ours']} of {len(tasks)}; wrote {out}")


def _patch_welds() -> None:
    """Meta-World's ``reset_mocap_welds`` for a MuJoCo whose weld carries a 12th number (kept as compiled)."""
    import mujoco
    from metaworld.sawyer_xyz_env import SawyerMocapBase

    def reset_mocap_welds(self) -> None:
        if self.model.nmocap == 0 or self.model.eq_data is None:
            return
        for i in range(self.model.eq_data.shape[0]):
            if self.model.eq_type[i] == mujoco.mjtEq.mjEQ_WELD:
                self.model.eq_data[i][:11] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 5.0]

    SawyerMocapBase.reset_mocap_welds = reset_mocap_welds


def _ensure_venv(venv: str, mujoco_version: str) -> str:
    vpy = os.path.join(venv, "bin", "python")
    probe = [vpy, "-c", f"import metaworld, mujoco; assert mujoco.__version__ == '{mujoco_version}'"]
    if os.path.exists(vpy) and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return vpy
    print(f"creating {venv}: metaworld==3.1.1 (without its pin) on mujoco=={mujoco_version}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    pip = [vpy, "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--no-deps", "metaworld==3.1.1"], check=True)
    subprocess.run(pip + [f"mujoco=={mujoco_version}", "gymnasium==1.4.0", "imageio", "scipy", "numpy", "packaging",
                          "glfw", "PyOpenGL"], check=True)
    subprocess.run(probe, check=True)
    return vpy


def _ours(z) -> dict:
    """The real actions replayed in our arm scene: ``{task: (hand, success, q)}``."""
    from envs_bridge.metaworld import ARM_PHYSICS
    from envs_bridge.metaworld.cpu_sim import CpuRollout, replay_actions

    out = {}
    for task in TASKS:
        act = z[f"real/{task}/action"]  # the real env's clipped actions, within [-1, 1]
        r = replay_actions(CpuRollout(task, act.shape[0], **ARM_PHYSICS), z[f"real/{task}/rand_vec"], act)
        out[task] = (r["hand"], r["success"], r["q"])
    return out


def _metrics(z, task: str, hand, succ, q) -> dict:
    err = np.linalg.norm(hand - z[f"real/{task}/hand"], axis=-1)
    same = int((succ.max(1) == z[f"real/{task}/success"].max(1)).sum())
    return {"same_episodes": same, "episodes": int(succ.shape[0]),
            "success": float(succ.max(1).mean()), "success_record": float(z[f"real/{task}/success"].max(1).mean()),
            "hand_err_median_mm": round(float(np.median(err)) * 1e3, 2),
            "hand_err_max_mm": round(float(err.max()) * 1e3, 1),
            "joint_err_mean": round(float(np.abs(q - z[f"real/{task}/q"]).mean()), 4) if task in JOINTS else None}


def _parity(args, vpy: str) -> None:
    """Parity targets met by Meta-World on our MuJoCo and by our arm scenes, against the same fixture."""
    import importlib.metadata as md

    import jax
    import mujoco

    from envs_bridge.metaworld import ARM_PHYSICS
    from envs_bridge.metaworld import trajectory_parity as tp

    path = tp.FIXTURES[args.parity]
    with tempfile.TemporaryDirectory() as tmp:
        res = os.path.join(tmp, "mw.npz")
        subprocess.run([vpy, os.path.abspath(__file__), "--inner", "--parity", args.parity, "--fixture", path,
                        "--episodes", str(args.episodes), "--steps", str(args.steps), "--out", res],
                       check=True, env=child_env())
        mw = dict(np.load(res))
    fixture = tp.load_fixture(path, episodes=args.episodes, steps=args.steps)
    tasks = [t for t in fixture if t != "_every"]
    ran = tp.run(fixture, jax.random.key(0), backend="cpu", **ARM_PHYSICS)
    # Meta-World's rollouts scored with our scene's joint range, as ours are (run's "range")
    theirs = {t: {"range": ran[t]["range"], **{part: {k: mw[f"{t}/{part}/{k}"].astype(bool if k == "success" else float)
                                                      for k in ("tcp", "obj", "joint_q", "success")}
                                               for part in ("open", "closed")}} for t in tasks}
    floor = tp.metrics(theirs, fixture)
    ours = tp.metrics(ran, fixture)
    keys = ("ok_tcp", "ok_obj", "ok_success", "ok_joint")
    rows = {t: {"metaworld_on_our_mujoco": {k: (bool(v) if k.startswith("ok_") else v) for k, v in floor[t].items()},
                "ours": {k: (bool(v) if k.startswith("ok_") else v) for k, v in ours[t].items()}} for t in tasks}
    print(f"{'task':26s} target: Meta-World on mujoco {mujoco.__version__} / ours (arm, C MuJoCo); x = missed")
    for t in tasks:
        cells = [f"{k[3:]} {'ok' if floor[t][k] else 'x'}/{'ok' if ours[t][k] else 'x'}" for k in keys]
        print(f"{t:26s} " + "  ".join(cells) + f"   tcp mm {floor[t]['tcp_median'] * 1e3:.1f}/"
              f"{ours[t]['tcp_median'] * 1e3:.1f}")
    count = {k: [sum(bool(floor[t][k]) for t in tasks), sum(bool(ours[t][k]) for t in tasks)] for k in keys}
    both_miss = {k: [t for t in tasks if not floor[t][k] and not ours[t][k]] for k in keys}
    doc = {"what": f"scripted-policy parity targets (trajectory_parity.TARGETS) on the {args.parity} fixture, "
                   f"{args.episodes} episodes x {args.steps} steps: Meta-World 3.1.1 on our mujoco vs the fixture "
                   "(recorded on mujoco 3.3.0), and our arm scenes (C MuJoCo, ARM_PHYSICS) vs the same fixture",
           "versions": {"mujoco_ours": mujoco.__version__, "mujoco_metaworld_replay": str(mw["mujoco"]),
                        "metaworld": "3.1.1", "jax": md.version("jax")},
           "targets_met": {k: {"metaworld_on_our_mujoco": c[0], "ours": c[1], "of": len(tasks)}
                           for k, c in count.items()},
           "missed_by_both": both_miss, "rows": rows}
    out = args.out or os.path.join("benchmarks", "results", f"metaworld_version_floor_parity_{args.parity}.json")
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    print({k: f"{c[0]} / {c[1]} of {len(tasks)}" for k, c in count.items()})
    print(f"wrote {out}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--traces", help="comma-separated npz files of policy_in_metaworld.py --traces")
    p.add_argument("--parity", choices=("mt10", "mt50"), help="score the scripted-policy parity targets instead")
    p.add_argument("--episodes", type=int, default=5, help="--parity: episodes per task")
    p.add_argument("--steps", type=int, default=200, help="--parity: steps per episode")
    p.add_argument("--closed-loop", action="store_true", help="score the 50-variation closed loop instead")
    p.add_argument("--ours-json", default=os.path.join("benchmarks", "results",
                                                       "metaworld_closed_loop_50var_arm_fs4_cpu.json"),
                   help="--closed-loop: our figures (closed_loop_parity --json)")
    p.add_argument("--tasks", help=argparse.SUPPRESS)
    p.add_argument("--fixture", help=argparse.SUPPRESS)
    p.add_argument("--venv", default="/tmp/mw_mujoco_ours_venv", help="venv for Meta-World on our MuJoCo")
    p.add_argument("--out", help="JSON to write (default benchmarks/results/metaworld_version_floor_<what>.json)")
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        (_inner_closed_loop if args.closed_loop else _inner_parity if args.parity else _inner)(args)
        return
    if sum(map(bool, (args.traces, args.parity, args.closed_loop))) != 1:
        p.error("give one of --traces (recorded real paths), --parity mt10|mt50 (the parity fixtures) or "
                "--closed-loop (the 50-variation closed loop)")
    import mujoco

    vpy = _ensure_venv(args.venv, mujoco.__version__)
    if args.parity or args.closed_loop:
        (_parity if args.parity else _closed_loop)(args, vpy)
        return
    import importlib.metadata as md

    args.out = args.out or os.path.join("benchmarks", "results", "metaworld_version_floor_mt10.json")
    with tempfile.TemporaryDirectory() as tmp:
        res = os.path.join(tmp, "mw.npz")
        subprocess.run([vpy, os.path.abspath(__file__), "--inner", "--traces", args.traces, "--out", res],
                       check=True, env=child_env())
        mw = dict(np.load(res))
    rows = []
    for k, path in enumerate(args.traces.split(",")):
        z = np.load(path)
        ours = _ours(z)
        for task in TASKS:
            mw_task = tuple(mw[f"{k}/{task}/{f}"] for f in ("hand", "success", "q"))
            rows.append({"trace": os.path.basename(path), "task": task,
                         "metaworld_on_our_mujoco": _metrics(z, task, *mw_task),
                         "ours": _metrics(z, task, *ours[task])})
    print(f"{'trace':20s} {'task':22s} | Meta-World on mujoco {mujoco.__version__}: same / hand mm med, max / joint"
          f" | ours (arm, C MuJoCo): same / hand mm med, max / joint")
    for r in rows:
        a, b = r["metaworld_on_our_mujoco"], r["ours"]
        print(f"{r['trace']:20s} {r['task']:22s} | {a['same_episodes']:2d} / {a['hand_err_median_mm']:5.1f}"
              f" {a['hand_err_max_mm']:6.1f} / {a['joint_err_mean']} | {b['same_episodes']:2d} /"
              f" {b['hand_err_median_mm']:5.1f} {b['hand_err_max_mm']:6.1f} / {b['joint_err_mean']}")
    doc = {"what": "recorded real closed-loop paths (Meta-World 3.1.1 on mujoco 3.3.0) replayed open loop in "
                   "Meta-World 3.1.1 on our mujoco and in our arm scene; errors against the record",
           "record": "Meta-World 3.1.1, mujoco 3.3.0 (policy_in_metaworld.py --traces)",
           "versions": {"mujoco_ours": mujoco.__version__, "mujoco_metaworld_replay": str(mw["mujoco"]),
                        "metaworld": "3.1.1", "numpy": md.version("numpy")},
           "physics": "ARM_PHYSICS (arm, 4 x 3.125 ms, 4 solver iterations), C MuJoCo", "rows": rows}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
