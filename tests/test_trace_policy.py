"""experiments.trace_policy's per-task summary on hand-made traces (the rollout itself needs a trained run)."""

import numpy as np

from experiments import trace_policy


def test_summary_reports_success_joint_change_distance_and_lag():
    steps, n = 6, 4
    tid = np.array([0, 0, 1, 1])
    z = np.zeros((steps, n, 3))
    recs = {
        "tcp": z.copy(), "obj_pos": z.copy(), "hand": z.copy(), "mocap": z.copy(),
        "joint_q": np.zeros((steps, n)), "success": np.zeros((steps, n), bool), "action": np.zeros((steps, n, 4)),
    }
    recs["success"][3, 0] = True                      # task a: one of two envs succeeded once -> 0.50
    recs["joint_q"][-1, 2:] = [0.2, -0.1]             # task b: |dq| 0.2 and 0.1 -> 0.150
    recs["obj_pos"][4:, :2, 0] = 0.3                  # task a: tcp 0.3 m from the point in the last third
    recs["mocap"][4:, 2:, 1] = 0.04                   # task b: hand lags its mocap by 4 cm
    recs["action"][:, 3, 3] = 1.0                     # task b: gripper |a| 1 in one of two envs -> 0.50
    lines = trace_policy.summary(recs, ("a", "b"), tid).splitlines()
    a, b = lines[1].split(), lines[2].split()
    assert a[:5] == ["a", "0.50", "0.000", "0.300", "0.000"]
    assert b[:5] == ["b", "0.00", "0.150", "0.000", "0.040"] and b[-1] == "0.50"
