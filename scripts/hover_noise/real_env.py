"""Hover-and-noise probe in the real Meta-World 3.1.1 (see protocol.py); writes the episodes to argv[1]."""
import json
import sys

import numpy as np

sys.path.insert(0, __import__('os').path.dirname(__file__))
import metaworld
from protocol import *

bench = metaworld.MT10(seed=0)
JOINTS = {"window-close": "window_slide", "button-press-topdown": "btnbox_joint"}
out = {}
for ti, task in enumerate(CASES):
    name = f"{task}-v3"
    variations = [t for t in bench.train_tasks if t.env_name == name]
    env = bench.train_classes[name]()
    joint = env.data.joint(JOINTS[task])
    for ci, (off, grip) in enumerate(CASES[task]):
        for si, sigma in enumerate(SIGMAS):
            res = []
            for ep in range(EPISODES):
                env.set_task(variations[ep % len(variations)])
                obs, _ = env.reset(); obs = obs.astype(np.float64)
                q0 = float(joint.qpos[0]); tcp_off = np.asarray(env.init_tcp) - obs[0:3]
                eps = noise(ti, ci, si, ep); best = 0.0; anys = 0.0; dist = []
                for t in range(150):
                    obs, r, *_ , info = env.step(action(obs, t, tcp_off, off, grip, sigma, eps).astype(np.float32))
                    obs = obs.astype(np.float64)
                    best = max(best, q0 - float(joint.qpos[0])); anys = max(anys, float(info["success"]))
                    if t == 59: dist.append((obs[0:3] + tcp_off - obs[4:7]).tolist())
                res.append({"rand_vec": np.asarray(env._last_rand_vec).tolist(), "max_dec": best, "success": anys, "rel59": dist[0]})
            out[f"{task}|{ci}|{sigma}"] = res
            print(task, off, grip, sigma, "moved>1cm", np.mean([r["max_dec"] > 0.01 for r in res]), "mean max", np.mean([r["max_dec"] for r in res]), "succ", np.mean([r["success"] for r in res]), "rel59", np.round(np.mean([r["rel59"] for r in res], 0), 3), flush=True)
json.dump(out, open(sys.argv[1], 'w'))
