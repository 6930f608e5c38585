"""The Meta-World side of ``experiments.eval_in_metaworld``: steps the real Meta-World 3.1.1 MT10 envs for a policy
that answers over stdin/stdout.

Runs inside the Meta-World venv (``scripts/record_metaworld_traces.py`` builds it; ``metaworld`` pins
``mujoco==3.3.0``), so it imports nothing of ours. Per task, ``--episodes`` variations of ``MT10(seed)`` (the
benchmark's ``train_tasks`` of that task, in order) run side by side, one env each, for ``--steps`` steps. Each step
it writes one JSON line ``{"task": name, "obs": [[39 floats] x episodes]}`` to stdout and reads one JSON line
``[[4 floats] x episodes]`` (the actions) from stdin. At the end it writes ``{"result": {...}}``: per task the
any-step and last-step success share, the mean first success step, the mean return and every episode's numbers.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def _send(msg) -> None:
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def run(tasks: list[str], episodes: int, steps: int, seed: int) -> dict:
    import metaworld

    bench = metaworld.MT10(seed=seed)
    out = {}
    for task in tasks:
        name = f"{task}-v3"
        variations = [t for t in bench.train_tasks if t.env_name == name][:episodes]
        envs = [bench.train_classes[name]() for _ in variations]
        obs = []
        for env, v in zip(envs, variations):
            env.set_task(v)
            obs.append(env.reset()[0])
        success = np.zeros((steps, len(envs)))
        ret = np.zeros(len(envs))
        for t in range(steps):
            _send({"task": task, "obs": np.asarray(obs, np.float64).tolist()})
            actions = np.asarray(json.loads(sys.stdin.readline()), np.float32)
            obs = []
            for i, env in enumerate(envs):
                o, r, _term, _trunc, info = env.step(actions[i])
                obs.append(o)
                ret[i] += float(r)
                success[t, i] = float(info["success"])
        first = [int(np.argmax(success[:, i])) + 1 if success[:, i].any() else None for i in range(len(envs))]
        hits = [f for f in first if f is not None]
        out[task] = {
            "any_success": float(success.any(0).mean()), "last_success": float(success[-1].mean()),
            "first_success_step": float(np.mean(hits)) if hits else None, "return": float(ret.mean()),
            "episodes": [{"variation": i, "rand_vec": np.asarray(e._last_rand_vec).tolist(),
                          "any_success": float(success[:, i].any()), "last_success": float(success[-1, i]),
                          "first_success_step": first[i], "return": float(ret[i])} for i, e in enumerate(envs)],
        }
        for env in envs:
            env.close()
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", nargs="+", required=True)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--seed", type=int, default=0, help="MT10(seed): which variations")
    a = p.parse_args(argv)
    _send({"result": run(a.tasks, a.episodes, a.steps, a.seed)})


if __name__ == "__main__":
    main()
