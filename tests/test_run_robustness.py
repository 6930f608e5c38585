"""Runs survive faults and misuse (docs/runs.md): kill -9 then --resume reproduces the uninterrupted run and its
log, damaged checkpoints are skipped with one warning line, a run directory has one writer, nothing is overwritten
or recorded wrongly, and the divergence guard leaves a checkpoint a resume can continue from."""

import json
import os
import shutil
import struct
import subprocess
import sys

import jax
import numpy as np
import pytest
from toy_run import toy_run_config

from experiments import analyze_checkpoint, evaluate, train
from mtjax import checkpoint, run_dir, run_loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOTAL = 8  # iterations; chunks of 2, checkpoints at 4 and 8


def _cfg(folder, total=TOTAL, **over):
    """The toy run (``toy_run.py``) with checkpoints every 4 iterations."""
    return toy_run_config(folder, total, checkpoint_every=4, **over)


def _iterations(folder):
    with open(os.path.join(folder, "metrics.jsonl")) as f:
        return [json.loads(line)["iteration"] for line in f if line.strip()]


def _final(folder):
    """(step, parameter leaves, last metrics row) of the newest checkpoint."""
    step, state, _, _ = checkpoint.read_raw(str(folder))
    return step, jax.tree.leaves(state["learner"]["params"])


def _assert_same_params(a, b):
    (sa, pa), (sb, pb) = a, b
    assert sa == sb == TOTAL and len(pa) == len(pb)
    for x, y in zip(pa, pb):
        np.testing.assert_array_equal(x, y)  # bitwise: every iteration's keys are fold_in(key, iteration)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run: its final parameters and metrics rows."""
    folder = tmp_path_factory.mktemp("reference")
    train.run(_cfg(folder))
    with open(folder / "metrics.jsonl") as f:
        rows = [json.loads(line) for line in f]
    return folder, _final(folder), rows


def _copy(reference, tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(reference[0], dst)
    return dst


# Kill -9 from inside the process at a chosen point (a subprocess, so the kill is real).
_DRIVER = r"""
import json, os, signal, sys
from experiments import train
from mtjax import run_logger
from orbax.checkpoint._src.path import async_path

cfg, mode, k = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
if mode == "during_save":  # step k's files are written, orbax's commit (tmp dir -> k) is not
    real_rename = async_path.rename
    async def rename(src, dst):
        if dst.name == str(k):
            die()
        return await real_rename(src, dst)
    async_path.rename = rename
else:  # iteration k is logged, its chunk is not checkpointed
    real_log = run_logger.RunLogger.log_chunk
    def log_chunk(self, *args):
        rec = real_log(self, *args)
        if rec["iteration"] >= k:
            die()
        return rec
    run_logger.RunLogger.log_chunk = log_chunk
train.run(cfg)
"""


def _tensorboard_steps(folder, tag="loss/total"):
    """Steps of ``tag`` as TensorBoard shows them: files in order, a SessionLog START at step s hides the events
    at steps >= s read before it (TensorBoard's purge of orphaned data after a restart)."""
    from tensorboardX.proto import event_pb2

    kept = []
    for name in sorted(f for f in os.listdir(folder) if f.startswith("events.out.tfevents")):
        data, pos = (folder / name).read_bytes(), 0
        while pos + 12 <= len(data):  # TFRecord: u64 length, u32 crc, payload, u32 crc
            n = struct.unpack("<Q", data[pos:pos + 8])[0]
            ev = event_pb2.Event.FromString(data[pos + 12:pos + 12 + n])
            pos += 16 + n
            if ev.HasField("session_log") and ev.session_log.status == event_pb2.SessionLog.START:
                kept = [s for s in kept if s < ev.step]
            kept += [ev.step for v in ev.summary.value if v.tag == tag]
    return kept


@pytest.mark.parametrize("mode,k", [("during_save", TOTAL), ("after_log", 6)])
def test_kill_9_then_resume_gives_the_uninterrupted_params_and_log(reference, tmp_path, mode, k):
    folder = tmp_path / "run"
    cfg = _cfg(folder, tensorboard=True)
    p = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(cfg), mode, str(k)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300, check=False)
    assert p.returncode == -9, p.stderr[-2000:]
    assert _iterations(folder)[-1] == k and checkpoint.latest_step(str(folder)) == 4  # logged past checkpoint 4
    train.run(cfg, resume=True)
    assert _iterations(folder) == list(range(1, TOTAL + 1))  # each iteration exactly once
    with open(folder / "metrics.jsonl") as f:
        losses = [json.loads(line)["loss/total"] for line in f]
    assert losses == [r["loss/total"] for r in reference[2]]
    _assert_same_params(_final(folder), reference[1])
    espi = 32 * 8  # env steps per iteration: TensorBoard's x axis
    assert _tensorboard_steps(folder) == [espi * i for i in range(1, TOTAL + 1)]


def _random_bytes(step_dir):
    for root, _, files in os.walk(step_dir / "state"):
        for name in files:
            if os.path.basename(root) == "d":
                size = os.path.getsize(os.path.join(root, name))
                (step_dir / "state" / os.path.relpath(os.path.join(root, name), step_dir / "state")).write_bytes(
                    np.random.default_rng(0).bytes(size))


def _truncated(step_dir):
    for root, _, files in os.walk(step_dir / "state"):
        for name in files:
            if os.path.basename(root) == "d":
                path = os.path.join(root, name)
                os.truncate(path, os.path.getsize(path) // 2)


DAMAGE = {
    "truncated": _truncated,
    "missing_metadata": lambda d: os.remove(d / "state" / "_METADATA"),
    "empty_step_dir": lambda d: (shutil.rmtree(d), os.mkdir(d)),
    "random_bytes": _random_bytes,
    "missing_config": lambda d: shutil.rmtree(d / "config"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_latest_checkpoint_falls_back_with_one_warning_line(reference, tmp_path, capsys, damage):
    folder = _copy(reference, tmp_path)
    DAMAGE[damage](folder / "checkpoints" / str(TOTAL))
    assert analyze_checkpoint.analyze(str(folder))["step"] == 4
    warned = [ln for ln in capsys.readouterr().err.splitlines() if "warning" in ln]
    assert len(warned) == 1 and f"checkpoint step {TOTAL} " in warned[0] and "unreadable" in warned[0]
    train.run(_cfg(folder), resume=True)  # restores 4, sets the damaged 8 aside, trains 5..8 again
    err = capsys.readouterr().err
    assert f"moved damaged checkpoint step(s) [{TOTAL}]" in err
    assert os.listdir(folder / "damaged_checkpoints") == [str(TOTAL)]
    assert _iterations(folder) == list(range(1, TOTAL + 1))
    _assert_same_params(_final(folder), reference[1])


def test_evaluate_uses_the_previous_checkpoint_and_no_readable_one_is_one_clear_error(reference, tmp_path, capsys):
    folder = _copy(reference, tmp_path)
    _random_bytes(folder / "checkpoints" / str(TOTAL))
    res = evaluate.evaluate(str(folder), episodes=1, max_steps=5)
    assert set(res) == {f"point-{i}" for i in range(4)}
    assert f"checkpoint step {TOTAL} " in capsys.readouterr().err
    _random_bytes(folder / "checkpoints" / "4")
    with pytest.raises(checkpoint.CheckpointError, match=r"no readable checkpoint in .* \(damaged steps: \[8, 4\]\)"):
        checkpoint.restore_raw(str(folder))
    p = subprocess.run([sys.executable, "-m", "experiments.analyze_checkpoint", f"--run_dir={folder}"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300, check=False)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith("error: no readable checkpoint")
    with pytest.raises(ValueError, match="episodes per task must be >= 1, got 0"):
        evaluate.evaluate(str(folder), episodes=0)


def test_a_second_writer_is_refused_and_a_dead_writers_lock_is_taken_over(reference, tmp_path, capsys):
    folder = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import sys, time\nfrom mtjax.run_dir import run_lock\nwith run_lock(sys.argv[1]):\n"
                                "    print('locked', flush=True)\n    time.sleep(300)"), str(folder)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(run_dir.RunDirError, match=f"in use by process {holder.pid}"):
            train.run(_cfg(folder))
        assert os.listdir(folder) == ["run.lock"]  # refused before writing anything
    finally:
        holder.kill()  # kill -9: the lock file stays behind, the kernel releases the lock
        holder.wait()
    train.run(_cfg(folder, total=2))
    assert f"taking over the stale lock {folder}/run.lock (process {holder.pid} is gone)" in capsys.readouterr().err
    assert not (folder / "run.lock").exists() and _iterations(folder) == [1, 2]


def test_a_rerun_without_resume_refuses_before_writing_and_overwrite_starts_over(reference, tmp_path):
    folder = _copy(reference, tmp_path)
    before = {name: (folder / name).read_bytes() for name in ("config.json", "metrics.jsonl")}
    with pytest.raises(run_dir.RunDirError, match="already holds a run .* --resume .* --overwrite"):
        train.run(_cfg(folder, seed=5))
    assert all((folder / name).read_bytes() == b for name, b in before.items())
    train.run(_cfg(folder, total=2, seed=5), overwrite=True)
    assert json.loads((folder / "config.json").read_text())["seed"] == 5 and _iterations(folder) == [1, 2]
    assert sorted(os.listdir(folder / "checkpoints")) == ["2"]


def test_resume_refuses_a_changed_computation_naming_the_keys(reference, tmp_path):
    folder = _copy(reference, tmp_path)
    before = (folder / "config.json").read_text()
    cfg = _cfg(folder, total=10, seed=99, mtrl="pcgrad", ppo_horizon=4)
    cfg["env"]["num_envs"] = 64
    cfg["ppo"]["minibatch_size"] = 128
    cfg["net"]["actor_kwargs"] = {"hidden": [32]}
    with pytest.raises(run_dir.RunDirError) as e:
        train.run(cfg, resume=True)
    for change in ("env.num_envs: 32 -> 64", "mtrl: 'mean' -> 'pcgrad'", "net.actor_kwargs.hidden: [64, 64] -> [32]",
                   "ppo.horizon: 8 -> 4", "seed: 42 -> 99"):
        assert change in str(e.value)
    assert "total_iterations" not in str(e.value).split(". Only")[0]  # a longer budget is allowed
    assert (folder / "config.json").read_text() == before


def test_resuming_a_complete_run_writes_nothing(reference, tmp_path, capsys):
    folder = _copy(reference, tmp_path)
    listing = sorted(os.listdir(folder))
    assert train.run(_cfg(folder, tensorboard=True), resume=True) == {"iteration": TOTAL}
    assert "already complete at iteration 8" in capsys.readouterr().out
    assert sorted(os.listdir(folder)) == listing  # no new events file, no rewritten config


def test_divergence_guard_keeps_a_resumable_checkpoint_and_a_new_lr_is_applied(tmp_path, capsys):
    folder = tmp_path / "run"
    train.run(_cfg(folder, total=2))
    with pytest.raises(run_loop.NonFiniteError, match=r"diverged at iteration 3: \|loss/total\| > max_abs_loss"):
        train.run(_cfg(folder, total=6, ppo_lr=10.0), resume=True)  # lr 10 takes the loss to ~1e12 at once
    assert "resume: ppo.lr 0.001 -> 10.0" in capsys.readouterr().err  # applied to the restored learner...
    assert json.loads((folder / "config.json").read_text())["ppo"]["lr"] == 10.0  # ...and recorded
    assert checkpoint.latest_step(str(folder)) == 2 and _iterations(folder) == [1, 2]  # nothing kept from it
    _, state, _, _ = checkpoint.read_raw(str(folder))
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(state["learner"]))
    train.run(_cfg(folder, total=5), resume=True)  # lr 1e-3 as in checkpoint 2; chunks 3-4 and a last one of 1
    assert _iterations(folder) == [1, 2, 3, 4, 5] and checkpoint.latest_step(str(folder)) == 5
    _, state, cfg, metrics = checkpoint.read_raw(str(folder))
    assert float(state["learner"]["lr"]) == np.float32(1e-3) and cfg["ppo"]["lr"] == 1e-3
    assert abs(metrics["loss/total"]) < 1e3


def test_the_guard_watches_the_learner_state_too(tmp_path):
    ckpt = checkpoint.Checkpointer(str(tmp_path))
    m = {"loss/total": np.array([1.0, 2.0]), "grad_norm": np.array([1.0, 1.0]), "nonfinite": np.array([False, False])}
    finite = type("S", (), {"learner": {"value_stats": {"var": np.array([1.0, 2.0])}}})()
    run_loop._check_diverged(finite, m, 10, 1e6, ckpt)  # finite and small: no error
    inf_var = type("S", (), {"learner": {"value_stats": {"var": np.array([1.0, np.inf])}}})()
    with pytest.raises(run_loop.NonFiniteError, match="iteration 12: a non-finite learner state"):
        run_loop._check_diverged(inf_var, m, 10, 1e6, ckpt)
    with pytest.raises(run_loop.NonFiniteError, match=r"iteration 12: \|loss/total\| > max_abs_loss=1.5"):
        run_loop._check_diverged(finite, m, 10, 1.5, ckpt)  # |2.0| > 1.5 at the chunk's 2nd iteration
    ckpt.close()


def test_metrics_truncation_drops_rows_after_the_checkpoint_and_torn_lines(tmp_path):
    rows = [json.dumps({"iteration": i}) + "\n" for i in range(1, 7)]
    (tmp_path / "metrics.jsonl").write_text("".join(rows) + '{"iteration": 7, "succ')
    assert run_dir.truncate_metrics(str(tmp_path), 4) == 3  # rows 5, 6 and the torn line
    assert _iterations(tmp_path) == [1, 2, 3, 4]
    assert run_dir.truncate_metrics(str(tmp_path), 4) == 0


def test_first_contact_progress_line_and_a_single_point_plot(tmp_path, capsys):
    from matplotlib import image

    from mtjax import run_logger

    logger = run_logger.RunLogger(str(tmp_path), ("a",), 1, 10, tensorboard=False)
    nan = np.array([np.nan])
    logger.log_chunk(0, {"success": nan, "return": nan}, 1.0)
    logger.close()
    assert "success - (no episode finished yet) | return -" in capsys.readouterr().out  # not "nan"

    def dark_pixels(success):
        (tmp_path / "metrics.jsonl").write_text(json.dumps({"iteration": 1, "env_steps": 10, "success": success}))
        img = image.imread(run_logger.plot_task_success(str(tmp_path), ()))[..., :3]
        h, w = img.shape[:2]
        centre = img[int(0.4 * h):int(0.6 * h), int(0.4 * w):int(0.6 * w)]  # the point sits mid-axes
        return int((centre.sum(-1) < 0.5).sum())

    assert dark_pixels(None) == 0 and dark_pixels(0.5) > 5  # one finite point is drawn (a marker), not blank


def test_records_carry_the_devices_peak_memory_where_the_backend_reports_it(tmp_path, monkeypatch):
    """GPU runs log ``device_peak_bytes`` (the MT50 compile/memory numbers need it); the CPU backend reports none."""
    from mtjax import run_logger

    def log_one(folder):
        logger = run_logger.RunLogger(str(folder), ("a",), 1, 10, tensorboard=False, progress=False)
        logger.log_chunk(0, {"success": np.array([0.5])}, 1.0)
        logger.close()
        return json.loads((folder / "metrics.jsonl").read_text())

    monkeypatch.setattr(run_logger, "device_peak_bytes", lambda: None)
    assert "device_peak_bytes" not in log_one(tmp_path / "cpu")
    monkeypatch.setattr(run_logger, "device_peak_bytes", lambda: 4_789 * 2**20)
    assert log_one(tmp_path / "gpu")["device_peak_bytes"] == 4_789 * 2**20


def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_over(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "metrics.jsonl").write_text("".join(json.dumps({"iteration": i}) + "\n" for i in (1, 2, 3)))
    train.run(_cfg(folder, total=2), resume=True)
    assert _iterations(folder) == [1, 2] and checkpoint.latest_step(str(folder)) == 2


def test_resume_may_change_how_the_mjx_physics_is_compiled_but_not_the_physics():
    old = {"env": {"num_envs": 32, "kwargs": {"hand": "arm", "frame_skip": 2}}}
    new = {"env": {"num_envs": 32, "kwargs": {"hand": "arm", "frame_skip": 2, "physics_graphs": 4,
                                              "level_barriers": False}}}
    assert run_dir.resume_diff(old, new) == {"env.kwargs.level_barriers": (None, False),
                                             "env.kwargs.physics_graphs": (None, 4)}
    new["env"]["kwargs"]["frame_skip"] = 1
    with pytest.raises(run_dir.RunDirError, match=r"env\.kwargs\.frame_skip: 2 -> 1"):
        run_dir.resume_diff(old, new)


def test_a_run_written_before_clip_actions_existed_resumes_at_the_value_it_had():
    old = {"ppo": {"lr": 5e-4}}
    assert run_dir.resume_diff(old, {"ppo": {"lr": 5e-4, "clip_actions": True}}) == {}  # every earlier run clipped
    with pytest.raises(run_dir.RunDirError, match=r"ppo\.clip_actions: None -> False"):
        run_dir.resume_diff(old, {"ppo": {"lr": 5e-4, "clip_actions": False}})
    with pytest.raises(run_dir.RunDirError, match=r"ppo\.clip_actions: True -> False"):
        run_dir.resume_diff({"ppo": {"clip_actions": True}}, {"ppo": {"clip_actions": False}})
