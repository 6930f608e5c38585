"""Runs the reward-following probes (``probes.py``) and random-action episodes in our MJX scenes.

The real env's results come from ``scripts/record_metaworld_probes.py`` (``tests/fixtures/metaworld/probes.json``);
``compare`` puts ours beside them. ``python -m envs_bridge.metaworld.probe_runner`` prints that table (a few
minutes on a 2-core CPU, most of it compiling).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from envs_bridge.metaworld import probes
from envs_bridge.metaworld.env import MetaWorldEnv
from mtjax import envs

__all__ = ["compare", "envs_per_task", "load_fixture", "make_env", "run"]


def load_fixture(path: str) -> dict[str, Any]:
    """The recorded real-env probe results (``scripts/record_metaworld_probes.py``)."""
    with open(path) as f:
        return json.load(f)


def envs_per_task(inits: int, hook_inits: int, random_episodes: int) -> int:
    """Block size ``run`` needs."""
    return (inits * (len(probes.VARIANTS) + len(probes.LINE_VARIANTS))
            + hook_inits * len(probes.DOOR_HOOK_MODES) + random_episodes)


def make_env(task_names, envs_per_task: int, **env_kwargs) -> MetaWorldEnv:
    """A ``MetaWorldEnv`` of the given articulated tasks whose episodes outlast a probe (no auto-reset)."""
    return MetaWorldEnv(envs.TaskSet(tuple(task_names), (envs_per_task,) * len(task_names)),
                        episode_length=probes.PROBE_STEPS + 10, **env_kwargs)


_RANDOM, _PROBE, _HOOK, _LINE = 0, 1, 2, 3  # what each env runs


def _rollout(env: MetaWorldEnv, state, kind, dz, grip, direction, hinge, key):
    n = state.obs.shape[0]
    ins = env.inspect(state)
    q0, offset = ins["joint_q"], ins["init_tcp"] - state.obs[:, 0:3]

    def body(carry, t):
        st, anchor, any_s, max_dq = carry
        anchor = jnp.where(t == probes.APPROACH_STEPS, st.obs[:, 4:7], anchor)
        a_probe = probes.probe_action(jnp, st.obs, t, offset, anchor, dz, grip, direction, kind == _LINE)
        a_hook = probes.door_hook_action(jnp, st.obs, t, hinge, dz)  # dz carries "above" for hook envs
        a_rand = jax.random.uniform(jax.random.fold_in(key, t), (n, 4), minval=-1.0, maxval=1.0)
        probe = (kind == _PROBE) | (kind == _LINE)
        a = jnp.where(probe[:, None], a_probe, jnp.where((kind == _HOOK)[:, None], a_hook, a_rand))
        st = env.step(st, a)
        q = env.inspect(st)["joint_q"]
        s = st.info["success"]
        return (st, anchor, any_s | s, jnp.maximum(max_dq, jnp.abs(q - q0))), (q, s)

    init = (state, jnp.zeros((n, 3)), jnp.zeros((n,), bool), jnp.zeros((n,)))
    (_, _, any_s, max_dq), (qs, ss) = jax.lax.scan(body, init, jnp.arange(probes.PROBE_STEPS))
    q_every_10 = jnp.concatenate([q0[None], qs[9::10]], axis=0).T
    return {"any_success": any_s, "last_success": ss[-1], "max_dq": max_dq, "q_every_10": q_every_10}


def run(env: MetaWorldEnv, fixture: dict[str, Any], inits: int, hook_inits: int, random_episodes: int,
        key: jax.Array) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """Probe, door hook-probe and random-action episodes of every task of ``env`` in one jitted rollout.

    In every task block, env ``j < 6 * inits`` runs probe ``j`` of the fixture (its recorded ``rand_vec`` and
    variant), the next ``3 * inits`` its straight-line probes; the next ``2 * hook_inits`` envs run the
    fixture's door hook probes (door-open; random actions, ignored, elsewhere); the last ``random_episodes``
    envs run uniform random actions from fresh random initial states.

    Returns:
      ``{task: {"probe" | "line" | "hook" | "random": {...}}}`` with ``any_success``, ``last_success``,
      ``max_dq`` [E] and ``q_every_10`` [E, 16] numpy arrays ("hook" for door-open only).
    """
    n_probe, n_hook = inits * len(probes.VARIANTS), hook_inits * len(probes.DOOR_HOOK_MODES)
    n_line = inits * len(probes.LINE_VARIANTS)
    n = env.task_set.envs_per_task[0]
    if n != envs_per_task(inits, hook_inits, random_episodes) or len(set(env.task_set.envs_per_task)) != 1:
        raise ValueError(f"env needs {envs_per_task(inits, hook_inits, random_episodes)} envs per task, has "
                         f"{env.task_set.envs_per_task}")
    k_reset, k_rand, k_act = jax.random.split(key, 3)
    rvs, kind, dz, grip, direction, hinge = [], [], [], [], [], []
    for i, (task, k) in enumerate(zip(env.task_set.task_names, env._tasks)):
        eps = fixture["tasks"][task]["probes"][:n_probe] + fixture["tasks"][task]["line_probes"][:n_line]
        hooks = fixture["door_hook"][:n_hook] if task == "door-open" else []
        if len(eps) < n_probe + n_line or (task == "door-open" and len(hooks) < n_hook):
            raise ValueError(f"fixture has too few episodes of {task} for {inits} / {hook_inits} inits")
        n_rest = n - len(eps) - len(hooks)
        rnd = jax.vmap(lambda kk, _k=k: env._rand_vec(_k, kk, jnp.int32(0)))(
            jax.random.split(jax.random.fold_in(k_rand, i), n_rest))
        rv = [e["rand_vec"] for e in eps] + [e["rand_vec"] for e in hooks]
        rvs.append(jnp.concatenate([jnp.asarray(rv, jnp.float32).reshape(len(rv), -1), rnd]))
        kind.append(np.r_[np.full(n_probe, _PROBE), np.full(n_line, _LINE), np.full(len(hooks), _HOOK),
                          np.full(n_rest, _RANDOM)])
        dz.append(np.r_[[e["variant"][0] for e in eps], [e["above"] for e in hooks], np.zeros(n_rest)])
        grip.append(np.r_[[e["variant"][1] for e in eps], np.zeros(len(hooks) + n_rest)])
        direction.append(np.tile(probes.DIRECTIONS[task], (n, 1)))
        hinge.append(np.asarray(rvs[-1])[:, :3] + np.asarray(probes.DOOR_HINGE_OFFSET))
    cat = lambda xs: jnp.asarray(np.concatenate(xs), jnp.float32)

    def go(key_reset, key_act):
        state = env.reset_from(key_reset, rvs)
        return _rollout(env, state, jnp.asarray(np.concatenate(kind)), cat(dz), cat(grip), cat(direction),
                        cat(hinge), key_act)

    out = jax.tree.map(np.asarray, jax.jit(go)(k_reset, k_act))
    res = {}
    for i, task in enumerate(env.task_set.task_names):
        block = {name: v[i * n:(i + 1) * n] for name, v in out.items()}
        res[task] = {"probe": {name: v[:n_probe] for name, v in block.items()},
                     "line": {name: v[n_probe:n_probe + n_line] for name, v in block.items()},
                     "random": {name: v[n - random_episodes:] for name, v in block.items()}}
        if task == "door-open":
            h0 = n_probe + n_line
            res[task]["hook"] = {name: v[h0:h0 + n_hook] for name, v in block.items()}
    return res


def _mean_success(episodes) -> float:
    return float(np.mean([e["any_success"] for e in episodes]))


def compare(ours: dict, fixture: dict[str, Any], inits: int) -> dict[str, dict[str, float]]:
    """Per task: probe any-step/last-step success and random-action moved share, ours and real."""
    n_probe = inits * len(probes.VARIANTS)
    table = {}
    for task, r in ours.items():
        real = fixture["tasks"][task]
        eps = real["probes"][:n_probe]
        table[task] = {
            "probe_any_real": _mean_success(eps),
            "probe_any_ours": float(np.mean(r["probe"]["any_success"])),
            "probe_last_real": float(np.mean([e["last_success"] for e in eps])),
            "probe_last_ours": float(np.mean(r["probe"]["last_success"])),
            "dq_final_real": float(np.mean([e["q_every_10"][-1] - e["q_every_10"][0] for e in eps])),
            "dq_final_ours": float(np.mean(r["probe"]["q_every_10"][:, -1] - r["probe"]["q_every_10"][:, 0])),
            "line_any_real": _mean_success(real["line_probes"][: len(r["line"]["any_success"])]),
            "line_any_ours": float(np.mean(r["line"]["any_success"])),
            "moved_real": float(real["random"]["moved_share"]),
            "moved_ours": float(np.mean(r["random"]["max_dq"] > probes.MOVED_THRESHOLD)),
        }
        if "hook" in r:
            hooks = fixture["door_hook"][: len(r["hook"]["any_success"])]
            for mode in probes.DOOR_HOOK_MODES:
                sel = [j for j, e in enumerate(hooks) if e["mode"] == mode]
                table[task][f"hook_{mode}_real"] = _mean_success([hooks[j] for j in sel])
                table[task][f"hook_{mode}_ours"] = float(np.mean(r["hook"]["any_success"][sel]))
                table[task][f"hook_{mode}_final_q_real"] = float(np.mean([hooks[j]["q_every_10"][-1] for j in sel]))
                table[task][f"hook_{mode}_final_q_ours"] = float(np.mean(r["hook"]["q_every_10"][sel, -1]))
    return table


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fixture", default="tests/fixtures/metaworld/probes.json")
    p.add_argument("--inits", type=int, default=5)
    p.add_argument("--hook-inits", type=int, default=10)
    p.add_argument("--random", type=int, default=100)
    p.add_argument("--tasks", nargs="+", default=list(probes.TASKS))
    p.add_argument("--json", default=None, help="also write the comparison table here")
    args = p.parse_args(argv)
    fixture = load_fixture(args.fixture)
    env = make_env(args.tasks, envs_per_task(args.inits, args.hook_inits, args.random))
    print("compiling the probe rollout (a few minutes on a 2-core CPU) ...", flush=True)
    ours = run(env, fixture, args.inits, args.hook_inits, args.random, jax.random.key(0))
    table = compare(ours, fixture, args.inits)
    print(f"{'task':22s} {'probe any real/ours':>20s} {'last real/ours':>15s} {'dq real/ours':>15s} "
          f"{'moved real/ours':>16s} {'line real/ours':>15s}")
    for task, row in table.items():
        print(f"{task:22s} {row['probe_any_real']:9.2f} / {row['probe_any_ours']:4.2f}   "
              f"{row['probe_last_real']:5.2f} / {row['probe_last_ours']:4.2f}  "
              f"{row['dq_final_real']:+6.3f}/{row['dq_final_ours']:+6.3f}  "
              f"{row['moved_real']:7.2f} / {row['moved_ours']:4.2f}  "
              f"{row['line_any_real']:7.2f} / {row['line_any_ours']:4.2f}")
        for j, v in enumerate(probes.VARIANTS):
            sel = slice(j, None, len(probes.VARIANTS))
            real = [e["any_success"] for e in fixture["tasks"][task]["probes"][: args.inits * 6][sel]]
            print(f"    {probes.variant_name(v):18s} real {np.mean(real):.2f} ours "
                  f"{np.mean(ours[task]['probe']['any_success'][sel]):.2f}")
        for mode in probes.DOOR_HOOK_MODES if "hook" in ours[task] else ():
            print(f"    door hook {mode:8s} success real {row[f'hook_{mode}_real']:.2f} ours "
                  f"{row[f'hook_{mode}_ours']:.2f}; final angle real {row[f'hook_{mode}_final_q_real']:+.3f} ours "
                  f"{row[f'hook_{mode}_final_q_ours']:+.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=1)


if __name__ == "__main__":
    main()
