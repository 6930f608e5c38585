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
from envs_bridge.metaworld.jitted import JittedEnv
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


_RANDOM, _PROBE, _HOOK, _LINE, _IDLE = 0, 1, 2, 3, 4  # what each env runs (_IDLE: zero actions, unused rows)


def _design(env: MetaWorldEnv, fixture, tasks, inits: int, hook_inits: int, n: int, k_rand) -> dict[str, dict]:
    """Per task, the ``n`` episodes ``run`` describes: ``rv`` [n, D] initial task vectors and the per-env probe
    parameters ``kind``, ``dz``, ``grip``, ``direction`` [n, 3]."""
    n_probe, n_line = inits * len(probes.VARIANTS), inits * len(probes.LINE_VARIANTS)
    n_hook = hook_inits * len(probes.DOOR_HOOK_MODES)
    out = {}
    for i, task in enumerate(tasks):
        k = env.task(task)
        eps = fixture["tasks"][task]["probes"][:n_probe] + fixture["tasks"][task]["line_probes"][:n_line]
        hooks = fixture["door_hook"][:n_hook] if task == "door-open" else []
        if len(eps) < n_probe + n_line or (task == "door-open" and len(hooks) < n_hook):
            raise ValueError(f"fixture has too few episodes of {task} for {inits} / {hook_inits} inits")
        n_rest = n - len(eps) - len(hooks)
        rnd = jax.vmap(lambda kk, _k=k: env._rand_vec(_k, kk, jnp.int32(0)))(
            jax.random.split(jax.random.fold_in(k_rand, i), n_rest))
        rv = [e["rand_vec"] for e in eps] + [e["rand_vec"] for e in hooks]
        out[task] = {
            "rv": np.concatenate([np.asarray(rv, np.float32).reshape(len(rv), -1), np.asarray(rnd)]),
            "kind": np.r_[np.full(n_probe, _PROBE), np.full(n_line, _LINE), np.full(len(hooks), _HOOK),
                          np.full(n_rest, _RANDOM)],
            "dz": np.r_[[e["variant"][0] for e in eps], [e["above"] for e in hooks], np.zeros(n_rest)],
            "grip": np.r_[[e["variant"][1] for e in eps], np.zeros(len(hooks) + n_rest)],
            "direction": np.tile(probes.DIRECTIONS[task], (n, 1))}
    return out


def _policy(n_random: int):
    """Jitted ``(obs, t, anchor, offset, p, key) -> (anchor, action)`` of one step of every env. ``p["row"]``
    indexes each env's uniform random action in a ``[n_random, 4]`` draw per step (so the random actions do not
    depend on how the episodes are batched)."""

    @jax.jit
    def act(obs, t, anchor, offset, p, key):
        anchor = jnp.where(t == probes.APPROACH_STEPS, obs[:, 4:7], anchor)
        kind = p["kind"]
        a_probe = probes.probe_action(jnp, obs, t, offset, anchor, p["dz"], p["grip"], p["direction"], kind == _LINE)
        a_hook = probes.door_hook_action(jnp, obs, t, p["hinge"], p["dz"])  # dz carries "above" for hook envs
        a_rand = jax.random.uniform(jax.random.fold_in(key, t), (n_random, 4), minval=-1.0, maxval=1.0)[p["row"]]
        probe = (kind == _PROBE) | (kind == _LINE)
        a = jnp.where(probe[:, None], a_probe, jnp.where((kind == _HOOK)[:, None], a_hook, a_rand))
        return anchor, jnp.where((kind == _IDLE)[:, None], 0.0, a).astype(jnp.float32)

    return act


def run(env: MetaWorldEnv | JittedEnv, fixture: dict[str, Any], inits: int, hook_inits: int,
        random_episodes: int, key: jax.Array, tasks=None) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """Probe, door hook-probe and random-action episodes of the articulated tasks of ``env``.

    Per task, episode ``j < 6 * inits`` runs probe ``j`` of the fixture (its recorded ``rand_vec`` and variant),
    the next ``3 * inits`` its straight-line probes; the next ``2 * hook_inits`` the fixture's door hook probes
    (door-open only); the last ``random_episodes`` uniform random actions from fresh random initial states.
    ``envs_per_task(...)`` episodes per task in all. They run in batches of the env's block size (one batch if
    the env is ``make_env``'s of exactly that size), all with the env's one jitted step, so a shared, already
    compiled env (e.g. the test suite's MT10 env, ``jitted.JittedEnv``) is reused; rows a batch does not need
    (other tasks, the last batch's rest) get zero actions. The results do not depend on the batching.

    Args:
      env: a ``MetaWorldEnv`` or ``JittedEnv`` whose episodes outlast ``probes.PROBE_STEPS`` (no auto-reset).
      tasks: the probed tasks (default: the env's tasks that ``probes.JOINTS`` lists, in the env's order).

    Returns:
      ``{task: {"probe" | "line" | "hook" | "random": {...}}}`` with ``any_success``, ``last_success``,
      ``max_dq`` [E] and ``q_every_10`` [E, 16] numpy arrays ("hook" for door-open only).
    """
    jenv = env if isinstance(env, JittedEnv) else JittedEnv(env)
    env = jenv.env
    tasks = tuple(tasks or (t for t in env.task_set.task_names if t in probes.JOINTS))
    if env.episode_length <= probes.PROBE_STEPS:
        raise ValueError(f"episode_length {env.episode_length} would auto-reset within {probes.PROBE_STEPS} steps")
    n = envs_per_task(inits, hook_inits, random_episodes)
    batch = min(jenv.block_size(t) for t in tasks)
    k_reset, k_rand, k_act = jax.random.split(key, 3)
    design = _design(env, fixture, tasks, inits, hook_inits, n, k_rand)
    act = _policy(len(tasks) * n)  # random-action row of episode j of tasks[i]: i * n + j

    @jax.jit
    def observe(st):
        ins = env.inspect(st)
        return ins["joint_q"], st.info["success"], ins["init_tcp"] - st.obs[:, 0:3]

    outs = {t: [] for t in tasks}
    for j0 in range(0, n, batch):
        j1 = min(n, j0 + batch)
        rvs = jenv.padded_rand_vecs({t: design[t]["rv"][j0:j1] for t in tasks})
        p = {"kind": np.full(jenv.num_envs, _IDLE), "row": np.zeros(jenv.num_envs, np.int32)}
        p.update({f: np.zeros(jenv.num_envs, np.float32) for f in ("dz", "grip")})
        p["direction"] = np.zeros((jenv.num_envs, 3), np.float32)
        for i, t in enumerate(tasks):
            r = jenv.rows(t).start
            for f in ("kind", "dz", "grip", "direction"):
                p[f][r:r + j1 - j0] = design[t][f][j0:j1]
            p["row"][r:r + j1 - j0] = i * n + np.arange(j0, j1)
        p["hinge"] = np.concatenate([np.asarray(v)[:, :3] for v in rvs]) + np.asarray(probes.DOOR_HINGE_OFFSET)
        p = {f: jnp.asarray(v, jnp.int32 if f in ("kind", "row") else jnp.float32) for f, v in p.items()}
        st = jenv.reset_from(k_reset, rvs)
        q0, _, offset = observe(st)
        anchor, qs, ss = jnp.zeros((jenv.num_envs, 3)), [], []
        for t in range(probes.PROBE_STEPS):  # Python loop over the shared jitted step
            anchor, a = act(st.obs, t, anchor, offset, p, k_act)
            st = jenv.step(st, a)
            q, s, _ = observe(st)
            qs.append(q)
            ss.append(s)
        q0, qs, ss = np.asarray(q0), np.stack([np.asarray(q) for q in qs]), np.stack([np.asarray(s) for s in ss])
        for t in tasks:
            rows = slice(jenv.rows(t).start, jenv.rows(t).start + j1 - j0)
            outs[t].append({"any_success": ss[:, rows].any(0), "last_success": ss[-1, rows],
                            "max_dq": np.abs(qs[:, rows] - q0[rows]).max(0),
                            "q_every_10": np.concatenate([q0[None, rows], qs[9::10, rows]]).T})
    n_probe, n_hook = inits * len(probes.VARIANTS), hook_inits * len(probes.DOOR_HOOK_MODES)
    n_line = inits * len(probes.LINE_VARIANTS)
    res = {}
    for task in tasks:
        block = {f: np.concatenate([o[f] for o in outs[task]]) for f in outs[task][0]}
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
    p.add_argument("--hand", default="floating", help="hand model: floating or arm (scenes.HANDS)")
    p.add_argument("--frame-skip", type=int, default=1, help="physics substeps per 12.5 ms control step")
    p.add_argument("--iterations", type=int, default=4, help="Newton iterations (and line-search iterations)")
    p.add_argument("--json", default=None, help="also write the comparison table here")
    args = p.parse_args(argv)
    fixture = load_fixture(args.fixture)
    env = make_env(args.tasks, envs_per_task(args.inits, args.hook_inits, args.random), hand=args.hand,
                   frame_skip=args.frame_skip, iterations=args.iterations, ls_iterations=args.iterations)
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
