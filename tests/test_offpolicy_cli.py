"""MT-SAC, FastTD3 (and MT-PQN) through the CLI (issue 13): ``experiments.train``'s main on the toy off-policy configs,
checkpoint + ``--resume`` equal to an uninterrupted run (replay included), resume refusals, one-line config errors,
``evaluate`` / ``analyze_checkpoint`` on an off-policy run, and the divergence guard on an MT-SAC learner state.

The toy runs are ``experiments/configs/toy_offpolicy.py:smoke`` (16 envs of 4 tasks, 2 env steps and 2 gradient
steps of 64 per iteration, a 2,048-transition replay, 20 iterations in chunks of 10, checkpoints at 10 and 20).
"""

import json
import os
import shutil
import sys
import types

import jax
import numpy as np
import pytest
from absl import flags

from experiments import analyze_checkpoint, evaluate, train
from experiments.configs import toy_offpolicy, toy_ppo
from mtjax import checkpoint, run_dir, run_loop

QUIET = ("--config.progress=False", "--config.plot=False", "--config.tensorboard=False")


def _main(mp: pytest.MonkeyPatch, *args: str) -> None:
    """``python -m experiments.train ARGS`` in process (config_flags reads its overrides from ``sys.argv``)."""
    argv = ["experiments.train", *args]
    mp.setattr(sys, "argv", argv)
    for name in [n for n in flags.FLAGS if n.startswith("config.")]:
        delattr(flags.FLAGS, name)  # the override flags a previous call defined
    flags.FLAGS.unparse_flags()
    flags.FLAGS(argv)
    train.main([])


def _rows(folder):
    with open(os.path.join(folder, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def _cfg(folder, **top):
    d = toy_offpolicy.get_config("smoke").to_dict()
    d.update(run_dir=str(folder), progress=False, plot=False, tensorboard=False, **top)
    return d


@pytest.fixture(scope="module")
def sac_run(tmp_path_factory):
    """The toy MT-SAC smoke run through the CLI (the uninterrupted reference of the resume test)."""
    folder = tmp_path_factory.mktemp("sac")
    with pytest.MonkeyPatch.context() as mp:
        _main(mp, "--config=experiments/configs/toy_offpolicy.py:smoke", f"--config.run_dir={folder}", *QUIET)
    return folder


def test_toy_sac_trains_through_the_cli(sac_run):
    cfg = json.loads((sac_run / "config.json").read_text())
    assert cfg["algo"] == "sac" and cfg["sac"]["buffer_size"] == 2048 and cfg["mtrl"] == "mean"
    assert "mtrl" not in cfg["sac"] and {"ppo", "td3"} <= set(cfg)  # every section recorded, sac's is read
    rows = _rows(sac_run)
    assert [r["iteration"] for r in rows] == list(range(1, 21))
    assert rows[-1]["env_steps"] == 20 * 16 * 2  # iterations x envs x sac.horizon
    # 8 warm-up steps per env = 4 iterations of 2 steps, n = 3: iteration 4 is the first to learn
    assert [r["learning"] for r in rows[:5]] == [0.0, 0.0, 0.0, 1.0, 1.0]
    for key in ("loss/total", "loss/critic", "loss/actor", "loss/alpha", "grad_norm", "alpha", "entropy", "q",
                "replay/size", "success", "return", "task/point-3/alpha", "task/point-0/success"):
        assert key in rows[-1], key
    assert all(np.isfinite(rows[-1][k]) for k in ("loss/total", "grad_norm", "alpha"))
    assert rows[-1]["replay/size"] == (20 * 2 - (3 - 1)) * 16  # 40 pushes of 16 envs, the first n - 1 not ready
    assert sorted(os.listdir(sac_run / "checkpoints")) == ["10", "20"]


def test_toy_fasttd3_trains_through_the_cli(tmp_path, monkeypatch):
    _main(monkeypatch, "--config=experiments/configs/toy_offpolicy.py:fasttd3,smoke", f"--config.run_dir={tmp_path}",
          "--config.td3.num_atoms=11", *QUIET)
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["algo"] == "fasttd3" and cfg["td3"]["num_atoms"] == 11
    rows = _rows(tmp_path)
    assert [r["iteration"] for r in rows] == list(range(1, 21))
    assert {"loss/total", "loss/critic", "loss/actor", "q", "target_q", "actor_updated", "grad_norm",
            "task/point-2/target_q"} <= set(rows[-1])
    assert np.isfinite(rows[-1]["loss/total"]) and rows[-1]["actor_updated"] == 1.0
    _, state, _, _ = checkpoint.read_raw(str(tmp_path))
    assert int(state["learner"]["steps"]) == 17 * 2  # iterations 4..20 learn, 2 gradient steps each


def test_resume_gives_the_uninterrupted_learner_and_replay(sac_run, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(sac_run, folder)
    shutil.rmtree(folder / "checkpoints" / "20")  # as if killed after logging iteration 20, before saving it
    train.run(_cfg(folder), resume=True)  # 11..20 from checkpoint 10 (its replay and n-step accumulator)
    assert [r["iteration"] for r in _rows(folder)] == list(range(1, 21))  # rows 11..20 cut back, then rewritten
    (sa, a, _, _), (sb, b, _, _) = checkpoint.read_raw(str(sac_run)), checkpoint.read_raw(str(folder))
    assert sa == sb == 20
    for part in ("learner", "replay", "nstep", "env_state"):
        la, lb = jax.tree.leaves(a[part]), jax.tree.leaves(b[part])
        assert len(la) == len(lb) > 0
        for x, y in zip(la, lb):
            np.testing.assert_array_equal(x, y)  # bitwise: every iteration's keys are fold_in(key, iteration)


def test_resume_refuses_another_algo_or_replay_size_naming_the_keys(sac_run, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(sac_run, folder)
    before = (folder / "config.json").read_text()
    with pytest.raises(run_dir.RunDirError, match=r"algo: 'sac' -> 'fasttd3'"):
        train.run(_cfg(folder, total_iterations=30, algo="fasttd3"), resume=True)
    cfg = _cfg(folder, total_iterations=30)
    cfg["sac"].update(buffer_size=4096, batch_size=128)
    with pytest.raises(run_dir.RunDirError) as e:
        train.run(cfg, resume=True)
    assert "sac.batch_size: 64 -> 128; sac.buffer_size: 2048 -> 4096" in str(e.value)
    assert (folder / "config.json").read_text() == before and checkpoint.latest_step(str(folder)) == 20
    # the sections an off-policy run does not read (ppo, td3, pqn for sac) are not compared: their values (or a
    # newer version's defaults) do not touch its computation
    assert train.run({**_cfg(folder, total_iterations=30), "ppo": {"lr": 0.1}, "td3": {"tau": 0.5}},
                     resume=True)["iteration"] == 30


@pytest.mark.parametrize("args,expect", [
    (("--config.algo=sacc",), "error: config.algo='sacc'; valid: ppo, grpo, pqn, sac, fasttd3"),
    (("--config.sac.lrr=0.1",), "error: unknown key(s) sac.lrr in config.sac; valid: actor_lr, adam_b1, "),
    (("--config.sac.tau=0",), "error: SACConfig.tau must lie in (0, 1], got 0"),
    (("--config.algo=fasttd3", "--config.mtrl=pcgrad"), "error: config.mtrl='pcgrad' with algo='fasttd3'"),
])
def test_config_errors_are_one_line_and_nothing_is_written(tmp_path, monkeypatch, args, expect):
    with pytest.raises(SystemExit) as e:
        _main(monkeypatch, "--config=experiments/configs/toy_offpolicy.py:smoke", f"--config.run_dir={tmp_path}",
              *args)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(expect), msg
    assert os.listdir(tmp_path) == []


def test_evaluate_analyze_and_the_guard_on_a_sac_run(sac_run):
    res = evaluate.evaluate(str(sac_run), episodes=2)
    assert set(res) == {f"point-{k}" for k in range(4)}
    assert all(r["episodes"] == 2 and 0.0 <= r["success"] <= 1.0 and np.isfinite(r["return"]) for r in res.values())

    from experiments import common

    rc, _, _, ls = common.restore_policy(str(sac_run), envs_per_task=1)
    _, raw, _, _ = checkpoint.read_raw(str(sac_run))
    assert rc.algo == "sac" and int(ls.steps) == int(raw["learner"]["steps"]) == 17 * 2
    np.testing.assert_array_equal(ls.log_alpha, raw["learner"]["log_alpha"])
    for x, y in zip(jax.tree.leaves(ls.actor_params), jax.tree.leaves(raw["learner"]["actor_params"])):
        np.testing.assert_array_equal(x, y)

    info = analyze_checkpoint.analyze(str(sac_run))
    assert info["iteration"] == 20 and info["value_stats"] is None
    assert info["param_counts"]["total"] == info["param_counts"]["actor"] + info["param_counts"]["critic"] > 0
    assert "point-3" in analyze_checkpoint.format_report(info)

    # The divergence guard reads every floating leaf of an MT-SAC learner state (temperatures included).
    m = {"loss/total": np.array([1.0]), "grad_norm": np.array([1.0]), "nonfinite": np.array([False])}
    ckpt = checkpoint.Checkpointer(str(sac_run))
    try:
        run_loop._check_diverged(types.SimpleNamespace(learner=ls), m, 20, 1e6, ckpt)
        bad = types.SimpleNamespace(learner=ls.replace(log_alpha=ls.log_alpha.at[1].set(np.nan)))
        with pytest.raises(run_loop.NonFiniteError, match="iteration 21: a non-finite learner state.*iteration 20"):
            run_loop._check_diverged(bad, m, 20, 1e6, ckpt)
    finally:
        ckpt.close()


def test_toy_pqn_trains_evaluates_and_refuses_a_new_budget_on_resume(tmp_path):
    """MT-PQN (``algo="pqn"``) runs on the on-policy trainer from the ``pqn`` section and ``net.critic_net``."""
    d = toy_ppo.get_config("pqn,smoke").to_dict()
    d.update(run_dir=str(tmp_path), total_iterations=2, iters_per_call=2, checkpoint_every=2, progress=False,
             plot=False, tensorboard=False)
    d["pqn"].update(total_iterations=2, epochs=1)
    rec = train.run(d)
    assert rec["iteration"] == 2 and np.isfinite(rec["loss/total"]) and rec["env_steps"] == 2 * 32 * 16
    assert {"loss/q", "epsilon", "q", "target_q", "lr"} <= set(rec)
    res = evaluate.evaluate(str(tmp_path), episodes=1)  # greedy bins (mean_action)
    assert all(r["episodes"] == 1 for r in res.values())
    info = analyze_checkpoint.analyze(str(tmp_path))
    assert info["obs_stats"] is None and info["param_counts"]["critic"] > 0
    # the epsilon and learning-rate schedules span pqn.total_iterations: a longer run is another computation
    with pytest.raises(run_dir.RunDirError, match=r"pqn\.total_iterations: 2 -> 4"):
        train.run({**d, "total_iterations": 4, "pqn": {**d["pqn"], "total_iterations": 4}}, resume=True)
