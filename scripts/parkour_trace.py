"""Record a Go1 parkour policy's closed-loop trace on one machine and replay its actions open loop on another.

Checks whether two physics (the GPU's and the CPU's; MuJoCo Warp and MJX-JAX) step the parkour scene alike in the
states a trained policy visits (``docs/parkour.md``, "Results", "The action clip").

Record (deterministic policy, envs from ``reset(key(seed))`` at step 0, domain randomisation as configured)::

    python scripts/parkour_trace.py record --run_dir=/tmp/c/flat_learner --physics_impl=warp --out=trace.npz

Replay the recorded actions open loop from the same reset and compare step by step::

    python scripts/parkour_trace.py replay --trace=trace.npz --physics_impl=jax --out=replay.json

The trace holds base position, joint positions, observations and actions per step; the replay reports the first
step where the base positions part by more than 1 cm, the divergence at a few steps, and both runs' progress.
"""

from __future__ import annotations

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from envs_bridge.parkour import make_parkour
from experiments import common

FLAGS = flags.FLAGS
flags.DEFINE_string("run_dir", None, "record: the policy's run directory (or learner export)")
flags.DEFINE_string("trace", None, "replay: a trace written by record")
flags.DEFINE_string("physics_impl", "jax", "jax or warp")
flags.DEFINE_string("tasks", "flat", "record: comma-separated terrains")
flags.DEFINE_string("mode", "easy", "record: easy, hard or hard_cl")
flags.DEFINE_integer("envs", 4, "record: envs (split evenly over the tasks)")
flags.DEFINE_integer("steps", 300, "record: control steps")
flags.DEFINE_integer("seed", 1, "record: reset key")
flags.DEFINE_string("out", None, "output file (.npz for record, .json for replay)", required=True)


def _env(mode, tasks, envs, impl):
    return make_parkour(mode, envs, tasks=tuple(tasks), num_task_slots=21, physics_impl=impl,
                        random_init_step=False)


def _rollout(env, key, steps, act):
    """``act(obs, task_id, t) -> action``; returns per-step base pos, qpos, obs, action, done, progress."""
    def body(es, t):
        a = act(es.obs, es.task_id, t)
        nx = env.step(es, a)
        return nx, (es.sim.data.qpos[:, :3], es.sim.data.qpos[:, 7:], es.obs, a, nx.done, nx.info["progress"])

    _, out = jax.lax.scan(body, env.reset(key), jnp.arange(steps))
    return out


def record():
    rc, _, learner, ls = common.restore_policy(FLAGS.run_dir, 1, None, 0, {"physics_impl": FLAGS.physics_impl})
    policy = common.deterministic_policy(rc, learner, ls)  # the mean, clipped as in training
    tasks = FLAGS.tasks.split(",")
    env = _env(FLAGS.mode, tasks, FLAGS.envs, FLAGS.physics_impl)
    out = jax.jit(lambda k: _rollout(env, k, FLAGS.steps, lambda o, tid, t: policy(o, tid)))(
        jax.random.key(FLAGS.seed))
    pos, q, obs, act, done, prog = map(np.asarray, out)
    np.savez_compressed(FLAGS.out, pos=pos, q=q, obs=obs, action=act, done=done, progress=prog,
                        meta=json.dumps({"mode": FLAGS.mode, "tasks": tasks, "envs": FLAGS.envs, "seed": FLAGS.seed,
                                         "physics_impl": FLAGS.physics_impl, "platform": jax.default_backend(),
                                         "device": str(jax.devices()[0]), "run_dir": FLAGS.run_dir}))
    print(f"recorded {FLAGS.steps} steps x {FLAGS.envs} envs on {jax.devices()[0]} ({FLAGS.physics_impl}): "
          f"falls {int(done.sum())}, final progress {prog[-1].round(3).tolist()}")


def replay():
    tr = np.load(FLAGS.trace)
    meta = json.loads(str(tr["meta"]))
    env = _env(meta["mode"], meta["tasks"], meta["envs"], FLAGS.physics_impl)
    actions = jnp.asarray(tr["action"])
    out = jax.jit(lambda k: _rollout(env, k, actions.shape[0], lambda o, tid, t: actions[t]))(
        jax.random.key(meta["seed"]))
    pos, q, obs, _, done, prog = map(np.asarray, out)
    dpos = np.linalg.norm(pos - tr["pos"], axis=-1)  # [T, N]
    first = [int(np.argmax(dpos[:, e] > 0.01)) if (dpos[:, e] > 0.01).any() else None for e in range(dpos.shape[1])]
    at = {int(t): {"base_m": dpos[t].round(4).tolist(),
                   "joint_rad_max": np.abs(q[t] - tr["q"][t]).max(-1).round(4).tolist(),
                   "obs_max": np.abs(obs[t] - tr["obs"][t]).max(-1).round(4).tolist()}
          for t in (0, 1, 2, 5, 10, 25, 50, 100) if t < dpos.shape[0]}
    res = {"trace": meta, "replay": {"physics_impl": FLAGS.physics_impl, "platform": jax.default_backend(),
                                     "device": str(jax.devices()[0])},
           "first_step_base_apart_1cm": first, "divergence": at,
           "recorded": {"falls": int(tr["done"].sum()), "final_progress": tr["progress"][-1].tolist()},
           "replayed": {"falls": int(done.sum()), "final_progress": prog[-1].tolist()}}
    with open(FLAGS.out, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res, indent=1))


def main(argv):
    if len(argv) != 2 or argv[1] not in ("record", "replay"):
        sys.exit("usage: parkour_trace.py record|replay --out=... (record: --run_dir; replay: --trace)")
    common.quiet_logs()
    if argv[1] == "record":
        if not FLAGS.run_dir:
            sys.exit("record needs --run_dir")
        record()
    else:
        if not FLAGS.trace:
            sys.exit("replay needs --trace")
        replay()


if __name__ == "__main__":
    app.run(main)
