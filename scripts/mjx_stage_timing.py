"""Times each MJX smooth-dynamics stage (kinematics, com_pos, crb, ...) of one reach scene, one env, on the default device.

Usage: python scripts/mjx_stage_timing.py arm|floating. Found the XLA-CPU slowness of the arm's kinematics
(1.9 s per call on the 2-core VM vs 3.5 ms on an H200, 1.6 ms with XLA_FLAGS=--xla_disable_hlo_passes=fusion; docs/metaworld_mjx.md, "The Sawyer arm option").
"""
import sys
import time

import jax
from mujoco import mjx
from mujoco.mjx._src import constraint, passive, smooth

from envs_bridge.metaworld import scenes

m = scenes.build_model("reach", 1, hand=sys.argv[1])
mx = mjx.put_model(m); d = mjx.make_data(mx)
d = jax.jit(mjx.forward)(mx, d)
def tm(fn, label):
    f = jax.jit(fn); r = f(mx, d); jax.block_until_ready(r)
    t = time.time()
    for _ in range(3): r = f(mx, d)
    jax.block_until_ready(r); print(label, f"{(time.time()-t)/3*1000:.2f} ms", flush=True)
tm(smooth.kinematics, "kinematics"); tm(smooth.com_pos, "com_pos"); tm(smooth.crb, "crb"); tm(smooth.factor_m, "factor_m")
tm(smooth.com_vel, "com_vel"); tm(passive.passive, "passive"); tm(smooth.rne, "rne"); tm(smooth.transmission, "transmission")
tm(constraint.make_constraint, "make_constraint"); tm(mjx.forward, "forward"); tm(mjx.step, "step")
