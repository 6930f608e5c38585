"""Hover-and-noise probe (ad hoc diagnosis of window-close and button-press-topdown, session 3).

The trained MT10 policy hovers near the reach point without moving the joint (window-close, button). Does local
exploration from that pose move the joint as often in our MJX scene as in the real Meta-World? For each case
(offset of the TCP target from the live reach point, gripper command) and noise level sigma: 60 steps of
``action = clip(10 (point + offset - tcp))``, then 90 steps with ``sigma * N(0, 1)`` added to all four action
dims (same noise sequence in both envs, seeded per episode); the statistic is the largest joint decrease.

  real:  env -u PYTHONPATH /tmp/mw_oracle_venv/bin/python scripts/hover_noise/real_env.py /tmp/hover_real.json
  ours:  python scripts/hover_noise/our_env.py /tmp/hover_real.json   (repository root, our venv)

Results: docs/metaworld_mjx.md ("window-close and button after 1 B steps").
"""
import numpy as np

CASES = {
 "window-close": [((-0.03, -0.05, -0.02), 1.0), ((-0.03, -0.05, -0.02), -1.0), ((0.0, -0.05, 0.0), 1.0)],
 "button-press-topdown": [((-0.005, 0.009, 0.015), 1.0), ((-0.005, 0.009, 0.015), -1.0)],
}
SIGMAS = (0.3, 1.0)
EPISODES = 20
def noise(task_i, case_i, sigma_i, ep):
    return np.random.default_rng([13, task_i, case_i, sigma_i, ep]).standard_normal((150, 4))
def action(obs, t, tcp_offset, off, grip, sigma, eps):
    target = obs[4:7] + np.asarray(off)
    tcp = obs[0:3] + tcp_offset
    move = 10.0 * (target - tcp)
    g = grip
    if t >= 60:
        move = move + sigma * eps[t, :3]
        g = grip + sigma * eps[t, 3]
    return np.clip(np.r_[move, g], -1, 1)
