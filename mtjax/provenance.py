"""What a run ran on: library versions, devices, the code's git commit and the environment's physics fingerprint.

``experiments.train`` appends one *segment* to ``<run_dir>/provenance.json`` each time a process starts or resumes
the run, so a run continued across machines says which card ran which iterations (e.g. seed 44 of the MT10 table:
iterations 1-480 on an H100, the rest on an H200) and whether the physics stayed the same::

    {"segments": [{"from_iteration": 0, "devices": ["NVIDIA H100 80GB HBM3"], "versions": {...},
                   "git": {"commit": "...", "dirty": false}, "env": {"digest": "3f0c...", ...}}, ...]}

The env part comes from the env's optional ``fingerprint()`` method (``MetaWorldEnv``, ``ParkourEnv``): a digest
of every compiled MuJoCo model (MuJoCo's own binary model format, ``mj_saveModel``: geometry, contact pairs and
parameters, joints, solver settings) and of the env settings that shape the physics, resets and rewards (frame skip,
episode length, reward scale, hand, physics implementation, the reset tables). Two runs with equal digests stepped
the same scenes with the same MuJoCo version; code outside the models (reward functions, observation) is named by
the git commit only. A resume whose env digest differs from the previous segment's is not refused (a fix may be
deliberate) but warned about, and the segment records it.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
from typing import Any

import numpy as np

__all__ = ["FILE", "array_digest", "collect", "digest", "load", "model_digest", "record"]

FILE = "provenance.json"
_DISTRIBUTIONS = ("jax", "jaxlib", "flax", "optax", "chex", "orbax-checkpoint", "numpy", "mujoco", "mujoco-mjx",
                  "warp-lang", "torch")
_DIGITS = 16  # hex digits kept of each sha256 (64 bits: no accidental collision among a project's scenes)


def digest(obj: Any) -> str:
    """sha256 (first 16 hex digits) of a JSON-serialisable object, keys sorted."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:_DIGITS]


def array_digest(*arrays: Any) -> str:
    """sha256 (first 16 hex digits) of arrays' dtypes, shapes and bytes."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a))
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:_DIGITS]


def model_digest(m: Any) -> str:
    """sha256 (first 16 hex digits) of a ``mujoco.MjModel`` in MuJoCo's binary model format."""
    import mujoco  # only envs built on MuJoCo call this

    buf = np.zeros(mujoco.mj_sizeModel(m), np.uint8)
    mujoco.mj_saveModel(m, None, buf)
    return array_digest(buf)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in _DISTRIBUTIONS:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _git(repo: str) -> dict[str, Any]:
    """The checkout's commit and whether tracked files differ from it; None where it is not a git checkout (e.g. a
    device machine that got a copy of the working tree)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()
    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def collect(env: Any = None) -> dict[str, Any]:
    """This process's versions, devices, git commit and ``env.fingerprint()`` (None if the env has none)."""
    import jax  # keeps ``digest`` usable without initialising a backend

    devices = jax.devices()
    fp = getattr(env, "fingerprint", None)
    return {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": platform.node(), "platform": devices[0].platform,
            "devices": [d.device_kind for d in devices], "versions": _versions(),
            "git": _git(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
            "env": fp() if callable(fp) else None}


def load(run_dir: str) -> dict[str, Any]:
    """``<run_dir>/provenance.json`` (``{"segments": []}`` where there is none)."""
    path = os.path.join(run_dir, FILE)
    if not os.path.exists(path):
        return {"segments": []}
    with open(path) as f:
        return json.load(f)


def record(run_dir: str, env: Any, from_iteration: int) -> tuple[dict[str, Any], str | None]:
    """Appends this process's segment (starting after ``from_iteration``) to the run's provenance; drops segments
    that started after it (iterations a resume redoes). Returns the segment and a warning when the env's digest
    differs from the previous segment's (None otherwise)."""
    prov = load(run_dir)
    kept = [s for s in prov["segments"] if s["from_iteration"] <= from_iteration]
    seg = {"from_iteration": int(from_iteration), **collect(env)}
    warning = None
    if kept and kept[-1].get("env") and seg["env"]:
        old, new = kept[-1]["env"].get("digest"), seg["env"].get("digest")
        if old != new:
            warning = (f"the environment's physics fingerprint changed since the previous segment ({old} -> {new}): "
                       f"iterations after {from_iteration} step different scenes or settings than those before")
            seg["env_changed_from"] = old
    prov["segments"] = [*kept, seg]
    os.makedirs(run_dir, exist_ok=True)
    tmp = os.path.join(run_dir, FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(prov, f, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(run_dir, FILE))
    return seg, warning
