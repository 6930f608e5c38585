"""Writes ``tests/fixtures/metaworld/golden_mt10_f64.npz``: the float64 golden Meta-World steps the reward-parity
test needs, cut from the reference file recorded with the real Meta-World 3.1.1.

The source file (``metaworld_mt10_golden_steps.npz``, 0.9 MB, outside the repo) holds, for each MT10 task, the
``MT10(seed=0)`` variations 0 and 1 played for 200 steps with the scripted policy plus Gaussian noise (sigma 0.3 on
xyz; with probability 0.2 a uniform random gripper value), actions clipped to [-1, 1] and rounded to float32, all
values recorded in float64 after each step. This script keeps every step and episode but only the columns the
reward functions read (``obs[:, :7]``: hand, gripper opening, object; ``qpos_obj[:, :1]``: the task joint) plus
the reference outputs, so the parity test runs in any clone. Values are copied bit for bit (float64).

Usage::

    python scripts/subset_metaworld_golden.py /path/to/metaworld_mt10_golden_steps.npz
"""

from __future__ import annotations

import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metaworld", "golden_mt10_f64.npz")
DROP = ("/reset_obs", "/unscaled_reward")  # not read by the test
CUT = {"/obs": 7, "/qpos_obj": 1}  # leading columns kept


def subset(src: str, out: str = OUT) -> dict[str, np.ndarray]:
    z = np.load(src)
    kept = {}
    for k in z.files:
        if k.endswith(DROP):
            continue
        v = z[k]
        for suffix, n in CUT.items():
            if k.endswith(suffix):
                v = v[:, :n]
        kept[k] = v
    np.savez_compressed(out, **kept)
    return kept


if __name__ == "__main__":
    subset(sys.argv[1])
    print(OUT, os.path.getsize(OUT), "bytes")
