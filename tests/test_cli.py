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
    p = _run("experiments.train", "--config=experiments/configs/toy_ppo.py:smoke", f"--config.run_dir={rd}",
             "--config.seed=7")
    assert p.returncode == 0, p.stderr[-3000:]
    files = os.listdir(rd)
    assert "config.json" in files and "metrics.jsonl" in files and "task_success.png" in files
    assert any(f.startswith("events.out.tfevents") for f in files)
    assert json.load(open(os.path.join(rd, "config.json")))["seed"] == 7
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
    assert "checkpoint step 20" in p.stdout and "point-3" in p.stdout and "actor" in p.stdout


def test_unknown_config_key_is_a_clear_error(tmp_path):
    p = _run("experiments.train", "--config=experiments/configs/toy_ppo.py:smoke", "--config.ppo.lrr=1",
             f"--config.run_dir={tmp_path}")
    assert p.returncode != 0
    assert "lrr" in p.stderr


def test_unknown_variant_and_method_are_clear_errors(tmp_path):
    p = _run("experiments.train", "--config=experiments/configs/toy_ppo.py:huge")
    assert p.returncode != 0 and "valid" in p.stderr and "smoke" in p.stderr
    p = _run("experiments.train", "--config=experiments/configs/toy_ppo.py:smoke", "--config.mtrl=nope",
             f"--config.run_dir={tmp_path}")
    assert p.returncode != 0 and "nope" in p.stderr and "valid" in p.stderr
