"""Scripted waypoint policies for the ten MT10 tasks, in JAX (our own code).

They follow the logic of Meta-World's stateless scripted policies (Yu et al., 2019, arXiv 1910.10897;
the ``metaworld.policies`` package): each step parses the 39-D observation (hand = obs[0:3],
object point = obs[4:7], goal = obs[36:39]), picks one waypoint by a cascade of geometric tests, and outputs
``action[:3] = gain * (waypoint - hand)`` (the env clips to [-1, 1]) and ``action[3]`` = a grab effort.

Run ``python -m envs_bridge.metaworld.policies --episodes 100`` to measure success rates (one episode per env,
success = ``info["success"]`` at any step, as Meta-World's evaluator counts).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from mtjax import envs

__all__ = ["POLICIES", "REFERENCE_SUCCESS", "evaluate", "multitask_policy"]

# Success rates of Meta-World's own scripted policies in the real env (Meta-World 3.1.1, MT10(seed=0), seed 1,
# 500-step episodes).
REFERENCE_SUCCESS = {
    "reach": 1.00, "push": 1.00, "pick-place": 1.00, "door-open": 0.92, "drawer-open": 1.00,
    "drawer-close": 1.00, "button-press-topdown": 1.00, "peg-insert-side": 0.88, "window-open": 1.00,
    "window-close": 1.00,
}


def _parts(o):
    return o[0:3], o[3], o[4:7], o[36:39]


def _dxy(a, b):
    return jnp.linalg.norm(a[:2] - b[:2])


def _act(hand, target, gain, grab):
    return jnp.concatenate([gain * (target - hand), jnp.asarray(grab, jnp.float32)[None]])


def _v(x, y, z):
    return jnp.array([x, y, z], jnp.float32)


def _reach(o):
    hand, _, _, goal = _parts(o)
    return _act(hand, goal, 5.0, 0.0)


def _push(o):
    hand, _, puck, goal = _parts(o)
    ref = puck + _v(-0.005, 0, 0)
    far, high = _dxy(hand, ref) > 0.02, jnp.abs(hand[2] - ref[2]) > 0.04
    tgt = jnp.where(far, ref + _v(0, 0, 0.2), jnp.where(high, ref + _v(0, 0, 0.03), goal))
    # the grab test reads the puck itself, not ``ref`` (Meta-World's recorded actions differ on 4 % of steps otherwise)
    grab = jnp.where((_dxy(hand, puck) > 0.02) | (jnp.abs(hand[2] - puck[2]) > 0.10), 0.0, 0.6)
    return _act(hand, tgt, 10.0, grab)


def _pick_place(o):
    hand, grip, puck, goal = _parts(o)
    ref = puck + _v(-0.005, 0, 0)
    far = _dxy(hand, ref) > 0.02
    low = (jnp.abs(hand[2] - ref[2]) > 0.05) & (ref[2] < 0.04)
    tgt = jnp.where(far, ref + _v(0, 0, 0.1), jnp.where(low, ref + _v(0, 0, 0.03),
                                                         jnp.where(grip > 0.73, hand, goal)))
    grab = jnp.where(jnp.linalg.norm(hand - puck) < 0.07, 1.0, 0.0)
    return _act(hand, tgt, 10.0, grab)


def _door_open(o):
    hand, _, handle, _ = _parts(o)
    ref = handle - _v(0.05, 0, 0)
    tgt = jnp.where(_dxy(hand, ref) > 0.12, ref + _v(0.06, 0.02, 0.2),
                    jnp.where(jnp.abs(hand[2] - ref[2]) > 0.04, ref + _v(0.06, 0.02, 0), ref))
    return _act(hand, tgt, 25.0, 1.0)


def _drawer_open(o):
    hand, _, handle, _ = _parts(o)
    ref = handle + _v(0, 0, -0.02)
    far, high = _dxy(hand, ref) > 0.06, jnp.abs(hand[2] - ref[2]) > 0.04
    tgt = jnp.where(far, ref + _v(0, 0, 0.3), jnp.where(high, ref, ref + _v(0, -0.06, 0)))
    gain = jnp.where(far | high, 4.0, 50.0)
    return _act(hand, tgt, gain, -1.0)


def _drawer_close(o):
    hand, _, handle, _ = _parts(o)
    ref = handle + _v(0, 0, -0.02)
    behind = hand[1] > ref[1]
    rise = jnp.stack([hand[0], hand[1], ref[2] + 0.5])
    tgt_behind = jnp.where(hand[2] < ref[2] + 0.23, rise, ref + _v(0, -0.075, 0.23))
    tgt_front = jnp.where(jnp.abs(hand[2] - ref[2]) > 0.04, ref + _v(0, -0.075, 0), ref)
    return _act(hand, jnp.where(behind, tgt_behind, tgt_front), 25.0, 1.0)


def _button_press_topdown(o):
    hand, _, button, _ = _parts(o)
    tgt = jnp.where(_dxy(hand, button) > 0.04, button + _v(0, 0, 0.1), button)
    return _act(hand, tgt, 25.0, 1.0)


def _peg_insert_side(o):
    hand, _, peg, goal = _parts(o)
    hole = jnp.stack([jnp.float32(-0.35), goal[1], jnp.float32(0.16)])
    far, high = _dxy(hand, peg) > 0.04, jnp.abs(hand[2] - peg[2]) > 0.025
    misaligned = jnp.linalg.norm(peg[1:] - hole[1:]) > 0.03
    tgt = jnp.where(far, peg + _v(0, 0, 0.3), jnp.where(high, peg, jnp.where(
        misaligned, hole + _v(0.4, 0, 0), hole)))
    grab = jnp.where(far | (jnp.abs(hand[2] - peg[2]) > 0.15), -1.0, 0.6)
    return _act(hand, tgt, 25.0, grab)


def _window(offset_x, lift, push_x):
    def policy(o):
        hand, _, handle, _ = _parts(o)
        ref = handle + _v(offset_x, -0.03, -0.08)
        tgt = jnp.where(_dxy(hand, ref) > 0.04, ref + _v(0, 0, lift),
                        jnp.where(jnp.abs(hand[2] - ref[2]) > 0.02, ref, ref + _v(push_x, 0, 0)))
        return _act(hand, tgt, 25.0, 1.0)

    return policy


POLICIES: dict[str, Callable[[jax.Array], jax.Array]] = {
    "reach": _reach, "push": _push, "pick-place": _pick_place, "door-open": _door_open,
    "drawer-open": _drawer_open, "drawer-close": _drawer_close, "button-press-topdown": _button_press_topdown,
    "peg-insert-side": _peg_insert_side, "window-open": _window(-0.03, 0.3, 0.1),
    "window-close": _window(0.03, 0.25, -0.1),
}


def multitask_policy(task_set: envs.TaskSet, table=None) -> Callable[[jax.Array], jax.Array]:
    """Policy for a task-major batch: ``obs [N, >=39] -> action [N, 4]`` (each block uses its task's policy from
    ``table``, default ``POLICIES``; ``policies_mt50.POLICIES_MT50`` covers all 50 MT50 tasks)."""
    table = POLICIES if table is None else table

    def act(obs):
        out = [jax.vmap(table[name])(obs[off:off + n, :39])
               for name, off, n in zip(task_set.task_names, task_set.offsets, task_set.envs_per_task)]
        return jnp.concatenate(out)

    return act


def evaluate(env, key: jax.Array, steps: int, step_fn=None, reset_fn=None) -> dict[str, np.ndarray]:
    """Runs one episode of ``steps`` steps in every env with the scripted policies (no auto-reset reached if
    ``steps <= env.episode_length``).

    Returns:
      ``{"success": [N] bool (success at any step), "first": [N] int (first successful step, 1-based, or 0)}``.
    """
    step_fn = step_fn or jax.jit(env.step)
    act = jax.jit(multitask_policy(env.task_set))
    state = (reset_fn or jax.jit(env.reset))(key)
    n = env.task_set.num_envs
    ever, first = np.zeros(n, bool), np.zeros(n, np.int32)
    for t in range(steps):
        state = step_fn(state, act(state.obs))
        s = np.asarray(state.info["success"])
        first = np.where(s & ~ever, t + 1, first)
        ever |= s
        if ever.all():  # later steps cannot change "success at any step" or the first successful step
            break
    return {"success": ever, "first": first}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--episodes", type=int, default=100, help="episodes (= envs) per task")
    p.add_argument("--steps", type=int, default=500, help="steps per episode (Meta-World's limit: 500)")
    p.add_argument("--frame-skip", type=int, default=None)
    p.add_argument("--mode", default="rand")
    p.add_argument("--tasks", default=None, help="comma-separated subset of MT10")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="JSON output path")
    args = p.parse_args(argv)
    from envs_bridge.metaworld import TASKS, MetaWorldEnv

    names = tuple(args.tasks.split(",")) if args.tasks else TASKS
    kw = {} if args.frame_skip is None else {"frame_skip": args.frame_skip}
    env = MetaWorldEnv(envs.TaskSet(names, (args.episodes,) * len(names)), episode_length=args.steps,
                       mode=args.mode, **kw)
    t0 = time.time()
    res = evaluate(env, jax.random.key(args.seed), args.steps)
    out = {"episodes": args.episodes, "steps": args.steps, "frame_skip": env.frame_skip, "mode": args.mode,
           "device": jax.devices()[0].device_kind, "wall_s": round(time.time() - t0, 1), "tasks": {}}
    for name, off, n in zip(names, env.task_set.offsets, env.task_set.envs_per_task):
        s, f = res["success"][off:off + n], res["first"][off:off + n]
        out["tasks"][name] = {"success": float(s.mean()), "reference": REFERENCE_SUCCESS[name],
                              "mean_first_step": float(f[s].mean()) if s.any() else None}
        print(f"{name:22s} success {s.mean():.2f} (Meta-World {REFERENCE_SUCCESS[name]:.2f})  "
              f"first step {out['tasks'][name]['mean_first_step']}", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()
