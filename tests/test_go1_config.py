"""The Go1 parkour config (experiments/configs/go1_parkour.py): MTBench's rows, and its CPU smoke trains end to end."""

import json
import math

import pytest

from envs_bridge.parkour import terrain
from experiments import train
from experiments.configs import go1_parkour


def test_rows_follow_mtbench_go1_vanilla():
    iters = {"easy": 2000, "hard": 4000, "hard_cl": 4000, "flat": 1000}
    for row, n in iters.items():
        c = go1_parkour.get_config(row)
        assert c.total_iterations == n and c.env.num_envs == 4096
        assert c.env.kwargs["action_clip"] == 5.0 and c.env.kwargs["num_task_slots"] == 21
        assert (c.ppo.horizon, c.ppo.epochs, c.ppo.minibatch_size) == (32, 5, 16384)
    with pytest.raises(ValueError, match="hard_cl"):
        go1_parkour.get_config("harder")


def test_hard_cl_smoke_trains_and_logs_progress_per_terrain(tmp_path):
    c = go1_parkour.get_config("hard_cl,smoke")
    c.run_dir = str(tmp_path / "run")
    c.tensorboard = c.plot = c.progress = False
    rec = train.run(c)
    assert rec["iteration"] == 2
    with open(tmp_path / "run" / "metrics.jsonl") as f:
        rows = [json.loads(line) for line in f]
    assert [r["iteration"] for r in rows] == [1, 2]
    names = [terrain.TERRAIN_NAMES[i] for i in sorted(terrain.IMPLEMENTED)]
    assert len(names) == 21 and all(f"task/{t}/progress" in rows[-1] for t in names)
    assert all(math.isfinite(r["loss/total"]) for r in rows) and not any(r["nonfinite"] for r in rows)
