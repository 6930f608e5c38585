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


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """``go1_parkour.py:hard_cl,smoke`` trained for its 2 iterations: (run dir, train's last record)."""
    run = tmp_path_factory.mktemp("go1") / "run"
    c = go1_parkour.get_config("hard_cl,smoke")
    c.run_dir = str(run)
    c.tensorboard = c.plot = c.progress = False
    return run, train.run(c)


def test_hard_cl_smoke_trains_and_logs_progress_per_terrain(smoke_run):
    run, rec = smoke_run
    assert rec["iteration"] == 2
    with open(run / "metrics.jsonl") as f:
        rows = [json.loads(line) for line in f]
    assert [r["iteration"] for r in rows] == [1, 2]
    names = [terrain.TERRAIN_NAMES[i] for i in sorted(terrain.IMPLEMENTED)]
    assert len(names) == 21 and all(f"task/{t}/progress" in rows[-1] for t in names)
    assert all(f"task/{t}/level" in rows[-1] for t in names) and "level" in rows[-1]  # the curriculum's row
    assert all(math.isfinite(r["loss/total"]) for r in rows) and not any(r["nonfinite"] for r in rows)


def test_evaluate_a_hard_cl_policy_on_every_level_from_step_zero(smoke_run, monkeypatch):
    """MTBench's test mode for Go1: each env's first episode, its goal progress; the hard_cl run tested on
    ``parkour_hard`` (every level), episodes from step 0 although the run trained with ``random_init_step``."""
    from experiments import common, evaluate
    run, _ = smoke_run
    built, restored = [], []
    real_build, real_restore = common.build_env, common.restore_policy

    def spy_build(*args, **kwargs):
        built.append(real_build(*args, **kwargs))
        return built[-1]

    def spy_restore(*args):
        restored.append(args)
        return real_restore(*args)

    monkeypatch.setattr(common, "build_env", spy_build)
    monkeypatch.setattr(common, "restore_policy", spy_restore)
    res = evaluate.evaluate(str(run), episodes=1, max_steps=100, env_overrides={"active_boxes": 6},
                            env_name="parkour_hard")
    env = built[-1]
    assert env.mode == "hard" and env.random_init_step is False and built[0].random_init_step is True
    assert len(restored) == 1  # the checkpoint is read once; only the env is built again
    assert len(res) == 21
    for name, r in res.items():  # 100 steps = the smoke episode: every env finishes its first episode
        assert r["episodes"] == 1, name
        assert 0.0 <= r["progress"] <= 1.0 and (r["progress"] * 8) % 1 == 0, (name, r)
        assert r["success"] == float(r["progress"] == 1.0), (name, r)
    table = evaluate.format_table(res)
    assert table.splitlines()[0].split()[-1] == "progress" and table.splitlines()[-1].startswith("mean")


def test_evaluation_clips_the_mean_action_as_the_trainer_clips_its_samples():
    """The trainer hands the env ``clip(action, -1, 1)`` (rl_games' clip_actions); evaluation must too: the Go1
    policies of session 30 drive their means to ~4 rad behind that clip and fall when the env (which takes +-5)
    gets the raw mean (docs/parkour.md, "Results")."""
    import types

    import jax.numpy as jnp
    import numpy as np

    from experiments import common
    from mtjax.algos import on_policy

    mean = jnp.array([[-3.0, -0.25, 0.5, 4.2]])
    fake = types.SimpleNamespace(mean_action=lambda ls, obs, tid: mean)
    policy = common.deterministic_policy(go1_parkour.get_config("hard,smoke"), fake, None)
    np.testing.assert_array_equal(np.asarray(policy(None, None)), [[-1.0, -0.25, 0.5, 1.0]])
    np.testing.assert_array_equal(np.asarray(on_policy.env_action(mean)), [[-1.0, -0.25, 0.5, 1.0]])
    # go1-PPO-Vanilla's reading: no clip in training or evaluation (the env clamps at its own +-5)
    vanilla = go1_parkour.get_config("hard,smoke")
    vanilla.ppo.clip_actions = False
    np.testing.assert_array_equal(np.asarray(common.deterministic_policy(vanilla, fake, None)(None, None)),
                                  np.asarray(mean))
    assert go1_parkour.get_config("hard").ppo.clip_actions is True  # what every Go1 run here used
