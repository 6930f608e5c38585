"""Record reference traces from the real Meta-World (Farama ``metaworld`` 3.1.1) for the MT10 reward oracle.

Meta-World (Yu et al., 2019, arXiv 1910.10897) pins ``mujoco==3.3.0`` and cannot live in mtjax's environment, so
this script (run by developers, never by CI) creates a separate virtual environment, installs
``metaworld==3.1.1`` into it and re-runs itself there (``--inner``) to drive Meta-World's own MT10 environments
with Meta-World's own scripted policies (clean and noisy) and with uniform random actions. For every step it saves
the quantities ``envs_bridge/metaworld/rewards.py`` reads (``QUANTITIES``), Meta-World's reward, success flag and
info terms, and per episode the constants (rand_vec, obj_init_pos, target_pos, init_tcp, ...).

Usage (from the repository root, with or without the mtjax venv active)::

    python scripts/record_metaworld_traces.py                       # venv in /tmp/mw_oracle_venv
    python scripts/record_metaworld_traces.py --venv DIR --seeds 0 1 2 --steps 150 --out tests/fixtures/metaworld

Output: one ``<task>.npz`` per MT10 task (compressed). Keys ``ep<k>/<field>`` with one row per step (values
*after* the step, as Meta-World computes the reward) and ``ep<k>/const/<name>`` per-episode constants;
``ep<k>/meta/{kind,seed,task_index}``. Per-step fields are ``step_fields(task)``: the task's non-constant
quantities, Meta-World's reward/success/info and the task joint ``joint_qpos``. Values are stored as float32
(``--float64`` to keep doubles); the rounding moves rewards by < 5e-4 relative and flipped no success flag in
the committed fixtures (success thresholds such as drawer-open's sit at a joint limit, so check after
re-recording).

The 40 MT50 tasks outside MT10: ``--tasks new`` (or any MT50 names; the default is the MT10 ten, whose output is
unchanged) drives Meta-World's ``MT50(seed)`` envs and scripted policies the same way and records every quantity
of ``envs_bridge/metaworld/quantities_mt50.py`` (loaded by path: one table for the recorder and the rewards).
A quantity that never changed within an episode is stored once under ``const/``. The committed fixtures::

    python scripts/record_metaworld_traces.py --tasks new --seeds 0 --steps 150   # 1.5 MB, ~45 s

(push-back runs 260 steps, ``MIN_STEPS_MT50``, so that its scripted policy succeeds).
Only numpy and the standard library are imported at module level, so the inner run needs nothing but metaworld.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

import numpy as np


def load_mt50_module():
    """``envs_bridge/metaworld/quantities_mt50.py`` (pure data) loaded by path, as ``load_probes_module``."""
    import importlib.util

    path = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "envs_bridge", "metaworld", "quantities_mt50.py"
    )
    spec = importlib.util.spec_from_file_location("mtjax_quantities_mt50", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_MT50 = load_mt50_module()  # the one MT10/MT50 task table (pure data), shared with the env and the rewards
MT10 = _MT50.MT10_TASKS

KINDS = ("scripted", "random", "noisy")
INFO_FIELDS = (
    "near_object",
    "grasp_success",
    "grasp_reward",
    "in_place_reward",
    "obj_to_target",
    "unscaled_reward",
)
# Mirror of ``envs_bridge.metaworld.rewards.QUANTITIES`` (+ optional quantities); the inner run cannot import
# jax, and tests/test_metaworld_rewards.py checks that the two stay equal.
_PUCK = _MT50.GRASP_QUANTITIES
QUANTITIES = {
    "reach": ("tcp_center", "target_pos", "hand_init_pos"),
    "push": _PUCK,
    "pick-place": _PUCK,
    "door-open": ("hand_pos", "obj_pos", "door_angle", "action", "target_pos"),
    "drawer-open": ("hand_pos", "obj_pos", "tcp_opened", "target_pos", "init_tcp"),
    "drawer-close": ("obj_pos", "tcp_center", "target_pos", "obj_init_pos", "init_tcp", "action"),
    "button-press-topdown": ("obj_pos", "tcp_center", "tcp_opened", "target_pos", "init_tcp"),
    "peg-insert-side": _PUCK
    + (
        "peg_head_pos",
        "collision_box_bottom_1",
        "collision_box_top_1",
        "collision_box_bottom_2",
        "collision_box_top_2",
    ),
    "window-open": (
        "obj_pos",
        "tcp_center",
        "target_pos",
        "obj_init_pos",
        "init_tcp",
        "window_handle_pos_init",
    ),
    "window-close": ("obj_pos", "tcp_center", "target_pos", "init_tcp", "window_handle_pos_init"),
}
OPTIONAL_QUANTITIES = {"push": ("touching_object",), "pick-place": ("touching_object",)}
# Per-episode constants live under ``const/``; every other quantity is a per-step field.
CONSTANT_QUANTITIES = (
    "target_pos",
    "obj_init_pos",
    "init_tcp",
    "hand_init_pos",
    "window_handle_pos_init",
    "collision_box_bottom_1",
    "collision_box_top_1",
    "collision_box_bottom_2",
    "collision_box_top_2",
)
# Besides the quantities: Meta-World's outputs, and the task joint for the simulation side's reference.
OUTPUT_FIELDS = ("reward", "success") + INFO_FIELDS[:-1]  # unscaled_reward == reward is asserted, not stored


def step_fields(task: str) -> tuple[str, ...]:
    """Per-step fields stored for ``task``."""
    quantities = QUANTITIES[task] + OPTIONAL_QUANTITIES.get(task, ())
    fields = tuple(k for k in quantities if k not in CONSTANT_QUANTITIES) + OUTPUT_FIELDS
    return fields + (("joint_qpos",) if task in _JOINTS else ())


def load_probes_module():
    """``envs_bridge/metaworld/probes.py`` loaded by path (numpy only, so it works inside the Meta-World venv)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "envs_bridge", "metaworld", "probes.py")
    spec = importlib.util.spec_from_file_location("mtjax_probes", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# The task's object joint, recorded as "joint_qpos" for the simulation side's reference.
_JOINTS = load_probes_module().JOINTS
_PEG_CORNERS = {
    "collision_box_bottom_1": "bottom_right_corner_collision_box_1",
    "collision_box_top_1": "top_left_corner_collision_box_1",
    "collision_box_bottom_2": "bottom_right_corner_collision_box_2",
    "collision_box_top_2": "top_left_corner_collision_box_2",
}


def _has_ssl(python: str) -> bool:
    return (
        subprocess.run([python, "-c", "import ssl, venv"], capture_output=True, check=False).returncode == 0
    )


def _default_python() -> str:
    """This interpreter if it can build a venv that reaches PyPI (needs ``ssl``), else a system python3.1x."""
    candidates = [sys.executable] + [shutil.which(f"python3.{m}") or "" for m in (11, 12, 10)]
    candidates += [f"/usr/bin/python3.{m}" for m in (11, 12, 10)]
    for c in candidates:
        if c and os.path.exists(c) and _has_ssl(c):
            return c
    return sys.executable


def _ensure_venv(venv: str, python: str) -> str:
    """Create ``venv`` with metaworld 3.1.1 unless it already has it; return its python."""
    vpy = os.path.join(venv, "bin", "python")
    probe = [vpy, "-c", "import metaworld, importlib.metadata as m; assert m.version('metaworld') == '3.1.1'"]
    if os.path.exists(vpy) and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return vpy
    if not os.path.exists(vpy):
        print(f"creating {venv} with {python}", flush=True)
        subprocess.run([python, "-m", "venv", venv], check=True)
    print("installing metaworld==3.1.1 (pins mujoco==3.3.0) ...", flush=True)
    # gymnasium's mujoco package imports ``packaging`` without declaring it.
    subprocess.run([vpy, "-m", "pip", "install", "-q", "metaworld==3.1.1", "packaging"], check=True)
    subprocess.run(probe, check=True)
    return vpy


def child_env() -> dict[str, str]:
    """This process's environment without ``PYTHONPATH`` (our packages must not shadow the Meta-World venv's)."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def run_inner(script: str, argv: list[str], venv: str, python: str | None = None) -> None:
    """Re-runs ``script --inner argv...`` with the Meta-World venv's python (creating the venv if needed)."""
    vpy = _ensure_venv(venv, python or _default_python())
    subprocess.run([vpy, os.path.abspath(script), "--inner", *argv], check=True, env=child_env())


def _constants(env, task: str) -> dict[str, np.ndarray]:
    const = {
        "rand_vec": np.asarray(env._last_rand_vec, np.float64),
        "obj_init_pos": np.asarray(env.obj_init_pos, np.float64).copy(),
        "target_pos": np.asarray(env._target_pos, np.float64).copy(),
        "init_tcp": np.asarray(env.init_tcp, np.float64).copy(),
        "hand_init_pos": np.asarray(env.hand_init_pos, np.float64).copy(),
    }
    if task.startswith("window"):
        const["window_handle_pos_init"] = np.asarray(env.window_handle_pos_init, np.float64).copy()
    if task == "peg-insert-side":
        const["peg_head_pos_init"] = np.asarray(env.peg_head_pos_init, np.float64).copy()
        for ours, site in _PEG_CORNERS.items():
            const[ours] = np.asarray(env._get_site_pos(site), np.float64).copy()
    if task == "button-press-topdown":
        const["obj_to_target_init"] = np.asarray(env._obj_to_target_init, np.float64)
    return const


def _step_record(env, task: str, obs, action, reward, info) -> dict[str, np.ndarray]:
    rec = {
        "hand_pos": obs[0:3],
        "tcp_opened": obs[3],
        "obj_pos": obs[4:7],
        "tcp_center": np.asarray(env.tcp_center).copy(),
        "left_pad": env.data.body("leftpad").xpos.copy(),
        "right_pad": env.data.body("rightpad").xpos.copy(),
        "action": np.asarray(action, np.float64),
        "reward": reward,
        "success": info["success"],
    }
    for k in INFO_FIELDS:
        rec[k] = info[k]
    assert info["unscaled_reward"] == reward, (task, info["unscaled_reward"], reward)
    if task in ("push", "pick-place"):
        rec["touching_object"] = float(env.touching_main_object)
    if task == "door-open":
        rec["door_angle"] = env.data.joint("doorjoint").qpos[0]
    if task == "peg-insert-side":
        rec["peg_head_pos"] = np.asarray(env._get_site_pos("pegHead")).copy()
    if task in _JOINTS:
        rec["joint_qpos"] = env.data.joint(_JOINTS[task]).qpos[0]
    return {k: np.asarray(v, np.float64) for k, v in rec.items()}


def _action(policy, obs, kind: str, rng: np.random.Generator) -> np.ndarray:
    """The episode kind's action: uniform random, Meta-World's scripted policy, or the policy plus noise."""
    if kind == "random":
        return rng.uniform(-1.0, 1.0, 4).astype(np.float32)
    action = np.asarray(policy.get_action(obs.copy()), np.float32)
    if kind == "noisy":  # as the shipped golden data: sigma 0.3 on xyz, 20 % random gripper value
        action[:3] += rng.normal(0.0, 0.3, 3).astype(np.float32)
        if rng.uniform() < 0.2:
            action[3] = rng.uniform(-1.0, 1.0)
        action = np.clip(action, -1.0, 1.0).astype(np.float32)
    return action


def _episode(
    env, policy, task: str, kind: str, steps: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    obs, _ = env.reset()
    out: dict[str, list] = {"reset_obs": [obs.copy()]}
    const = _constants(env, task)
    rows = []
    for _ in range(steps):
        action = _action(policy, obs, kind, rng)
        obs, reward, _terminated, _truncated, info = env.step(action)
        rows.append(_step_record(env, task, obs, action, reward, info))
    rec = {k: np.stack([r[k] for r in rows]) for k in step_fields(task)}
    rec.update({f"const/{k}": v for k, v in const.items()})
    rec["const/reset_obs"] = out["reset_obs"][0]
    return rec


# ---------------------------------------------------------------------------------------------------------------
# The 40 MT50 tasks outside MT10 (``--tasks``): Meta-World's own ``MT50(seed)`` envs and scripted policies.
# Every quantity of ``quantities_mt50.QUANTITIES_MT50`` (+ optional ones) is read after each step; a quantity
# whose value never changes within the episode is stored once under ``const/`` (exact float64 comparison before
# the float32 cast), so live views (door-unlock's ``obj_init_pos``) and per-step constants need no special case.
def _site(env, name: str) -> np.ndarray:
    return np.asarray(env._get_site_pos(name))


def _joint(env, name: str) -> float:
    return float(env.data.joint(name).qpos[0])


_GETTERS = {
    "hand_pos": lambda env, obs, a: obs[0:3],
    "tcp_opened": lambda env, obs, a: obs[3],
    "obj_pos": lambda env, obs, a: obs[4:7],
    "obj_quat": lambda env, obs, a: obs[7:11],
    "obj2_pos": lambda env, obs, a: obs[11:14],
    "tcp_center": lambda env, obs, a: env.tcp_center,
    "left_pad": lambda env, obs, a: env.data.body("leftpad").xpos,
    "right_pad": lambda env, obs, a: env.data.body("rightpad").xpos,
    "action": lambda env, obs, a: a,
    "target_pos": lambda env, obs, a: env._target_pos,
    "obj_init_pos": lambda env, obs, a: env.obj_init_pos,
    "init_tcp": lambda env, obs, a: env.init_tcp,
    "hand_init_pos": lambda env, obs, a: env.hand_init_pos,
    "wrench_center": lambda env, obs, a: _site(env, "RoundNut"),
    "stick_end_pos": lambda env, obs, a: _site(env, "stick_end"),
    "stick_init_pos": lambda env, obs, a: env.stick_init_pos,
    "handle_init_pos": lambda env, obs, a: env._handle_init_pos,
    "dial_push_init": lambda env, obs, a: env.dial_push_position,
    "nail_qpos": lambda env, obs, a: _joint(env, "NailSlideJoint"),
    "lever_qpos": lambda env, obs, a: _joint(env, "LeverAxis"),
    "target_to_obj_init": lambda env, obs, a: env._target_to_obj_init,
    "touching_object": lambda env, obs, a: float(env.touching_main_object),
}


# Scripted policies that need longer than the default episode to succeed (push-back: 160 steps on average).
MIN_STEPS_MT50 = {"push-back": 260}


def mt50_fields(task: str) -> tuple[str, ...]:
    """Quantities recorded for a non-MT10 task (required, then optional)."""
    return _MT50.QUANTITIES_MT50[task] + _MT50.OPTIONAL_QUANTITIES_MT50[task]


def _episode_mt50(env, policy, task: str, kind: str, steps: int, rng) -> dict[str, np.ndarray]:
    obs, _ = env.reset()
    const = {"rand_vec": np.asarray(env._last_rand_vec, np.float64), "reset_obs": obs.copy()}
    if hasattr(env, "_obj_to_target_init"):  # the button tasks' press margin (checked against the built-in value)
        const["obj_to_target_init"] = np.asarray(env._obj_to_target_init, np.float64)
    rows = []
    for _ in range(steps):
        action = _action(policy, obs, kind, rng)
        obs, reward, _terminated, _truncated, info = env.step(action)
        assert info["unscaled_reward"] == reward, (task, info["unscaled_reward"], reward)
        row = {k: np.array(_GETTERS[k](env, obs, action), np.float64) for k in mt50_fields(task)}
        row.update({k: np.asarray(float(info[k]), np.float64) for k in INFO_FIELDS[:-1]})
        row["reward"] = np.asarray(float(reward), np.float64)
        row["success"] = np.asarray(float(info["success"]), np.float64)
        rows.append(row)
    rec = {}
    for k in rows[0]:
        col = np.stack([r[k] for r in rows])
        if k in mt50_fields(task) and np.all(col == col[0]):
            rec[f"const/{k}"] = col[0]
        else:
            rec[k] = col
    rec.update({f"const/{k}": v for k, v in const.items()})
    return rec


def _inner_mt50(args, tasks: list[str]) -> None:
    import metaworld
    from metaworld.policies import ENV_POLICY_MAP

    files: dict[str, dict[str, np.ndarray]] = {t: {} for t in tasks}
    for seed in args.seeds:
        bench = metaworld.MT50(seed=seed)
        for task in tasks:
            env, policy, task_index, rng = _task_env(bench, task, seed, _MT50.MT50_TASKS.index(task), ENV_POLICY_MAP)
            for kind in args.kinds:
                steps = max(args.steps, MIN_STEPS_MT50.get(task, 0))
                rec = _episode_mt50(env, policy, task, kind, steps, rng)
                _store(files[task], rec, kind, seed, task_index,
                       lambda v: v.astype(np.float64 if args.float64 else np.float32))
                print(f"seed {seed} {task:26s} {kind:8s} success steps {int(rec['success'].sum()):3d} "
                      f"return {rec['reward'].sum():8.1f}", flush=True)
            env.close()
    _write(files, args.out)


def _task_env(bench, task: str, seed: int, index: int, policy_map):
    """The benchmark's env of ``task`` set to a variation drawn by the task's own rng, and its scripted policy."""
    name = f"{task}-v3"
    variations = [t for t in bench.train_tasks if t.env_name == name]
    rng = np.random.default_rng([seed, index])
    env = bench.train_classes[name]()
    task_index = int(rng.integers(len(variations)))
    env.set_task(variations[task_index])
    return env, policy_map[name](), task_index, rng


def _store(dst: dict, rec: dict, kind: str, seed: int, task_index: int, cast) -> None:
    """Adds one episode as ``ep<k>/...`` (k = episodes already in ``dst``) with its kind, seed and variation."""
    k = sum(1 for key in dst if key.endswith("/meta/kind"))
    for key, val in rec.items():
        dst[f"ep{k}/{key}"] = cast(val)
    dst[f"ep{k}/meta/kind"] = np.array(kind)
    dst[f"ep{k}/meta/seed"] = np.array(seed)
    dst[f"ep{k}/meta/task_index"] = np.array(task_index)


def _write(files: dict[str, dict[str, np.ndarray]], out: str) -> None:
    for task, arrays in files.items():
        arrays["versions"] = _versions()
        path = os.path.join(out, f"{task}.npz")
        np.savez_compressed(path, **arrays)
        print(f"wrote {path} ({os.path.getsize(path) / 1024:.0f} KiB)")


def _versions() -> np.ndarray:
    import importlib.metadata as md

    return np.array(" ".join(f"{p}=={md.version(p)}" for p in ("metaworld", "mujoco", "gymnasium", "numpy")))


def _inner(args) -> None:
    import metaworld
    from metaworld.policies import ENV_POLICY_MAP

    os.makedirs(args.out, exist_ok=True)
    mt10_tasks = [t for t in MT10 if t in args.tasks]
    files: dict[str, dict[str, np.ndarray]] = {t: {} for t in mt10_tasks}
    for seed in args.seeds if mt10_tasks else ():
        bench = metaworld.MT10(seed=seed)
        for task in mt10_tasks:
            env, policy, task_index, rng = _task_env(bench, task, seed, MT10.index(task), ENV_POLICY_MAP)
            for kind in args.kinds:
                t0 = time.time()
                rec = _episode(env, policy, task, kind, args.steps, rng)
                # float64 columns become float32 unless --float64; other dtypes (flags) are stored as float64
                _store(files[task], rec, kind, seed, task_index,
                       lambda v: v.astype(np.float64 if args.float64 or v.dtype != np.float64 else np.float32))
                print(
                    f"seed {seed} {task:22s} {kind:8s} success steps {int(rec['success'].sum()):3d} "
                    f"return {rec['reward'].sum():8.1f} ({time.time() - t0:.1f}s)",
                    flush=True,
                )
            env.close()
    _write(files, args.out)
    new_tasks = [t for t in _MT50.NEW_TASKS if t in args.tasks]
    if new_tasks:
        _inner_mt50(args, new_tasks)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--venv", default="/tmp/mw_oracle_venv", help="virtual environment for metaworld 3.1.1")
    p.add_argument(
        "--python", default=None, help="interpreter for a new venv (3.10-3.12 with ssl; default: auto)"
    )
    p.add_argument("--out", default=os.path.join("tests", "fixtures", "metaworld"))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="MT10(seed) benchmark seeds")
    p.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS, help="episode kinds per seed")
    p.add_argument("--steps", type=int, default=150, help="steps per episode")
    p.add_argument("--float64", action="store_true", help="store float64 (default float32, ~2.5x smaller)")
    p.add_argument(
        "--tasks", nargs="+", default=list(MT10),
        help="tasks to record (MT50 names without -v3; 'new' = the 40 outside MT10); default the MT10 ten. "
        "MT10 tasks use MT10(seed) variations, the others MT50(seed)",
    )
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if "new" in args.tasks:
        args.tasks = [t for t in args.tasks if t != "new"] + list(_MT50.NEW_TASKS)
    unknown = sorted(set(args.tasks) - set(_MT50.MT50_TASKS))
    if unknown:
        p.error(f"unknown tasks {unknown}; valid: {', '.join(_MT50.MT50_TASKS)} or 'new'")
    if args.inner:
        _inner(args)
        return
    argv = ["--out", os.path.abspath(args.out), "--steps", str(args.steps), "--seeds", *map(str, args.seeds),
            "--kinds", *args.kinds, "--tasks", *args.tasks] + (["--float64"] if args.float64 else [])
    run_inner(__file__, argv, args.venv, args.python)


if __name__ == "__main__":
    main()
