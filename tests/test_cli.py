"""The absl entry points as a user runs them (subprocesses on the toy env)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args, timeout=600):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_train_smoke_writes_everything_then_evaluate_and_analyze(tmp_path):
    rd = str(tmp_path / "run")
    # Method and network options go into their (initially empty or preset) dicts from the command line.
    p = _run("experiments.train", "--config=experiments/configs/toy_ppo.py:smoke", f"--config.run_dir={rd}",
             "--config.seed=7", "--config.mtrl=pcgrad", "--config.mtrl_kwargs.reduction=sum",
             "--config.net.critic_kwargs.hidden=(32,32)")
    assert p.returncode == 0, p.stderr[-3000:]
    assert "compiling the training program" in p.stderr
    files = os.listdir(rd)
    assert "config.json" in files and "metrics.jsonl" in files and "task_success.png" in files
    assert any(f.startswith("events.out.tfevents") for f in files)
    cfg = json.load(open(os.path.join(rd, "config.json")))
    assert cfg["seed"] == 7 and cfg["mtrl_kwargs"] == {"reduction": "sum"}
    assert cfg["net"]["critic_kwargs"] == {"hidden": [32, 32]}
    recs = [json.loads(line) for line in open(os.path.join(rd, "metrics.jsonl"))]
    assert [r["iteration"] for r in recs] == list(range(1, 21))
    assert "task/point-0/success" in recs[-1] and recs[-1]["env_steps"] == 20 * 256 * 16
    assert sorted(os.listdir(os.path.join(rd, "checkpoints"))) == ["10", "20"]
    assert "success" in p.stdout  # the progress line

    p = _run("experiments.evaluate", f"--run_dir={rd}", "--episodes=3")
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert set(res) == {f"point-{k}" for k in range(4)}
    assert all(r["episodes"] == 3 and 0.0 <= r["success"] <= 1.0 for r in res.values())

    p = _run("experiments.analyze_checkpoint", f"--run_dir={rd}")
    assert p.returncode == 0, p.stderr[-3000:]
    assert "read only" not in p.stderr and "WARNING" not in p.stderr  # no orbax chatter
    assert "checkpoint step 20" in p.stdout and "point-3" in p.stdout and "actor" in p.stdout


def test_config_errors_are_one_line_naming_the_valid_keys_and_nothing_is_written(tmp_path):
    for bad, expect in (("--config.ppo.lrr=1", "error: unknown key(s) ppo.lrr in config.ppo; valid: "),
                        ("--config.foo=1", "error: unknown key(s) foo in config; valid: algo, checkpoint_every, env"),
                        ("--config.mtrl_kwargs.c=0.4", "error: unknown option(s) ['c'] in config.mtrl_kwargs"),
                        ("--config.total_iterations=0", "error: config.total_iterations must be >= 1, got 0")):
        p = _run("experiments.train", "--config=experiments/configs/toy_ppo.py:smoke", bad,
                 f"--config.run_dir={tmp_path}")
        assert p.returncode != 0 and "Traceback" not in p.stderr, p.stderr[-3000:]
        assert p.stderr.strip().splitlines()[-1].startswith(expect), p.stderr[-500:]
    assert os.listdir(tmp_path) == []


def test_unknown_variant_and_method_are_clear_errors(tmp_path):
    p = _run("experiments.train", "--config=experiments/configs/toy_ppo.py:huge")
    assert p.returncode != 0 and "valid" in p.stderr and "smoke" in p.stderr
    p = _run("experiments.train", "--config=experiments/configs/toy_ppo.py:smoke", "--config.mtrl=nope",
             f"--config.run_dir={tmp_path}")
    assert p.returncode != 0 and "nope" in p.stderr and "valid" in p.stderr


def test_main_job_config_trains_on_metaworld_and_checkpoints_mjx_state(tmp_path):
    """The README main job's config (mt10_ppo.py:smoke) on one Meta-World task, in process.

    Single-task "reach" keeps the CPU compile short; the full MT10 smoke run is the README's first command.
    It exercises the MJX env inside the jitted trainer and orbax checkpoints of MJX data (zero-size arrays).
    """
    import numpy as np

    from experiments import train
    from experiments.configs import mt10_ppo
    from mtjax import checkpoint

    c = mt10_ppo.get_config("smoke")
    c.env.name = "reach"
    c.env.num_envs = 4
    c.env.kwargs.episode_length = 20
    c.ppo.minibatch_size = 32
    c.total_iterations = 4
    c.iters_per_call = 2
    c.checkpoint_every = 2
    c.run_dir = str(tmp_path)
    c.tensorboard = False
    c.progress = False
    rec = train.run(c)
    assert rec["iteration"] == 4 and np.isfinite(rec["loss/total"])
    assert rec["task/reach/episodes"] > 0 and 0.0 <= rec["success"] <= 1.0
    assert checkpoint.latest_step(str(tmp_path)) == 4
    state, cfg, _ = checkpoint.restore_raw(str(tmp_path))
    assert cfg["env"]["name"] == "reach" and int(state["iteration"]) == 4
    assert os.path.exists(os.path.join(str(tmp_path), "task_success.png"))
