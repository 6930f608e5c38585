"""Hover-and-noise probe in our MJX scenes from the real episodes' initial states (see protocol.py); prints the table."""
import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, __import__('os').path.dirname(__file__))
from protocol import *

from envs_bridge.metaworld import probe_runner

real = json.load(open(sys.argv[1]))
for ti, task in enumerate(CASES):
    keys = [(ci, si) for ci in range(len(CASES[task])) for si in range(len(SIGMAS))]
    n = len(keys) * EPISODES
    env = probe_runner.make_env((task,), n)
    rv, offs, grips, sig, noi = [], [], [], [], []
    for ci, si in keys:
        eps = real[f"{task}|{ci}|{SIGMAS[si]}"]
        for ep in range(EPISODES):
            rv.append(eps[ep]["rand_vec"]); offs.append(CASES[task][ci][0]); grips.append(CASES[task][ci][1])
            sig.append(SIGMAS[si]); noi.append(noise(ti, ci, si, ep))
    rv = jnp.asarray(rv, jnp.float32); offs = jnp.asarray(offs); grips = jnp.asarray(grips); sig = jnp.asarray(sig)
    noi = jnp.asarray(np.stack(noi, 1), jnp.float32)  # [150, n, 4]
    def go(key):
        st = env.reset_from(key, (rv,))
        ins = env.inspect(st); q0 = ins["joint_q"]; tcp_off = ins["init_tcp"] - st.obs[:, 0:3]
        def body(c, x):
            st, best, anys, rel = c
            t, e = x
            target = st.obs[:, 4:7] + offs
            tcp = st.obs[:, 0:3] + tcp_off
            move = 10.0 * (target - tcp)
            on = t >= 60
            move = move + jnp.where(on, sig[:, None] * e[:, :3], 0.0)
            g = grips + jnp.where(on, sig * e[:, 3], 0.0)
            a = jnp.clip(jnp.concatenate([move, g[:, None]], 1), -1, 1)
            st = env.step(st, a)
            q = env.inspect(st)["joint_q"]
            tcpn = st.obs[:, 0:3] + tcp_off
            rel = jnp.where(t == 59, tcpn - st.obs[:, 4:7], rel)
            return (st, jnp.maximum(best, q0 - q), anys | st.info["success"], rel), None
        init = (st, jnp.zeros(n), jnp.zeros(n, bool), jnp.zeros((n, 3)))
        (st, best, anys, rel), _ = jax.lax.scan(body, init, (jnp.arange(150), noi))
        return best, anys, rel
    best, anys, rel = map(np.asarray, jax.jit(go)(jax.random.key(0)))
    for j, (ci, si) in enumerate(keys):
        s = slice(j * EPISODES, (j + 1) * EPISODES)
        r = real[f"{task}|{ci}|{SIGMAS[si]}"]
        print(task, CASES[task][ci], SIGMAS[si], f"moved>1cm real {np.mean([x['max_dec']>0.01 for x in r]):.2f} ours {np.mean(best[s]>0.01):.2f} | mean max real {np.mean([x['max_dec'] for x in r]):.3f} ours {best[s].mean():.3f} | succ real {np.mean([x['success'] for x in r]):.2f} ours {anys[s].mean():.2f} | rel59 ours {np.round(rel[s].mean(0),3)}", flush=True)
