"""A run directory's life cycle: one writer at a time, no silent overwrite, logs that match the checkpoints.

A run directory holds ``config.json``, ``metrics.jsonl``, TensorBoard events and ``checkpoints/``
(``docs/runs.md``). The rules:

* ``run_lock``: a second process writing into the same directory is refused. ``run.lock`` is held with
  ``fcntl.flock`` (the kernel drops it when its process dies, even by ``kill -9``) and holds the owner's pid; a
  lock file left by a dead process is taken over with a warning.
* ``check_fresh``: a new run (no ``--resume``) into a directory that already holds a run is refused before
  anything is written, unless ``overwrite`` (then the old run's files are deleted).
* ``resume_diff``: ``--resume`` must not change what the checkpoint was trained with; only ``RESUMABLE_KEYS``
  (budget, chunking, logging, the divergence guard and the learning rate, which the caller applies) may differ.
* ``truncate_metrics``: after a kill, iterations logged after the last checkpoint are run again on resume, so
  ``metrics.jsonl`` is cut back to the restored iteration first (TensorBoard: ``purge_step``, see ``RunLogger``).
* ``quarantine_steps``: damaged checkpoints newer than the restored one move to ``damaged_checkpoints/`` so that
  the resumed run can save those steps again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["RESUMABLE_KEYS", "RunDirError", "check_fresh", "config_diff", "quarantine_steps", "resume_diff",
           "run_lock", "truncate_metrics"]

# Keys (or sections) that may change on --resume: how long the run is, how it is logged, the guard, where the
# IsaacGym simulator runs, how the MJX physics is compiled or implemented (shared graphs, level barriers, MJX-JAX or
# MuJoCo Warp: the same trajectories up to float rounding, like another device), and the learning rate (the caller
# writes the new rate into the restored learner state, so what config.json says is what runs).
RESUMABLE_KEYS = ("total_iterations", "iters_per_call", "checkpoint_every", "tensorboard", "progress", "plot",
                  "run_dir", "max_abs_loss", "isaacgym", "ppo.lr", "num_devices", "env.kwargs.physics_graphs",
                  "env.kwargs.level_barriers", "env.kwargs.physics_impl", "env.kwargs.warp_graph_mode")
# Keys added to the configs after runs were written, with the value every earlier run had: a resume from such a
# run (its config.json lacks the key) may name them at that value (e.g. ppo.clip_actions, session 30).
ADDED_KEYS = {"ppo.clip_actions": True}
RUN_FILES = ("config.json", "metrics.jsonl", "checkpoints", "damaged_checkpoints", "task_success.png",
             "provenance.json")


class RunDirError(RuntimeError):
    """The run directory cannot be used as asked (in use, already holds a run, incompatible resume)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(path: str) -> int:
    try:
        with open(path) as f:
            return int(f.read().strip() or -1)
    except (OSError, ValueError):
        return -1


def _same_file(fd: int, path: str) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _acquire(path: str) -> int:
    """Opens and ``flock``s ``path``; retries when the previous owner removed the file between open and flock."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunDirError(f"run directory {os.path.dirname(path)} is in use by process {_owner(path)} (lock "
                              f"{path}); wait for it to finish or use another run_dir") from None
        if _same_file(fd, path):
            return fd
        os.close(fd)


@contextlib.contextmanager
def run_lock(run_dir: str) -> Iterator[None]:
    """Exclusive use of ``run_dir`` by this process while the context is open (``run_dir/run.lock``, pid inside).

    Raises:
      RunDirError: another live process holds the lock.
    """
    path = os.path.join(run_dir, "run.lock")
    os.makedirs(run_dir or ".", exist_ok=True)
    fd = _acquire(path)
    old = _owner(path)
    if old > 0 and old != os.getpid():
        state = "gone" if not _pid_alive(old) else "alive but not holding it"
        print(f"warning: taking over the stale lock {path} (process {old} is {state})", file=sys.stderr, flush=True)
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    try:
        yield
    finally:
        os.remove(path)  # before unlocking: a waiting opener then sees a different file and retries
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _holds_run(run_dir: str) -> bool:
    ckpt = os.path.join(run_dir, "checkpoints")
    has_ckpt = os.path.isdir(ckpt) and bool(os.listdir(ckpt))
    metrics = os.path.join(run_dir, "metrics.jsonl")
    return has_ckpt or (os.path.exists(metrics) and os.path.getsize(metrics) > 0)


def check_fresh(run_dir: str, overwrite: bool) -> None:
    """Refuses to start a new run over an existing one unless ``overwrite`` (which deletes the old run's files)."""
    if not _holds_run(run_dir):
        return
    if not overwrite:
        raise RunDirError(f"{run_dir} already holds a run (checkpoints or metrics.jsonl); pass --resume to "
                          f"continue it, --overwrite to delete it and start over, or choose another run_dir")
    for name in os.listdir(run_dir):
        if name in RUN_FILES or name.startswith("events.out.tfevents"):
            p = os.path.join(run_dir, name)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    print(f"deleted the previous run's files in {run_dir}", file=sys.stderr, flush=True)


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def config_diff(old: dict, new: dict) -> dict[str, tuple[Any, Any]]:
    """``{dotted key: (old, new)}`` for every leaf that differs (tuples and lists compare equal)."""
    a, b = _flatten(json.loads(json.dumps(old))), _flatten(json.loads(json.dumps(new)))
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def resume_diff(old: dict, new: dict, resumable: tuple[str, ...] = RESUMABLE_KEYS) -> dict[str, tuple[Any, Any]]:
    """The changes of a resume (``config.json`` layout); refuses any outside ``resumable``, naming them.

    Shapes (``env.num_envs``, ``ppo.horizon``, ``sac.buffer_size``, ...), algorithm, method, networks and seed
    define the checkpointed computation: a changed value would be recorded but not used, or would not fit the saved
    arrays (an off-policy checkpoint holds the replay). Off-policy runs pass ``RESUMABLE_KEYS`` without ``ppo.lr``.

    Returns:
      the allowed changes ``{key: (old, new)}``.
    Raises:
      RunDirError: a change outside ``RESUMABLE_KEYS``.
    """
    diff = {k: v for k, v in config_diff(old, new).items() if not (k in ADDED_KEYS and v == (None, ADDED_KEYS[k]))}
    bad = {k: v for k, v in diff.items() if not any(k == r or k.startswith(r + ".") for r in resumable)}
    if bad:
        lines = "; ".join(f"{k}: {o!r} -> {n!r}" for k, (o, n) in bad.items())
        raise RunDirError(f"--resume with a different config: {lines}. Only {', '.join(resumable)} may change "
                          f"on resume; start a new run (another run_dir) to change the others")
    return diff


def _iteration_of(line: str) -> int | None:
    try:
        return int(json.loads(line)["iteration"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None  # a line torn by a kill during the write


def truncate_metrics(run_dir: str, iteration: int) -> int:
    """Drops ``metrics.jsonl`` rows after ``iteration`` and torn lines (atomically); returns how many were dropped."""
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        lines = [ln if ln.endswith("\n") else ln + "\n" for ln in f if ln.strip()]
    its = [_iteration_of(ln) for ln in lines]
    keep = [ln for ln, it in zip(lines, its) if it is not None and it <= iteration]
    if len(keep) == len(lines):
        return 0
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(keep)
    os.replace(tmp, path)
    return len(lines) - len(keep)


def quarantine_steps(run_dir: str, after: int) -> list[int]:
    """Moves checkpoint steps newer than ``after`` (and orbax's leftover temporary folders) out of
    ``checkpoints/`` into ``damaged_checkpoints/``; returns the moved steps."""
    src, dst = os.path.join(run_dir, "checkpoints"), os.path.join(run_dir, "damaged_checkpoints")
    moved = []
    for name in sorted(os.listdir(src)) if os.path.isdir(src) else []:
        step = name.split(".")[0]
        if step.isdigit() and (int(step) > after or not name.isdigit()):
            os.makedirs(dst, exist_ok=True)
            target = os.path.join(dst, name)
            shutil.rmtree(target, ignore_errors=True)
            shutil.move(os.path.join(src, name), target)
            moved += [int(step)] if name.isdigit() else []
    return moved
